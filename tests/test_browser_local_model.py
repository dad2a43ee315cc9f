"""A reviewer with no AWS account turns on a local model in Settings and gets AI findings.

Debian's Chromium drives a real `aiprism serve`; the model is a real one (llama.cpp's server with
SmolLM2-135M on 127.0.0.1). The reviewer chooses "Local model", types the server's URL, lists its
models, tests the connection, saves, uploads a write-up, and finds the model's findings in the
same list as the offline ones, with the page saying the document stayed on this computer.
"""

from __future__ import annotations

import re

import pytest
from playwright import sync_api as playwright_api
from playwright.sync_api import expect

from server.samples import SHORT_WRITE_UP_MD as WRITE_UP
from tests.server_process import running_server
from tests.test_browser import CHROMIUM, CHROMIUM_ARGS, Watched, screenshot

pytestmark = pytest.mark.browser


@pytest.fixture
def server(tmp_path):
    env = {
        "PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring",
        "AIPRISM_AI_MAX_TOKENS": "320",  # the little model writes ~25 tokens/s here
        "AIPRISM_AI_CONCURRENCY": "1",
    }
    with running_server(tmp_path / "data", extra_env=env) as running:
        yield running


def test_local_model_turned_on_in_settings_reviews_beside_the_offline_rules(server, local_model):
    if not CHROMIUM.exists():
        pytest.fail(f"Chromium not found at {CHROMIUM}: apt-get install chromium (.ci/run does)")
    with playwright_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        context = browser.new_context(viewport={"width": 1400, "height": 900})
        page = context.new_page()
        page.set_default_timeout(20_000)
        page.goto(server.url(f"/?token={server.token}"))
        w = Watched(page)

        page.goto(server.url("/settings"))
        page.get_by_label("Local model").check()
        expect(page.locator("#local-found")).to_contain_text(
            re.compile("No model server found|Found:")
        )
        page.fill("#setting-base-url", local_model.base_url)
        page.click("#list-models")
        expect(page.locator("#model-hint")).to_contain_text(
            f"Models on this server: {local_model.model}", timeout=60_000
        )
        expect(page.locator("#setting-model")).to_have_value(local_model.model)
        page.click("#ai-test")
        expect(page.locator("#ai-test-result")).to_contain_text(
            f"Connected: {local_model.model} answered in", timeout=120_000
        )
        expect(page.locator("#ai-test-result")).to_contain_text("a local model server at 127.0.0.1")
        screenshot(page, "settings-local-model")
        with page.expect_response(
            lambda r: r.url.endswith("/api/v1/settings") and r.request.method == "POST"
        ) as answer:
            page.click("#settings-save")
        assert answer.value.status == 200
        expect(page.locator("#settings-error")).to_be_hidden()
        saved = server.api.get(server.url("/api/v1/settings")).json()
        assert saved["ai_provider"] == "openai" and saved["ai_base_url"] == local_model.base_url

        page.goto(server.url("/"))
        page.set_input_files(
            "#file-input",
            files=[
                {"name": "refunds.md", "mimeType": "text/markdown", "buffer": WRITE_UP.encode()}
            ],
        )
        page.wait_for_url(re.compile(r"/reviews/[0-9a-f]+$"))
        expect(page.locator("#finding-list .finding").first).to_be_visible(timeout=400_000)
        review_id = page.url.rsplit("/", 1)[1]
        review = server.api.get(server.url(f"/api/v1/reviews/{review_id}")).json()
        assert review["ai_usage"]["calls"] >= 3 and review["ai_usage"]["provider"] == "openai"
        assert review["engines"][0] == "offline"

        # What a 135M-parameter model finds varies (tests/test_local_model_review.py asserts only
        # what the engine guarantees); the page must show each finding it kept, badged, and say
        # why it kept none when so.
        ai_findings = [f for f in review["findings"] if f["engine"] == local_model.model]
        ai_cards = page.locator(f'#finding-list .finding[data-engine="{local_model.model}"]')
        offline_cards = page.locator('#finding-list .finding[data-engine="offline"]')
        expect(ai_cards).to_have_count(len(ai_findings))
        if ai_findings:
            expect(ai_cards.first.locator(".badge-ai")).to_have_text("AI")
        else:
            expect(page.locator(".notices")).to_contain_text("AI review")
        assert offline_cards.count() > 0
        expect(page.locator("#privacy-line")).to_contain_text(
            "Stayed on this computer: reviewed by a local model server at 127.0.0.1"
        )
        expect(page.locator("#ai-usage")).to_contain_text(local_model.model)
        screenshot(page, "review-local-model", full_page=True)
        context.close()
        browser.close()
        assert w.problems == [], "the page reported errors"
