"""Sign-in settings from the environment (`AIPRISM_OIDC_*`, `AIPRISM_SESSION_*`), every problem listed.

Read by server/hosted.py beside the other hosted settings, so a mistake stops the service at start
with one line per variable instead of failing at the first sign-in.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import urlsplit

from server.auth.identity import ROLES

MIN_SECRET_LENGTH = 32
DEFAULT_SESSION_HOURS = 8
DEFAULT_IDLE_MINUTES = 60
MAX_SESSION_HOURS = 24 * 7


@dataclass(frozen=True)
class OIDCSettings:
    issuer: str  # as the provider's discovery document names itself, without a trailing slash
    client_id: str
    client_secret: str  # "" for a public client (PKCE alone)
    session_secret: str  # signs the session cookie; the same in every worker and instance
    allowed_domains: tuple[str, ...]  # e-mail domains, lower case
    groups_claim: str = "groups"
    admin_groups: tuple[str, ...] = ()
    reviewer_groups: tuple[str, ...] = ()
    viewer_groups: tuple[str, ...] = ()
    default_role: str | None = "viewer"  # None: a user in none of the groups is refused
    session_lifetime: timedelta = timedelta(hours=DEFAULT_SESSION_HOURS)  # absolute
    session_idle: timedelta = timedelta(minutes=DEFAULT_IDLE_MINUTES)

    @property
    def metadata_url(self) -> str:
        return f"{self.issuer}/.well-known/openid-configuration"

    def __repr__(self) -> str:  # never print the secrets
        return f"OIDCSettings(issuer={self.issuer!r}, client_id={self.client_id!r})"


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def oidc_settings(env: Mapping[str, str], problems: list[str]) -> OIDCSettings | None:
    """The settings when AIPRISM_AUTH is oidc (the default once AIPRISM_OIDC_ISSUER is set)."""
    issuer = env.get("AIPRISM_OIDC_ISSUER", "").strip().rstrip("/")
    parts = urlsplit(issuer)
    if not issuer:
        problems.append(
            "AIPRISM_OIDC_ISSUER is not set: the provider's issuer URL, such as "
            "https://cognito-idp.<region>.amazonaws.com/<pool-id> or "
            "https://login.microsoftonline.com/<tenant-id>/v2.0."
        )
    elif parts.scheme not in ("https", "http") or not parts.hostname:
        problems.append(f"AIPRISM_OIDC_ISSUER must be an https:// URL, not {issuer!r}.")
    elif parts.scheme == "http" and not is_loopback(parts.hostname):
        problems.append(
            "AIPRISM_OIDC_ISSUER must use https://; http:// is accepted on loopback addresses only."
        )
    elif parts.query or parts.fragment:
        problems.append("AIPRISM_OIDC_ISSUER must not have a query or fragment.")
    client_id = env.get("AIPRISM_OIDC_CLIENT_ID", "").strip()
    if not client_id:
        problems.append("AIPRISM_OIDC_CLIENT_ID is not set: the app client's id at the provider.")
    secret = env.get("AIPRISM_SESSION_SECRET", "").strip()
    if len(secret) < MIN_SECRET_LENGTH:
        problems.append(
            f"AIPRISM_SESSION_SECRET must be a random secret of at least {MIN_SECRET_LENGTH} "
            "characters, the same for every instance (it signs the session cookie): "
            "python -c 'import secrets; print(secrets.token_urlsafe(48))'."
        )
    domains = _names(env.get("AIPRISM_OIDC_ALLOWED_DOMAINS", ""), lower=True)
    if not domains:
        problems.append(
            "AIPRISM_OIDC_ALLOWED_DOMAINS is not set: the e-mail domains whose people may sign "
            "in, comma-separated (example.com,example.co.uk)."
        )
    elif bad := [d for d in domains if "@" in d or "." not in d or " " in d]:
        problems.append(f"AIPRISM_OIDC_ALLOWED_DOMAINS has entries that are not domains: {bad}.")
    default = env.get("AIPRISM_OIDC_DEFAULT_ROLE", "viewer").strip().lower() or "viewer"
    if default not in (*ROLES, "none"):
        problems.append(
            f"AIPRISM_OIDC_DEFAULT_ROLE must be one of {', '.join(ROLES)} or none, not {default!r}."
        )
        default = "none"
    return OIDCSettings(
        issuer=issuer,
        client_id=client_id,
        client_secret=env.get("AIPRISM_OIDC_CLIENT_SECRET", "").strip(),
        session_secret=secret,
        allowed_domains=domains,
        groups_claim=env.get("AIPRISM_OIDC_GROUPS_CLAIM", "").strip() or "groups",
        admin_groups=_names(env.get("AIPRISM_OIDC_ADMIN_GROUPS", "")),
        reviewer_groups=_names(env.get("AIPRISM_OIDC_REVIEWER_GROUPS", "")),
        viewer_groups=_names(env.get("AIPRISM_OIDC_VIEWER_GROUPS", "")),
        default_role=None if default == "none" else default,
        session_lifetime=timedelta(
            hours=_whole(
                env, "AIPRISM_SESSION_HOURS", DEFAULT_SESSION_HOURS, MAX_SESSION_HOURS, problems
            )
        ),
        session_idle=timedelta(
            minutes=_whole(
                env, "AIPRISM_SESSION_IDLE_MINUTES", DEFAULT_IDLE_MINUTES, 24 * 60, problems
            )
        ),
    )


def _names(raw: str, lower: bool = False) -> tuple[str, ...]:
    names = (n.strip() for n in raw.split(","))
    return tuple(n.lower() if lower else n for n in names if n)


def _whole(env: Mapping[str, str], name: str, default: int, most: int, problems: list[str]) -> int:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    if not raw.isdigit() or not 1 <= int(raw) <= most:
        problems.append(f"{name} must be a whole number from 1 to {most}, not {raw!r}.")
        return default
    return int(raw)
