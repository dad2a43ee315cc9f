"""Sign-in through a real OpenID provider (oidc-provider-mock on 127.0.0.1), role by role.

The app is the real Flask app with the hosted sign-in on; the test client plays the browser and
`requests` submits the provider's login form, so every step of the authorization-code flow
(discovery, PKCE, state, nonce, the code exchange, the ID token's checks) runs for real.
"""

from __future__ import annotations

import csv
import io
import json
import logging
import re
import time
from datetime import timedelta
from urllib.parse import quote, urlsplit

import docx
import pytest

from server.auth import tokens
from server.auth.config import OIDCSettings
from server.auth.identity import Actor, Identity
from server.samples import messy_investigation_docx
from server.settings import Settings
from server.web import create_app
from tests.oidc_provider import TAMPERS, Provider, query, running_provider

CLIENT_ID = "aiprism-tests"
PEOPLE = {
    "ann": {"email": "ann@example.com", "name": "Ann Reviewer", "groups": ["prism-reviewers"]},
    "ada": {"email": "ada@example.com", "name": "Ada Admin", "groups": ["prism-admins", "x"]},
    "vic": {"email": "vic@example.com", "name": "Vic Viewer", "groups": ["prism-viewers"]},
    "nog": {"email": "nog@example.com", "name": "No Group"},
    "out": {"email": "out@elsewhere.org", "name": "Out Sider", "groups": ["prism-admins"]},
}
CSRF_META = re.compile(r'<meta name="csrf-token" content="([^"]*)"')


@pytest.fixture(scope="module")
def provider():
    with running_provider() as running:
        for sub, claims in PEOPLE.items():
            running.set_user(sub, **claims)
        yield running


def oidc(provider: Provider, **overrides) -> OIDCSettings:
    values = dict(
        issuer=provider.issuer,
        client_id=CLIENT_ID,
        client_secret="client-secret-for-tests",
        session_secret="s" * 48,
        allowed_domains=("example.com",),
        admin_groups=("prism-admins",),
        reviewer_groups=("prism-reviewers",),
        viewer_groups=("prism-viewers",),
    )
    return OIDCSettings(**{**values, **overrides})


def make_app(tmp_path, provider: Provider, **overrides):
    settings = Settings(
        data_dir=tmp_path, token=None, hosted=True, oidc=oidc(provider, **overrides)
    )
    return create_app(settings)


@pytest.fixture
def app(tmp_path, provider):
    app = make_app(tmp_path, provider)
    yield app
    app.extensions["aiprism_jobs"].shutdown()


@pytest.fixture(autouse=True)
def _honest_provider(provider):
    provider.tamper = None
    yield
    provider.tamper = None


def start(client, next_path: str | None = None):
    """The app's redirect to the provider: (authorize URL, its query)."""
    target = "/auth/login" + (f"?next={quote(next_path, safe='')}" if next_path else "")
    response = client.get(target)
    assert response.status_code == 302, response.data
    return response.headers["Location"], query(response.headers["Location"])


def come_back(client, location: str):
    parts = urlsplit(location)
    return client.get(f"{parts.path}?{parts.query}")


def sign_in(client, provider: Provider, sub: str, next_path: str | None = None):
    authorize, _ = start(client, next_path)
    return come_back(client, provider.sign_in(authorize, sub))


def me(client) -> dict | None:
    response = client.get("/auth/me")
    return response.get_json() if response.status_code == 200 else None


def csrf(client) -> str:
    return CSRF_META.search(client.get("/history").get_data(as_text=True)).group(1)


def done_review(app, client) -> dict:
    token = csrf(client)
    response = client.post(
        "/api/v1/reviews",
        data={"file": (io.BytesIO(messy_investigation_docx()), "write-up.docx")},
        headers={"X-CSRF-Token": token},
    )
    assert response.status_code == 202, response.data
    review_id = response.get_json()["id"]
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        review = client.get(f"/api/v1/reviews/{review_id}").get_json()
        if review["status"] in ("done", "failed"):
            assert review["status"] == "done", review
            return review
        time.sleep(0.1)
    raise TimeoutError(review_id)


# --- the flow ------------------------------------------------------------------------------------


