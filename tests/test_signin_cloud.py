"""The hosted sign-in as deployed: two Gunicorn services (two workers each) on one bucket stand in
for two instances behind a load balancer without sticky sessions; the provider is real."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import boto3
import pytest
import requests

from tests.moto_server import moto_endpoint  # noqa: F401 - the module-scoped fixture
from tests.oidc_provider import running_provider
from tests.test_cloud import BUCKET, Gunicorn, hosted_env, run_to_exit

pytestmark = pytest.mark.cloud
SESSION_SECRET = "cloud-session-secret-0123456789abcdefghij"


@pytest.fixture(scope="module")
def provider():
    with running_provider() as running:
        running.set_user(
            "ann", email="ann@example.com", name="Ann Reviewer", groups=["prism-reviewers"]
        )
        yield running


def oidc_env(moto: str, tmp, provider, **overrides) -> dict[str, str]:
    settings = {
        "AIPRISM_ACCESS_TOKEN": None,
        "AIPRISM_OIDC_ISSUER": provider.issuer,
        "AIPRISM_OIDC_CLIENT_ID": "aiprism-cloud",
        "AIPRISM_OIDC_CLIENT_SECRET": "cloud-client-secret",
        "AIPRISM_OIDC_ALLOWED_DOMAINS": "example.com",
        "AIPRISM_OIDC_REVIEWER_GROUPS": "prism-reviewers",
        "AIPRISM_SESSION_SECRET": SESSION_SECRET,
    }
    return hosted_env(moto, tmp, **{**settings, **overrides})


@pytest.fixture(scope="module")
def instances(moto_endpoint, provider, tmp_path_factory):  # noqa: F811
    boto3.client("s3", endpoint_url=moto_endpoint, region_name="us-east-1").create_bucket(
        Bucket=BUCKET
    )
    tmp = tmp_path_factory.mktemp("signin-cloud")
    env = oidc_env(moto_endpoint, tmp, provider)
    first = Gunicorn(env, tmp / "a.log")
    second = Gunicorn(env, tmp / "b.log")
    yield first, second
    first.stop()
    second.stop()


def sign_in(
    browser: requests.Session, instance: Gunicorn, provider, headers=None
) -> requests.Response:
    start = browser.get(instance.url("/auth/login"), headers=headers, allow_redirects=False)
    assert start.status_code == 302, start.text
    back = urlsplit(provider.sign_in(start.headers["Location"], "ann"))
    return browser.get(
        instance.url(f"{back.path}?{back.query}"), headers=headers, allow_redirects=False
    )


def csrf(browser: requests.Session, instance: Gunicorn) -> str:
    page = browser.get(instance.url("/tokens")).text
    return re.search(r'<meta name="csrf-token" content="([^"]+)"', page).group(1)


def test_a_session_from_one_instance_works_on_every_worker_of_another(instances, provider):
    first, second = instances
    browser = requests.Session()
    assert sign_in(browser, first, provider).status_code == 303
    for _ in range(6):  # several connections: both workers of each instance answer some
        for instance in (first, second):
            me = requests.get(instance.url("/auth/me"), cookies=browser.cookies)
            assert me.status_code == 200 and me.json()["actor"]["name"] == "Ann Reviewer"


def test_a_token_made_on_one_instance_works_on_another_until_revoked_there(instances, provider):
    first, second = instances
    browser = requests.Session()
    sign_in(browser, first, provider)
    made = browser.post(
        first.url("/tokens"), data={"label": "CI", "days": "7", "csrf_token": csrf(browser, first)}
    )
    token = re.search(r'id="new-token">([^<]+)<', made.text).group(1)
    bearer = {"Authorization": f"Bearer {token}"}
    assert requests.get(second.url("/api/v1/reviews"), headers=bearer).status_code == 200
    token_id = re.search(r'data-token="([0-9a-f]+)"', browser.get(second.url("/tokens")).text)
    revoked = browser.post(
        second.url(f"/tokens/{token_id.group(1)}/revoke"),
        data={"csrf_token": csrf(browser, second)},
        allow_redirects=False,
    )
    assert revoked.status_code == 303
    assert requests.get(first.url("/api/v1/reviews"), headers=bearer).status_code == 401


def test_behind_the_https_proxy_the_session_cookie_is_secure(instances, provider):
    """Every cookie set over the proxy's HTTPS is Secure, from the sign-in's state onwards.

    The test talks plain HTTP to Gunicorn as the proxy would, so it hands the (Secure) cookie
    back itself, as a browser does over HTTPS.
    """
    first, _ = instances
    https = {"X-Forwarded-Proto": "https"}
    start = requests.get(first.url("/auth/login"), headers=https, allow_redirects=False)
    assert start.headers["Location"].startswith(provider.issuer)
    assert "redirect_uri=https%3A%2F%2F" in start.headers["Location"]
    state_cookie = start.headers["Set-Cookie"]
    assert "Secure" in state_cookie and "HttpOnly" in state_cookie
    back = urlsplit(provider.sign_in(start.headers["Location"], "ann"))
    signed_in = requests.get(
        first.url(f"{back.path}?{back.query}"),
        headers={**https, "Cookie": state_cookie.split(";")[0]},
        allow_redirects=False,
    )
    assert signed_in.status_code == 303
    cookie = signed_in.headers["Set-Cookie"]
    assert cookie.startswith("aiprism_signin=") and "Secure" in cookie and "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie
    plain = requests.Session()
    assert "Secure" not in sign_in(plain, first, provider).headers["Set-Cookie"]


def test_the_startup_line_names_the_provider(instances, provider):
    first, _ = instances
    assert f"sign-in: OpenID Connect ({provider.issuer})" in first.log()


def test_bad_sign_in_settings_stop_the_service_with_every_problem(
    moto_endpoint,  # noqa: F811 - the imported fixture
    provider,
    tmp_path,
):
    env = oidc_env(
        moto_endpoint,
        tmp_path,
        provider,
        AIPRISM_OIDC_ISSUER="http://login.example.com",
        AIPRISM_OIDC_CLIENT_ID="",
        AIPRISM_OIDC_ALLOWED_DOMAINS="",
        AIPRISM_OIDC_DEFAULT_ROLE="boss",
        AIPRISM_SESSION_SECRET="short",
        AIPRISM_ACCESS_TOKEN="also-a-token-0123456789",
    )
    result = run_to_exit(env)
    assert result.returncode != 0
    for name in (
        "AIPRISM_OIDC_ISSUER must use https://",
        "AIPRISM_OIDC_CLIENT_ID",
        "AIPRISM_OIDC_ALLOWED_DOMAINS",
        "AIPRISM_OIDC_DEFAULT_ROLE",
        "AIPRISM_SESSION_SECRET",
        "AIPRISM_AUTH=oidc and AIPRISM_ACCESS_TOKEN are both set",
    ):
        assert name in result.stderr, result.stderr
    assert "Traceback" not in result.stderr
