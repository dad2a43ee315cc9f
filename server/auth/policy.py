"""The role each route needs. Every endpoint of the app is listed; a test walks them all.

viewer reads; reviewer uploads, decides, chats and completes; admin deletes, changes settings and
mutes rules. An endpoint missing here is refused to all but admins (and the test names it).
"""

from __future__ import annotations

PUBLIC = "public"

ROUTE_ROLES: dict[str, str] = {
    # no sign-in: health checks, static files, the sign-in round trip itself
    "static": PUBLIC,
    "pages.static": PUBLIC,
    "health": PUBLIC,
    "ready": PUBLIC,
    "signin.login": PUBLIC,
    "signin.callback": PUBLIC,
    "signin.signed_out": PUBLIC,
    # reading
    "pages.home": "viewer",
    "pages.review": "viewer",
    "pages.history": "viewer",
    "pages.history_rows": "viewer",
    "pages.diff": "viewer",
    "pages.stats": "viewer",
    "settings.page": "viewer",
    "settings.read": "viewer",
    "api.list_reviews": "viewer",
    "api.get_review": "viewer",
    "api.progress": "viewer",
    "api.export": "viewer",
    "api.diff": "viewer",
    "api.events": "viewer",
    "api.stats": "viewer",
    "api.frameworks": "viewer",
    "api.guidelines": "viewer",
    # one's own session and tokens
    "signin.logout": "viewer",
    "signin.me": "viewer",
    "tokens.page": "viewer",
    "tokens.create": "viewer",
    "tokens.revoke": "viewer",
    # reviewing
    "api.create_review": "reviewer",
    "api.new_version": "reviewer",
    "api.retry": "reviewer",
    "api.decide": "reviewer",
    "api.add_finding": "reviewer",
    "api.chat": "reviewer",
    "api.complete": "reviewer",
    # administering
    "api.delete_review": "admin",
    "api.mute_rule": "admin",
    "api.attach_guidelines": "admin",
    "api.detach_guidelines": "admin",
    "settings.write": "admin",
    "ai_settings.test_connection": "admin",
    "ai_settings.models": "admin",
    "ai_settings.local": "admin",
}


def required_role(endpoint: str | None) -> str:
    """The role an endpoint needs; admin for one nobody listed (a 404 has no endpoint: viewer)."""
    if endpoint is None:
        return "viewer"
    return ROUTE_ROLES.get(endpoint, "admin")