def test_a_page_without_a_session_goes_to_the_provider_with_pkce_state_and_nonce(app):
    client = app.test_client()
    page = client.get("/history?x=1")
    assert page.status_code == 303
    assert page.headers["Location"] == "/auth/login?next=/history?x%3D1"
    authorize, params = start(client, "/history")
    assert authorize.startswith(app.config["SETTINGS"].oidc.issuer + "/oauth2/authorize?")
    assert params["response_type"] == "code" and params["client_id"] == CLIENT_ID
    assert params["code_challenge_method"] == "S256" and len(params["code_challenge"]) == 43
    assert len(params["state"]) >= 20 and len(params["nonce"]) >= 20
    assert set(params["scope"].split()) == {"openid", "email", "profile"}


def test_an_api_call_without_a_session_answers_401_json(app):
    response = app.test_client().get("/api/v1/reviews")
    assert response.status_code == 401
    assert response.get_json()["error"]["code"] == "unauthorised"


def test_signing_in_returns_to_the_page_and_sets_a_signed_httponly_lax_cookie(app, provider):
    client = app.test_client()
    back = sign_in(client, provider, "ann", "/history")
    assert back.status_code == 303 and back.headers["Location"] == "/history"
    cookie = next(h for h in back.headers.getlist("Set-Cookie") if h.startswith("aiprism_signin="))
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert "Secure" not in cookie  # plain HTTP here; over HTTPS it is Secure (next test)
    assert me(client) == {
        "actor": {"sub": "ann", "name": "Ann Reviewer", "email": "ann@example.com"},
        "role": "reviewer",
        "method": "session",
    }
    page = client.get("/history").get_data(as_text=True)
    assert "Ann Reviewer" in page and 'id="sign-out"' in page


def test_over_https_the_session_cookie_is_secure(app, provider):
    client = app.test_client()
    authorize, _ = start(client)
    location = urlsplit(provider.sign_in(authorize, "ann"))
    back = client.get(f"{location.path}?{location.query}", base_url="https://localhost")
    cookie = next(h for h in back.headers.getlist("Set-Cookie") if h.startswith("aiprism_signin="))
    assert "Secure" in cookie


@pytest.mark.parametrize(
    ("sub", "role"), [("ada", "admin"), ("ann", "reviewer"), ("vic", "viewer"), ("nog", "viewer")]
)
def test_groups_in_the_claims_give_the_role(app, provider, sub, role):
    client = app.test_client()
    sign_in(client, provider, sub)
    assert me(client)["role"] == role


def test_with_default_role_none_a_person_in_no_group_is_refused(tmp_path, provider):
    app = make_app(tmp_path, provider, default_role=None)
    client = app.test_client()
    refused = sign_in(client, provider, "nog")
    assert refused.status_code == 403 and "none of the groups" in refused.get_data(as_text=True)
    assert me(client) is None
    assert sign_in(client, provider, "vic").status_code == 303
    app.extensions["aiprism_jobs"].shutdown()


def test_an_email_domain_not_allowed_is_refused(app, provider):
    client = app.test_client()
    refused = sign_in(client, provider, "out")
    assert refused.status_code == 403 and "not in a domain" in refused.get_data(as_text=True)
    assert me(client) is None


def test_sign_out_ends_the_session(app, provider):
    client = app.test_client()
    sign_in(client, provider, "ann")
    token = csrf(client)
    assert client.post("/auth/logout").status_code == 403  # without the CSRF token: refused
    out = client.post("/auth/logout", data={"csrf_token": token})
    assert out.status_code == 303 and out.headers["Location"] == "/auth/signed-out"
    assert me(client) is None
    assert client.get("/auth/signed-out").status_code == 200


def test_the_session_ends_after_the_idle_time(tmp_path, provider):
    app = make_app(tmp_path, provider, session_idle=timedelta(seconds=2))
    client = app.test_client()
    sign_in(client, provider, "ann")
    assert me(client) is not None
    time.sleep(2.5)
    response = client.get("/api/v1/reviews")
    assert response.status_code == 401
    assert response.get_json()["error"]["code"] == "session_expired"
    app.extensions["aiprism_jobs"].shutdown()


