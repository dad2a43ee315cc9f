"""From the provider's claims to a person and a role, or a refusal that says why."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from server.auth.config import OIDCSettings
from server.auth.identity import Actor
from server.errors import AIPrismError


class SignInRefused(AIPrismError):
    """The provider vouched for someone this service does not admit (or the exchange failed)."""

    code = "sign_in_refused"
    http_status = 403


def person(claims: Mapping[str, Any], settings: OIDCSettings) -> tuple[Actor, str]:
    """The actor and role for validated ID-token claims; SignInRefused when not admitted."""
    email = str(claims.get("email") or "").strip()
    domain = email.rpartition("@")[2].lower() if "@" in email else ""
    if not domain or domain not in settings.allowed_domains:
        raise SignInRefused(
            "This account's e-mail address is not in a domain allowed to use AI-Prism."
        )
    if claims.get("email_verified") is False:
        raise SignInRefused("The provider says this account's e-mail address is not verified.")
    role = role_for(claims.get(settings.groups_claim), settings)
    if role is None:
        raise SignInRefused(
            "This account is in none of the groups allowed to use AI-Prism; ask an administrator."
        )
    name = str(claims.get("name") or "").strip()
    if not name:
        name = " ".join(
            str(claims.get(part) or "").strip() for part in ("given_name", "family_name")
        ).strip()
    return Actor(sub=str(claims["sub"]), name=name or email, email=email), role


def role_for(groups: Any, settings: OIDCSettings) -> str | None:
    """The highest role any of the person's groups grants, else the default role."""
    if isinstance(groups, str):
        groups = [groups]  # some providers send a single group as a string
    member = {str(g) for g in groups} if isinstance(groups, list) else set()
    for role, granting in (
        ("admin", settings.admin_groups),
        ("reviewer", settings.reviewer_groups),
        ("viewer", settings.viewer_groups),
    ):
        if member & set(granting):
            return role
    return settings.default_role
