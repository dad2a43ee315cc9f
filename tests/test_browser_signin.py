"""A reviewer signs in through the company's provider in a real browser, decides, and the Word
document names them: Chromium (Playwright) → Gunicorn (the hosted config) → oidc-provider-mock."""

from __future__ import annotations

import io
import re
from collections.abc import Iterator

import docx
import pytest
from playwright.sync_api import expect

from server.samples import messy_investigation_docx
from tests.oidc_provider import Provider, running_provider
from tests.test_browser import (
    DOCX_MIME,
    Watched,
    ai_prism_comments,
    browser,  # noqa: F401 - the module-scoped fixture
    card_with_quote,
    complete_and_download_docx,
    screenshot,
)
from tests.test_cloud import Gunicorn, hosted_env

pytestmark = [pytest.mark.browser, pytest.mark.cloud]


@pytest.fixture(scope="module")
def provider() -> Iterator[Provider]:
    with running_provider() as running:
        running.set_user(
            "ann.reviewer",
            email="ann@example.com",
            name="Ann Reviewer",
            groups=["prism-reviewers"],
        )
        running.set_user("vic", email="vic@example.com", name="Vic Viewer", groups=[])
        yield running


@pytest.fixture(scope="module")
def service(provider, tmp_path_factory) -> Iterator[Gunicorn]:
    tmp = tmp_path_factory.mktemp("browser-signin")
    env = hosted_env(
        "http://127.0.0.1:9",  # no bucket below: reviews in SQLite, S3 never asked
        tmp,
        AIPRISM_S3_BUCKET=None,
        AIPRISM_S3_PREFIX=None,
        AIPRISM_ACCESS_TOKEN=None,
        AIPRISM_OIDC_ISSUER=provider.issuer,
        AIPRISM_OIDC_CLIENT_ID="aiprism-browser",
        AIPRISM_OIDC_CLIENT_SECRET="browser-client-secret",
        AIPRISM_OIDC_ALLOWED_DOMAINS="example.com",
        AIPRISM_OIDC_REVIEWER_GROUPS="prism-reviewers",
        AIPRISM_SESSION_SECRET="browser-session-secret-0123456789abcdef",
    )
    running = Gunicorn(env, tmp / "gunicorn.log")
    yield running
    running.stop()


@pytest.fixture
def watched(browser) -> Iterator[Watched]:  # noqa: F811
    context = browser.new_context(
        viewport={"width": 1400, "height": 900}, accept_downloads=True, color_scheme="light"
    )
    # The provider's login page links a stylesheet on the internet: nothing leaves this machine.
    context.route(re.compile(r"^(?!http://127\.0\.0\.1[:/])"), lambda route: route.abort())
    page = context.new_page()
    page.set_default_timeout(15_000)
    w = Watched(page)
    yield w
    context.close()
    assert w.problems == [], "the page reported errors"


def sign_in(w: Watched, service: Gunicorn, provider: Provider, sub: str) -> None:
    page = w.page
    page.goto(service.url("/history"))
    page.wait_for_url(re.compile(re.escape(provider.issuer) + "/oauth2/authorize"))
    page.fill('input[name="sub"]', sub)
    page.get_by_role("button", name="Authorize").click()
    page.wait_for_url(service.url("/history"))
    w.problems.clear()  # the provider's page is not ours to judge; ours are watched from here


def test_a_reviewer_signs_in_decides_and_the_word_comment_names_them(
    watched, service, provider, tmp_path
):
    page = watched.page
    sign_in(watched, service, provider, "ann.reviewer")
    expect(page.locator("#signed-in")).to_contain_text("Ann Reviewer")
    page.goto(service.url("/"))
    page.set_input_files(
        "#file-input",
        files=[
            {"name": "write-up.docx", "mimeType": DOCX_MIME, "buffer": messy_investigation_docx()}
        ],
    )
    page.wait_for_url(re.compile(r"/reviews/[0-9a-f]+$"))
    page.wait_for_selector("#finding-list .finding")
    card = card_with_quote(page, 0)
    quote = card.locator("blockquote.quote").inner_text()
    card_id = card.get_attribute("data-id")
    card.get_by_role("button", name="Accept", exact=True).click()
    page.wait_for_selector(f"#finding-{card_id} .decision-badge-accept")
    expect(page.locator(f"#finding-{card_id} .decided-by")).to_contain_text(
        "accepted by Ann Reviewer at"
    )
    screenshot(page, "review-signed-in")

    path = complete_and_download_docx(page, tmp_path)
    comments = ai_prism_comments(path.read_bytes(), "Ann Reviewer")
    assert [anchor for _, anchor in comments.values()] == [quote]
    word = docx.Document(io.BytesIO(path.read_bytes()))
    ours = [(c.author, c.initials) for c in word.comments if c.author != "Lee"]  # the file's own
    assert ours == [("Ann Reviewer", "AR")]

    page.locator("#sign-out").click()
    page.wait_for_url(service.url("/auth/signed-out"))
    page.goto(service.url("/history"))
    page.wait_for_url(re.compile(re.escape(provider.issuer)))  # signed out: back to the provider
    watched.problems.clear()  # its page's blocked stylesheet, not ours


def test_a_viewer_sees_the_review_but_cannot_decide(watched, service, provider):
    page = watched.page
    sign_in(watched, service, provider, "vic")
    expect(page.locator("#signed-in")).to_contain_text("Vic Viewer (viewer)")
    expect(page.locator("[data-delete]").first).to_be_hidden()  # deleting is for admins
    page.goto(service.url("/"))
    expect(page.locator("#upload-form")).to_be_hidden()  # uploading is for reviewers
    upload = page.request.post(
        service.url("/api/v1/reviews"),
        multipart={"file": {"name": "a.txt", "mimeType": "text/plain", "buffer": b"Summary"}},
        headers={"X-CSRF-Token": page.locator('meta[name="csrf-token"]').get_attribute("content")},
    )
    assert upload.status == 403 and upload.json()["error"]["code"] == "forbidden"