def test_the_session_ends_after_its_lifetime_even_when_in_use(tmp_path, provider):
    app = make_app(
        tmp_path, provider, session_lifetime=timedelta(seconds=3), session_idle=timedelta(hours=1)
    )
    client = app.test_client()
    sign_in(client, provider, "ann")
    deadline = time.monotonic() + 10
    while me(client) is not None and time.monotonic() < deadline:
        time.sleep(0.5)  # in use all along: only the absolute limit can end it
    assert me(client) is None
    assert client.get("/history").status_code == 303
    app.extensions["aiprism_jobs"].shutdown()


# --- refusals ------------------------------------------------------------------------------------


@pytest.mark.parametrize("how", TAMPERS)
def test_an_id_token_that_fails_a_check_is_refused(app, provider, how, caplog):
    """Wrong issuer, wrong audience, expired, a foreign signature, alg none: no session."""
    client = app.test_client()
    provider.tamper = how
    with caplog.at_level(logging.WARNING, logger="aiprism.refusals"):
        refused = sign_in(client, provider, "ann")
    assert refused.status_code == 401
    assert "could not be verified" in refused.get_data(as_text=True)
    assert me(client) is None
    lines = [json.loads(r.getMessage()) for r in caplog.records if r.name == "aiprism.refusals"]
    assert any(line["why"] == "sign_in_failed" for line in lines)


def test_the_untampered_provider_signs_in(app, provider):
    """The control for the refusals above: the same steps without tampering succeed."""
    client = app.test_client()
    assert sign_in(client, provider, "ann").status_code == 303
    assert me(client)["role"] == "reviewer"


def test_a_replayed_authorization_code_is_refused(app, provider):
    client = app.test_client()
    authorize, _ = start(client)
    back = provider.sign_in(authorize, "ann")
    assert come_back(client, back).status_code == 303
    client.post("/auth/logout", data={"csrf_token": csrf(client)})
    # the same redirect again: its state was used up
    assert come_back(client, back).status_code == 401
    # the old code with a fresh, valid state: the provider refuses the code
    _, fresh = start(client)
    old = query(back)
    assert (
        client.get(f"/auth/callback?code={old['code']}&state={fresh['state']}").status_code == 401
    )
    assert me(client) is None


def test_a_missing_or_wrong_state_is_refused(app, provider):
    client = app.test_client()
    authorize, _ = start(client)
    code = query(provider.sign_in(authorize, "ann"))["code"]
    assert client.get(f"/auth/callback?code={code}").status_code == 401
    assert client.get(f"/auth/callback?code={code}&state=forged-state-value").status_code == 401
    assert me(client) is None


def test_a_login_started_in_another_browser_cannot_be_finished_in_this_one(app, provider):
    """Login CSRF: an attacker's callback URL carries a state this browser never had."""
    attacker, victim = app.test_client(), app.test_client()
    authorize, _ = start(attacker)
    assert come_back(victim, provider.sign_in(authorize, "ada")).status_code == 401
    assert me(victim) is None


@pytest.mark.parametrize(
    "target",
    ["https://evil.example/", "//evil.example/x", "/\\evil.example", "http:/evil", "javascript:1"],
)
def test_a_next_that_leaves_the_site_is_replaced_by_home(app, provider, target, caplog):
    client = app.test_client()
    with caplog.at_level(logging.WARNING, logger="aiprism.refusals"):
        back = sign_in(client, provider, "ann", target)
    assert back.status_code == 303 and back.headers["Location"] == "/"
    assert any("open_redirect" in r.getMessage() for r in caplog.records)


def test_a_viewer_cannot_decide_and_the_refusal_is_logged_without_document_text(
    app, provider, caplog
):
    reviewer, viewer = app.test_client(), app.test_client()
    sign_in(reviewer, provider, "ann")
    review = done_review(app, reviewer)
    finding = review["findings"][0]
    sign_in(viewer, provider, "vic")
    with caplog.at_level(logging.WARNING, logger="aiprism.refusals"):
        response = viewer.post(
            f"/api/v1/reviews/{review['id']}/findings/{finding['id']}/decision",
            json={"action": "accept"},
            headers={"X-CSRF-Token": csrf(viewer)},
        )
    assert response.status_code == 403
    assert response.get_json()["error"]["code"] == "forbidden"
    events = viewer.get(f"/api/v1/reviews/{review['id']}/events").get_json()["events"]
    assert not any(e["type"] == "decision" for e in events)
    line = json.loads(next(r.getMessage() for r in caplog.records if "forbidden" in r.getMessage()))
    assert line["who"]["sub"] == "vic" and line["role"] == "viewer"
    assert line["what"] == f"POST /api/v1/reviews/{review['id']}/findings/{finding['id']}/decision"
    quote_text = finding["span"]["quote"] if finding.get("span") else finding["title"]
    assert quote_text not in json.dumps(line)


