"""Every route of the app, walked with each role: the role table in server/auth/policy.py is
checked against what the issue asks of each role, and against the app's own url_map, so a route
added later cannot be forgotten."""

from __future__ import annotations

import re

import pytest

from server.auth import tokens
from server.auth.config import OIDCSettings
from server.auth.identity import ROLES, Actor, Identity
from server.auth.policy import PUBLIC, ROUTE_ROLES
from server.settings import Settings
from server.web import create_app

# What each role may do, as the issue puts it: viewers read; reviewers upload, decide, chat and
# complete; admins delete, change settings and mute rules. Reading is any GET except these:
ADMIN_READS = {"ai_settings.local"}  # asks this machine's ports: settings, not reading
# Changes anyone signed in makes to their own session and tokens:
OWN_CHANGES = {"signin.logout", "tokens.create", "tokens.revoke"}
REVIEWING = {
    "api.create_review",
    "api.new_version",
    "api.retry",
    "api.decide",
    "api.add_finding",
    "api.chat",
    "api.complete",
}
PUBLIC_ROUTES = {
    "static",
    "pages.static",
    "health",
    "ready",
    "signin.login",
    "signin.callback",
    "signin.signed_out",
}


def expected_role(endpoint: str, methods: set[str]) -> str:
    if endpoint in PUBLIC_ROUTES:
        return PUBLIC
    if endpoint in OWN_CHANGES:
        return "viewer"
    if methods <= {"GET"}:
        return "admin" if endpoint in ADMIN_READS else "viewer"
    return "reviewer" if endpoint in REVIEWING else "admin"


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    oidc = OIDCSettings(
        issuer="http://127.0.0.1:9",  # nothing listens: the walk signs in with personal tokens
        client_id="walk",
        client_secret="",
        session_secret="w" * 40,
        allowed_domains=("example.com",),
    )
    settings = Settings(
        data_dir=tmp_path_factory.mktemp("roles"), token=None, hosted=True, oidc=oidc
    )
    app = create_app(settings)
    yield app
    app.extensions["aiprism_jobs"].shutdown()


@pytest.fixture(scope="module")
def bearer(app) -> dict[str, dict[str, str]]:
    store = app.config["SERVICE"].store
    headers = {}
    for role in ROLES:
        who = Identity(
            Actor(f"{role}-sub", f"{role.title()} Person", f"{role}@example.com"), role, "session"
        )
        token, _ = tokens.create(store, who, f"walk as {role}", 1)
        headers[role] = {"Authorization": f"Bearer {token}"}
    return headers


def routes(app) -> list[tuple[str, str, str]]:
    """(endpoint, method, a URL for it) for every rule of the app."""
    found = []
    for rule in app.url_map.iter_rules():
        url = re.sub(r"<(?:[^:>]+:)?([^>]+)>", lambda m: f"walk-{m.group(1)}", rule.rule)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            found.append((rule.endpoint, method, url))
    return found


def test_the_policy_lists_every_route_with_the_role_the_issue_gives_it(app):
    methods: dict[str, set[str]] = {}
    for endpoint, method, _ in routes(app):
        methods.setdefault(endpoint, set()).add(method)
    missing = sorted(set(methods) - set(ROUTE_ROLES))
    assert missing == [], f"routes without a role in server/auth/policy.py: {missing}"
    wrong = {
        e: (ROUTE_ROLES[e], expected_role(e, m))
        for e, m in methods.items()
        if ROUTE_ROLES[e] != expected_role(e, m)
    }
    assert wrong == {}
    assert sorted(set(ROUTE_ROLES) - set(methods)) == []  # no stale entries


@pytest.mark.parametrize("role", ROLES)
def test_every_route_refuses_the_roles_below_its_own_and_admits_the_rest(app, bearer, role):
    client = app.test_client()
    wrongly = []
    for endpoint, method, url in routes(app):
        needed = ROUTE_ROLES.get(endpoint, "admin")
        response = client.open(url, method=method, headers=bearer[role], json={})
        refused = (
            response.status_code == 403
            and (response.get_json(silent=True) or {}).get("error", {}).get("code") == "forbidden"
        )
        should_refuse = needed != PUBLIC and ROLES.index(role) < ROLES.index(needed)
        if refused != should_refuse:
            wrongly.append((method, url, needed, response.status_code))
    assert wrongly == []


def test_without_credentials_only_public_routes_answer(app):
    client = app.test_client()
    for endpoint, method, url in routes(app):
        response = client.open(url, method=method, json={})
        if ROUTE_ROLES.get(endpoint) == PUBLIC:
            assert response.status_code not in (401, 403), url
        elif url.startswith("/api/") or method != "GET":
            assert response.status_code == 401, (method, url)
        else:
            assert response.status_code == 303 and "/auth/login" in response.headers["Location"]


def test_an_unreachable_provider_gives_a_page_that_says_so(app):
    response = app.test_client().get("/auth/login")
    assert response.status_code == 502
    assert "cannot be reached" in response.get_data(as_text=True)
