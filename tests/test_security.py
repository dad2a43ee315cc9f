"""Security by default on the local server: token, Host and Origin checks, CSRF, headers."""

from __future__ import annotations

import http.client
import re
from importlib.metadata import version
from pathlib import Path
from platform import python_version

import pytest
import requests

from server.samples import messy_investigation_docx
from tests.server_process import RunningServer, running_server

ROOT = Path(__file__).resolve().parent.parent
TEMPLATES = sorted(ROOT.glob("server/**/templates/*.html"))
OVER_THE_LIMIT = b"0" * (51 * 1024 * 1024)  # the server's default limit is 50 MB
VERSIONS = [version(name) for name in ("flask", "werkzeug", "waitress")] + [python_version()]
LEAKS = ["Traceback", 'File "', str(ROOT), "site-packages", "Werkzeug", "Python", *VERSIONS]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with running_server(tmp_path_factory.mktemp("data")) as running:
        yield running


@pytest.fixture
def browser(server):
    """A cookie session as a browser gets it: follow the token link, read the CSRF meta tag."""
    session = requests.Session()
    page = session.get(server.url(f"/?token={server.token}"))
    assert page.status_code == 200
    match = re.search(r'<meta name="csrf-token" content="([^"]+)"', page.text)
    assert match, "pages carry the CSRF token in a meta tag"
    session.csrf = match.group(1)
    return session


@pytest.fixture(scope="module")
def review_id(server):
    created = server.upload(messy_investigation_docx(), "headers.docx")
    return server.wait_done(created.json()["id"])["id"]


def test_every_page_and_api_answer_carries_the_security_headers(server, review_id):
    browser = requests.Session()
    responses = {
        "token link": browser.get(server.url(f"/?token={server.token}"), allow_redirects=False)
    }
    paths = ["/", "/history", "/stats", "/settings", f"/reviews/{review_id}"]
    paths += [f"/reviews/{review_id}/diff", "/health", "/ready", "/static/app.js", "/nowhere"]
    paths += ["/api/v1/reviews", f"/api/v1/reviews/{review_id}", "/api/v1/stats"]
    paths += [f"/api/v1/reviews/{review_id}/{tail}" for tail in ("events", "progress", "diff")]
    paths += [
        f"/api/v1/reviews/{review_id}/export/{fmt}" for fmt in ("html", "csv", "json", "docx")
    ]
    paths += ["/api/v1/frameworks", "/api/v1/settings", "/api/v1/nowhere"]
    responses |= {path: browser.get(server.url(path)) for path in paths}
    responses["no token"] = requests.get(server.url("/"))
    responses["405"] = requests.post(server.url("/health"))
    for name, response in responses.items():
        headers = response.headers
        policy = directives(headers["Content-Security-Policy"])
        scripts = policy.get("script-src", policy["default-src"])
        assert scripts in (["'self'"], ["'none'"]), (name, scripts)
        assert policy["frame-ancestors"] == ["'none'"], name
        assert headers["X-Content-Type-Options"] == "nosniff", name
        assert headers["Referrer-Policy"] in ("no-referrer", "same-origin"), name
        assert headers["X-Frame-Options"] == "DENY", name


def test_cookies_are_httponly_and_strictly_same_site(server):
    response = requests.get(server.url(f"/?token={server.token}"), allow_redirects=False)
    cookies = response.raw.headers.getlist("Set-Cookie")
    assert cookies
    for cookie in cookies:
        attributes = {a.strip().lower() for a in cookie.split(";")[1:]}
        assert {"httponly", "samesite=strict", "path=/"} <= attributes, cookie


@pytest.mark.parametrize("accept", ["text/html", "application/json"])
def test_error_answers_leak_nothing_about_the_server(server, browser, accept):
    big = {"file": ("big.docx", OVER_THE_LIMIT)}
    answers = [
        (404, browser.get(server.url("/no/such/page"), headers={"Accept": accept})),
        (404, browser.get(server.url("/reviews/does-not-exist"), headers={"Accept": accept})),
        (405, browser.post(server.url("/health"), headers={"Accept": accept})),
        # a form post without the CSRF header: the server reads the body for the form's token
        (413, browser.post(server.url("/settings"), files=big, headers={"Accept": accept})),
        (413, server.api.post(server.url("/api/v1/reviews"), files=big)),
    ]
    for status, response in answers:
        assert response.status_code == status
        assert_leaks_nothing(response)