# --- who did what --------------------------------------------------------------------------------


def test_every_event_and_export_names_the_reviewer(app, provider):
    client = app.test_client()
    sign_in(client, provider, "ann")
    review = done_review(app, client)
    rid = review["id"]
    quoted = [f for f in review["findings"] if f.get("span")][:2]
    token = csrf(client)
    for f in quoted:
        decided = client.post(
            f"/api/v1/reviews/{rid}/findings/{f['id']}/decision",
            json={"action": "accept"},
            headers={"X-CSRF-Token": token},
        ).get_json()
        assert decided["decision"]["by"]["name"] == "Ann Reviewer"
    client.post(f"/api/v1/reviews/{rid}/complete", headers={"X-CSRF-Token": token})
    ann = {"sub": "ann", "name": "Ann Reviewer", "email": "ann@example.com"}
    events = client.get(f"/api/v1/reviews/{rid}/events").get_json()["events"]
    by_type = {e["type"]: e for e in events}
    assert by_type["created"]["payload"]["actor"] == ann
    assert by_type["decision"]["payload"]["actor"] == ann
    assert by_type["completed"]["payload"]["actor"] == ann
    assert "actor" not in by_type["analysed"]["payload"]  # the background analysis: nobody's
    got = client.get(f"/api/v1/reviews/{rid}").get_json()
    assert got["created_by"] == ann and got["completed_by"] == ann

    data = json.loads(client.get(f"/api/v1/reviews/{rid}/export/json").data)
    assert data["findings"][0]["decision"] is None or "by" in data["findings"][0]["decision"]
    decided_json = [f for f in data["findings"] if f["decision"]]
    assert {f["decision"]["by"]["email"] for f in decided_json} == {"ann@example.com"}
    rows = list(
        csv.DictReader(
            io.StringIO(client.get(f"/api/v1/reviews/{rid}/export/csv").data.decode("utf-8-sig"))
        )
    )
    assert {r["decided_by"] for r in rows if r["decision"] == "accepted"} == {"Ann Reviewer"}
    html = client.get(f"/api/v1/reviews/{rid}/export/html").get_data(as_text=True)
    assert "by Ann Reviewer" in html
    word = docx.Document(io.BytesIO(client.get(f"/api/v1/reviews/{rid}/export/docx").data))
    ours = [c for c in word.comments if c.author == "Ann Reviewer"]
    assert len(ours) == 2 and {c.initials for c in ours} == {"AR"}
    history = client.get("/history").get_data(as_text=True)
    assert "by Ann Reviewer" in history


# --- personal access tokens ----------------------------------------------------------------------


def test_a_personal_token_is_shown_once_acts_as_its_owner_and_stops_when_revoked(app, provider):
    client = app.test_client()
    sign_in(client, provider, "ann")
    made = client.post(
        "/tokens", data={"label": "CI upload", "days": "30", "csrf_token": csrf(client)}
    )
    assert made.status_code == 200
    token = re.search(r'id="new-token">([^<]+)<', made.get_data(as_text=True)).group(1)
    assert token.startswith(tokens.PREFIX)
    listing = client.get("/tokens").get_data(as_text=True)
    assert token not in listing and "CI upload" in listing  # shown once, never again
    store = app.config["SERVICE"].store
    assert token not in json.dumps(store.get_setting(f"access-token:{tokens._hash(token)}"))

    script = app.test_client()  # no cookie: the token alone
    bearer = {"Authorization": f"Bearer {token}"}
    assert script.get("/auth/me", headers=bearer).get_json()["actor"]["name"] == "Ann Reviewer"
    upload = script.post(
        "/api/v1/reviews",
        data={"file": (io.BytesIO(messy_investigation_docx()), "ci.docx")},
        headers=bearer,
    )
    assert upload.status_code == 202  # no CSRF token needed: no ambient credential
    assert (
        script.post("/tokens", data={"label": "more", "days": "1"}, headers=bearer).status_code
        == 400
    )

    token_id = re.search(r'data-token="([0-9a-f]+)"', listing).group(1)
    revoked = client.post(f"/tokens/{token_id}/revoke", data={"csrf_token": csrf(client)})
    assert revoked.status_code == 303
    refused = script.get("/api/v1/reviews", headers=bearer)
    assert refused.status_code == 401 and "revoked" in refused.get_json()["error"]["message"]
    assert "revoked" in client.get("/tokens").get_data(as_text=True)


