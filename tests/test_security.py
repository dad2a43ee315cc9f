"""Security by default on the local server: token, Host and Origin checks, CSRF, headers."""

from __future__ import annotations

import re

import pytest
import requests

from tests.server_process import running_server


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


def test_every_response_has_the_security_headers(server):
    headers = requests.get(server.url("/health")).headers
    assert "script-src 'self'" in headers["Content-Security-Policy"]
    assert (
        "unsafe-inline"
        not in headers["Content-Security-Policy"].split("script-src")[1].split(";")[0]
    )
    assert "frame-ancestors 'none'" in headers["Content-Security-Policy"]
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "no-referrer"


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


def test_error_pages_leak_no_traceback(server):
    response = server.api.get(server.url("/api/v1/reviews/does-not-exist"))
    assert response.status_code == 404
    assert "Traceback" not in response.text and 'File "' not in response.text


def test_the_server_listens_on_loopback_only(server):
    assert server.base_url.startswith("http://127.0.0.1:")