@pytest.mark.parametrize(
    "path",
    [
        "/static/../server/settings.py",
        "/static/../../server/settings.py",
        "/static/%2e%2e/%2e%2e/server/settings.py",
        "/static/..%2f..%2fserver%2fsettings.py",
        "/static/..%5c..%5cserver%5csettings.py",
        "/static//etc/passwd",
        "/static/%2fetc%2fpasswd",
        "/api/v1/reviews/..%2f..%2freviews.sqlite3/export/json",
        "/api/v1/reviews/..%2f..%2f/export/docx",
        "/api/v1/reviews/%2e%2e/export/html",
        "/reviews/..%2f..%2freviews.sqlite3",
    ],
)
def test_no_path_from_the_request_reaches_the_file_system(server, path):
    status, location, body = raw_get(server, path)
    if location:  # Werkzeug folds double slashes with a redirect: where it points must be safe too
        assert location.startswith(server.base_url), location
        status, location, body = raw_get(server, "/" + location.removeprefix(server.base_url))
    assert status in (400, 404), (path, status)
    for secret in (b"class Settings", b"root:", b"SQLite format 3"):
        assert secret not in body


def test_templates_hold_no_inline_script_or_event_handler():
    assert TEMPLATES
    for template in TEMPLATES:
        text = template.read_text()
        for attributes, body in re.findall(r"<script\b([^>]*)>(.*?)</script>", text, re.S):
            is_data = 'type="application/json"' in attributes
            assert ("src=" in attributes and not body.strip()) or is_data, template.name
        assert not re.search(r"<[^>]+\son[a-z]+\s*=", text, re.I), template.name
        assert "javascript:" not in text.lower(), template.name


def test_wrong_token_is_refused(server):
    response = requests.get(server.url("/api/v1/reviews"), headers={"Authorization": "Bearer nope"})
    assert response.status_code == 401
    assert requests.get(server.url("/?token=nope"), allow_redirects=False).status_code == 401


def test_a_foreign_host_header_is_refused_as_dns_rebinding(server):
    headers = {"Authorization": f"Bearer {server.token}", "Host": "evil.example:80"}
    assert requests.get(server.url("/api/v1/reviews"), headers=headers).status_code == 403


def test_a_foreign_origin_cannot_change_state(server, browser):
    response = browser.post(
        server.url("/api/v1/settings/muted-rules"),
        json={"rule": "hedging"},
        headers={"Origin": "http://evil.example", "X-CSRF-Token": browser.csrf},
    )
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "bad_origin"


def test_cookie_requests_without_the_csrf_token_are_refused(server, browser):
    response = browser.post(server.url("/api/v1/settings/muted-rules"), json={"rule": "hedging"})
    assert response.status_code == 403 and response.json()["error"]["code"] == "csrf"


def test_cookie_requests_with_the_csrf_token_from_the_page_succeed(server, browser):
    response = browser.post(
        server.url("/api/v1/settings/muted-rules"),
        json={"rule": "hedging", "muted": False},
        headers={"X-CSRF-Token": browser.csrf, "Origin": server.base_url.rstrip("/")},
    )
    assert response.status_code == 200


def test_the_server_listens_on_loopback_only(server):
    assert server.base_url.startswith("http://127.0.0.1:")


# --- helpers ---


def directives(policy: str) -> dict[str, list[str]]:
    parts = (d.split() for d in policy.split(";") if d.strip())
    return {name: values for name, *values in parts}


def assert_leaks_nothing(response: requests.Response) -> None:
    seen = response.text + str(response.headers)
    for leak in LEAKS:
        assert leak not in seen, leak


def raw_get(server: RunningServer, path: str) -> tuple[int, str | None, bytes]:
    """GET the path byte for byte: requests would resolve the dot segments before sending."""
    connection = http.client.HTTPConnection(server.base_url.split("//")[1].rstrip("/"), timeout=10)
    try:
        connection.request("GET", path, headers={"Authorization": f"Bearer {server.token}"})
        response = connection.getresponse()
        return response.status, response.getheader("Location"), response.read()
    finally:
        connection.close()