def test_an_expired_or_unknown_personal_token_is_refused(app):
    store = app.config["SERVICE"].store
    owner = Identity(Actor("ann", "Ann Reviewer", "ann@example.com"), "reviewer", "session")
    token, record = tokens.create(store, owner, "old", 1)
    key = f"access-token:{record.hash}"
    store.put_setting(key, {**store.get_setting(key), "expires_at": "2020-01-01T00:00:00+00:00"})
    client = app.test_client()
    for sent in (token, tokens.PREFIX + "x" * 43, "not-a-token"):
        response = client.get("/api/v1/reviews", headers={"Authorization": f"Bearer {sent}"})
        assert response.status_code == 401


def test_a_token_keeps_the_role_of_its_owner(app, provider):
    client = app.test_client()
    sign_in(client, provider, "vic")
    made = client.post("/tokens", data={"label": "read", "days": "2", "csrf_token": csrf(client)})
    token = re.search(r'id="new-token">([^<]+)<', made.get_data(as_text=True)).group(1)
    bearer = {"Authorization": f"Bearer {token}"}
    assert (
        client.application.test_client().get("/api/v1/reviews", headers=bearer).status_code == 200
    )
    upload = app.test_client().post(
        "/api/v1/reviews", data={"file": (io.BytesIO(b"x"), "a.txt")}, headers=bearer
    )
    assert upload.status_code == 403


# --- settings ------------------------------------------------------------------------------------


def test_an_http_issuer_is_accepted_on_loopback_addresses_only():
    from server.auth.config import oidc_settings

    base = {
        "AIPRISM_OIDC_CLIENT_ID": "c",
        "AIPRISM_SESSION_SECRET": "x" * 32,
        "AIPRISM_OIDC_ALLOWED_DOMAINS": "Example.com, example.org",
    }
    for issuer in ("http://127.0.0.1:8080", "http://localhost:9000/realms/a", "http://[::1]:1"):
        problems: list[str] = []
        settings = oidc_settings({**base, "AIPRISM_OIDC_ISSUER": issuer + "/"}, problems)
        assert problems == [] and settings.issuer == issuer
        assert settings.allowed_domains == ("example.com", "example.org")
    for issuer in ("http://10.0.0.5", "http://login.example.com", "ftp://127.0.0.1"):
        problems = []
        oidc_settings({**base, "AIPRISM_OIDC_ISSUER": issuer}, problems)
        assert len(problems) == 1 and "AIPRISM_OIDC_ISSUER" in problems[0]


def test_sign_in_settings_have_their_defaults_and_none_refuses():
    from server.auth.config import oidc_settings

    env = {
        "AIPRISM_OIDC_ISSUER": "https://login.example.com",
        "AIPRISM_OIDC_CLIENT_ID": "c",
        "AIPRISM_SESSION_SECRET": "x" * 32,
        "AIPRISM_OIDC_ALLOWED_DOMAINS": "example.com",
    }
    problems: list[str] = []
    settings = oidc_settings(env, problems)
    assert problems == [] and settings.default_role == "viewer"
    assert settings.groups_claim == "groups" and settings.client_secret == ""
    assert settings.session_lifetime == timedelta(hours=8)
    assert settings.session_idle == timedelta(minutes=60)
    assert "x" * 32 not in repr(settings)
    settings = oidc_settings({**env, "AIPRISM_OIDC_DEFAULT_ROLE": "none"}, problems)
    assert settings.default_role is None and problems == []
