"""The workbench in a real browser: Debian's Chromium driven by Playwright against `aiprism serve`.

Every page is watched for JavaScript errors and Content-Security-Policy violations; screenshots of
the main pages go to $AIPRISM_ARTIFACTS (default tests/artifacts) for a human to look at.
Waits use locators or functions, never `wait_for_function("expression")`: Playwright evaluates
those with eval() in the page, which the CSP (rightly) refuses.
"""

from __future__ import annotations

import io
import os
import re
from collections.abc import Iterator
from pathlib import Path

import docx
import pytest
from docx.oxml.ns import qn
from playwright import sync_api as playwright_api
from playwright.sync_api import expect

from server.auth.local import os_full_name
from server.documents.docx_text import body_paragraphs, paragraph_runs
from server.samples import messy_investigation_docx
from tests.server_process import RunningServer, running_server

pytestmark = pytest.mark.browser

CHROMIUM = Path(os.environ.get("AIPRISM_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = Path(os.environ.get("AIPRISM_ARTIFACTS") or Path(__file__).parent / "artifacts")
DOCX_MIME = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
SCRIPT = "<script>alert(1)</script>"
IMG = "<img src=x onerror=alert(1)>"

# Select `needle` inside the one document paragraph that contains it, through marks if need be.
SELECT_TEXT = """
(needle) => {
  const element = [...document.querySelectorAll("#document [data-paragraph]")]
    .find((e) => e.textContent.includes(needle));
  if (!element) throw new Error("no paragraph contains " + needle);
  const start = element.textContent.indexOf(needle);
  const end = start + needle.length;
  const walker = document.createTreeWalker(element, NodeFilter.SHOW_TEXT);
  const range = document.createRange();
  let pos = 0, started = false, node;
  while ((node = walker.nextNode())) {
    const length = node.data.length;
    if (!started && start < pos + length) { range.setStart(node, start - pos); started = true; }
    if (started && end <= pos + length) { range.setEnd(node, end - pos); break; }
    pos += length;
  }
  const selection = window.getSelection();
  selection.removeAllRanges();
  selection.addRange(range);
  return Number(element.dataset.paragraph);
}
"""


# -- fixtures -----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def server(tmp_path_factory) -> Iterator[RunningServer]:
    with running_server(tmp_path_factory.mktemp("browser-data")) as running:
        yield running


@pytest.fixture(scope="module")
def browser():
    if not CHROMIUM.exists():
        pytest.fail(f"Chromium not found at {CHROMIUM}: apt-get install chromium (.ci/run does)")
    with playwright_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield launched
        launched.close()


class Watched:
    """A page plus everything it complained about: console errors, CSP reports, uncaught errors."""

    def __init__(self, page):
        self.page = page
        self.problems: list[str] = []
        self.dialogs: list[str] = []
        page.on("console", self._console)
        page.on("pageerror", lambda error: self.problems.append(f"uncaught: {error}"))
        page.on("dialog", self._dialog)

    def _console(self, message) -> None:
        if message.type == "error" or "Content Security Policy" in message.text:
            self.problems.append(f"console {message.type}: {message.text}")

    def _dialog(self, dialog) -> None:
        self.dialogs.append(f"{dialog.type}: {dialog.message}")
        if dialog.type == "confirm":
            dialog.accept()
        else:
            dialog.dismiss()


@pytest.fixture
def watched(browser, server) -> Iterator[Watched]:
    context = browser.new_context(
        viewport={"width": 1400, "height": 900}, accept_downloads=True, color_scheme="light"
    )
    page = context.new_page()
    page.set_default_timeout(15_000)
    page.goto(server.url(f"/?token={server.token}"))  # sets the session cookie
    w = Watched(page)
    yield w
    context.close()
    assert w.problems == [], "the page reported errors"


def screenshot(page, name: str, full_page: bool = False) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=full_page)


def uploaded_review(server: RunningServer, data: bytes, filename: str) -> str:
    response = server.upload(data, filename)
    assert response.status_code == 202, response.text
    review_id = response.json()["id"]
    assert server.wait_done(review_id)["status"] == "done"
    return review_id


def open_review(w: Watched, server: RunningServer, review_id: str):
    w.page.goto(server.url(f"/reviews/{review_id}"))
    w.page.wait_for_selector("#finding-list .finding")
    return w.page


def card_with_quote(page, n: int):
    return page.locator("#finding-list .finding:has(blockquote.quote)").nth(n)


def decision(server: RunningServer, review_id: str, finding_id: str) -> str | None:
    review = server.api.get(server.url(f"/api/v1/reviews/{review_id}")).json()
    found = next(f for f in review["findings"] if f["id"] == finding_id)
    return (found["decision"] or {}).get("action")


def complete_and_download_docx(page, folder: Path) -> Path:
    """Mark the open review complete, then download the .docx with its Word comments."""
    page.locator("#complete-button").click()
    page.locator("#completed-badge").wait_for(state="visible")
    with page.expect_download() as download_info:
        page.locator("#download-docx").click()
    path = folder / "reviewed.docx"
    download_info.value.save_as(path)
    return path


def ai_prism_comments(data: bytes, author: str) -> dict[int, tuple[str, str]]:
    """`author`'s comments in a .docx: id → (comment text, the document text it is anchored on)."""
    word = docx.Document(io.BytesIO(data))
    ours = {c.comment_id: c.text for c in word.comments if c.author == author}
    anchored: dict[int, str] = {}
    active: set[int] = set()
    for p in body_paragraphs(word.element.body):
        owned = dict(paragraph_runs(p))
        for element in p.iter():
            if element.tag == qn("w:commentRangeStart"):
                active.add(int(element.get(qn("w:id"))))
            elif element.tag == qn("w:commentRangeEnd"):
                active.discard(int(element.get(qn("w:id"))))
            elif element in owned:
                for comment_id in active:
                    anchored[comment_id] = anchored.get(comment_id, "") + owned[element]
    return {cid: (text, anchored.get(cid, "")) for cid, text in ours.items()}


def hostile_docx() -> bytes:
    document = docx.Document()
    document.add_paragraph(f"Investigation {SCRIPT}", style="Title")
    document.add_paragraph("Executive Summary", style="Heading 1")
    document.add_paragraph(
        f"The attacker posted {SCRIPT} into the merchant name field. Owner: TBD."
    )
    document.add_paragraph("Timeline", style="Heading 1")
    document.add_paragraph(f"On 3 March 2026 the image tag {IMG} appeared in a refund note.")
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


# -- the reviewer's whole journey ---------------------------------------------------------------


def test_upload_triage_add_own_finding_and_download_word_comments(watched, server, tmp_path):
    page = watched.page
    screenshot(page, "home")
    page.set_input_files(
        "#file-input",
        files=[
            {"name": "write-up.docx", "mimeType": DOCX_MIME, "buffer": messy_investigation_docx()}
        ],
    )
    page.wait_for_url(re.compile(r"/reviews/[0-9a-f]+$"))
    review_id = page.url.rsplit("/", 1)[1]
    page.wait_for_selector("#finding-list .finding")  # the page reloads itself once analysed
    screenshot(page, "review")

    accepted = [card_with_quote(page, 0), card_with_quote(page, 1)]
    rejected = card_with_quote(page, 2)
    expected_quotes = []
    for card in accepted:
        expected_quotes.append(card.locator("blockquote.quote").inner_text())
        card_id = card.get_attribute("data-id")
        card.get_by_role("button", name="Accept", exact=True).click()
        page.wait_for_selector(f"#finding-{card_id} .decision-badge-accept")
    rejected_id = rejected.get_attribute("data-id")
    rejected.get_by_role("button", name="Reject", exact=True).click()
    page.wait_for_selector(f"#finding-{rejected_id} .decision-badge-reject")
    assert decision(server, review_id, rejected_id) == "reject"
    expect(page.locator('[data-count="decision.accept"]')).to_have_text("2")
    expect(page.locator('[data-count="decision.reject"]')).to_have_text("1")

    # The reviewer's own finding, on words selected in the Impact paragraph.
    own_quote = "$13,650 is written off"
    paragraph = page.evaluate(SELECT_TEXT, own_quote)
    page.locator("#add-finding-button").click()
    page.locator("#add-dialog").wait_for(state="visible")
    assert page.locator("#add-quote").inner_text() == own_quote
    page.select_option("#add-type", "important")
    page.select_option("#add-risk", "high")
    page.fill("#add-description", "Who approved the write-off? Name the approver and the date.")
    page.fill("#add-suggestion", "Add the Finance approval reference.")
    page.locator("#add-save").click()
    own_card = page.locator("#finding-list .finding:has(.badge-custom)")
    own_card.wait_for()
    assert own_card.locator("blockquote.quote").inner_text() == own_quote
    own_id = own_card.get_attribute("data-id")
    assert page.locator(f'#p-{paragraph} mark[data-findings~="{own_id}"]').count() >= 1
    expect(page.locator('[data-count="decision.accept"]')).to_have_text("3")
    expected_quotes.append(own_quote)
    screenshot(page, "review-triaged")

    path = complete_and_download_docx(page, tmp_path)

    # The comments' author is the person at this machine: the account's name, as nobody set one.
    comments = ai_prism_comments(path.read_bytes(), os_full_name())
    assert sorted(anchor for _, anchor in comments.values()) == sorted(expected_quotes)
    assert any("Who approved the write-off?" in text for text, _ in comments.values())


def test_a_document_dropped_on_the_zone_is_uploaded(watched, server):
    page = watched.page
    page.evaluate(
        """() => {
          const text = "# Release plan\\n\\n## Summary\\n\\nWe ship on 3 March 2026. Owner: TBD.\\n";
          const transfer = new DataTransfer();
          transfer.items.add(new File([text], "plan.md", { type: "text/markdown" }));
          const zone = document.getElementById("drop-zone");
          zone.dispatchEvent(new DragEvent("dragover", { dataTransfer: transfer, bubbles: true, cancelable: true }));
          zone.dispatchEvent(new DragEvent("drop", { dataTransfer: transfer, bubbles: true, cancelable: true }));
        }"""
    )
    page.wait_for_url(re.compile(r"/reviews/[0-9a-f]+$"))
    page.wait_for_selector("#document [data-paragraph]")
    assert "We ship on 3 March 2026." in page.locator("#document").inner_text()


def test_a_file_the_server_refuses_shows_its_message_as_text(watched, server):
    page = watched.page
    page.set_input_files(
        "#file-input",
        files=[
            {"name": "<b>broken</b>.docx", "mimeType": DOCX_MIME, "buffer": b"not a zip archive"}
        ],
    )
    alert = page.locator("#upload-error")
    alert.wait_for(state="visible")
    assert alert.inner_text().strip()
    assert alert.locator("b").count() == 0
    assert "/reviews/" not in page.url
    # The browser logs the refused upload's 4xx response itself; nothing else may complain.
    watched.problems = [p for p in watched.problems if "Failed to load resource" not in p]


def test_clicking_a_finding_focuses_its_quote_and_the_quote_leads_back(watched, server):
    review_id = uploaded_review(server, messy_investigation_docx(), "sample.docx")
    page = open_review(watched, server, review_id)
    card = card_with_quote(page, 1)
    finding_id = card.get_attribute("data-id")
    card.locator(".finding-title button").click()
    focused = page.evaluate("document.activeElement.dataset.findings || ''")
    assert finding_id in focused.split()
    assert page.locator(f'mark.is-active[data-findings~="{finding_id}"]').count() >= 1

    other = card_with_quote(page, 0)
    other_id = other.get_attribute("data-id")
    page.locator(f'mark[data-findings~="{other_id}"]').first.click()
    assert page.locator(f"#finding-{other_id}").get_attribute("aria-current") == "true"


def test_filters_narrow_the_findings_list(watched, server):
    review_id = uploaded_review(server, messy_investigation_docx(), "sample.docx")
    page = open_review(watched, server, review_id)
    total = page.locator("#finding-list .finding").count()
    page.locator("#filter-toggle").click()
    page.select_option("#filter-type", "critical")
    critical = page.locator("#finding-list .finding").count()
    assert 0 < critical < total
    assert page.locator("#finding-list .finding:not(.finding-critical)").count() == 0
    page.locator("#filter-reset").click()
    expect(page.locator("#finding-list .finding")).to_have_count(total)


def test_keyboard_j_then_a_accepts_the_first_finding(watched, server):
    review_id = uploaded_review(server, messy_investigation_docx(), "sample.docx")
    page = open_review(watched, server, review_id)
    first = page.locator("#finding-list .finding").first
    first_id = first.get_attribute("data-id")

    page.locator("#filter-text").focus()
    page.keyboard.press("a")  # typing in the search box is not a shortcut
    assert page.locator("#filter-text").input_value() == "a"
    page.locator("#filter-text").fill("")
    page.locator("#document").focus()

    page.keyboard.press("j")
    assert first.get_attribute("aria-current") == "true"
    page.keyboard.press("a")
    page.wait_for_selector(f"#finding-{first_id} .decision-badge-accept")
    assert decision(server, review_id, first_id) == "accept"

    page.keyboard.press("u")
    page.wait_for_selector(f"#finding-{first_id} .decision-badge-pending")
    assert decision(server, review_id, first_id) is None

    page.keyboard.press("j")
    second_id = page.locator("#finding-list .finding[aria-current=true]").get_attribute("data-id")
    assert second_id != first_id
    page.keyboard.press("r")
    page.wait_for_selector(f"#finding-{second_id} .decision-badge-reject")
    assert decision(server, review_id, second_id) == "reject"


def test_edit_accepts_the_finding_with_the_reviewers_wording(watched, server):
    review_id = uploaded_review(server, messy_investigation_docx(), "sample.docx")
    page = open_review(watched, server, review_id)
    page.locator("#document").focus()
    page.keyboard.press("j")
    finding_id = page.locator("#finding-list .finding[aria-current=true]").get_attribute("data-id")
    page.keyboard.press("e")
    editor = page.locator(f"#edit-{finding_id}")
    assert editor.evaluate("e => e === document.activeElement")
    editor.fill("Fill in the case reference before this goes to Legal.")
    page.locator(f"#finding-{finding_id} [data-action=save-edit]").click()
    page.wait_for_selector(f"#finding-{finding_id} .finding-wording")
    review = server.api.get(server.url(f"/api/v1/reviews/{review_id}")).json()
    found = next(f for f in review["findings"] if f["id"] == finding_id)
    assert found["decision"]["action"] == "accept"
    assert found["decision"]["text"] == "Fill in the case reference before this goes to Legal."


def test_chat_answers_with_citations_that_scroll_to_the_text(watched, server):
    review_id = uploaded_review(server, messy_investigation_docx(), "sample.docx")
    page = open_review(watched, server, review_id)
    page.locator("#tab-chat").click()
    page.fill("#chat-input", "Which findings are high risk?")
    page.locator("#chat-send").click()
    answer = page.locator("#chat-log .chat-answer:not(.is-waiting)").last
    answer.wait_for()
    assert "high risk" in answer.locator(".chat-text").inner_text()
    citation = answer.locator(".citations a[data-paragraph]:not([data-paragraph=''])").first
    paragraph = citation.get_attribute("data-paragraph")
    citation.click()
    assert page.evaluate("document.activeElement.id") == f"p-{paragraph}"
    screenshot(page, "review-chat")

    page.reload()
    page.locator("#tab-chat").click()
    assert (
        page.locator("#chat-log .chat-question").first.inner_text()
        == "Which findings are high risk?"
    )


# -- safety -------------------------------------------------------------------------------------


def test_markup_in_a_document_is_shown_as_text_and_never_runs(watched, server):
    review_id = uploaded_review(server, hostile_docx(), "hostile.docx")
    page = open_review(watched, server, review_id)
    page.evaluate(SELECT_TEXT, SCRIPT)  # selection and highlighting rebuild the paragraphs
    page.locator("#add-finding-button").click()
    page.fill("#add-description", f"Quoted markup {IMG} must stay text.")
    page.locator("#add-save").click()
    page.locator("#finding-list .finding:has(.badge-custom)").wait_for()
    page.locator("#tab-chat").click()
    page.fill("#chat-input", f"What about {IMG} in the notes?")
    page.locator("#chat-send").click()
    page.locator("#chat-log .chat-answer:not(.is-waiting)").last.wait_for()
    page.reload()
    page.wait_for_selector("#finding-list .finding")

    document_text = page.locator("#document").inner_text()
    assert SCRIPT in document_text
    assert IMG in document_text
    assert SCRIPT in page.title()
    assert page.locator("#main script:not([type='application/json']), #main img").count() == 0
    assert page.locator("img[src=x]").count() == 0
    assert watched.dialogs == []
    screenshot(page, "review-hostile")


# -- the rest of the workbench ------------------------------------------------------------------


def test_help_overlay_opens_with_question_mark_and_closes_with_escape(watched, server):
    review_id = uploaded_review(server, messy_investigation_docx(), "sample.docx")
    page = open_review(watched, server, review_id)
    page.locator("#document").focus()
    page.keyboard.press("?")
    dialog = page.locator("#help-dialog")
    dialog.wait_for(state="visible")
    assert "Next finding" in dialog.inner_text()
    screenshot(page, "help")
    page.keyboard.press("j")  # shortcuts sleep while the dialog is open
    assert page.locator("#finding-list .finding[aria-current=true]").count() == 0
    page.keyboard.press("Escape")
    dialog.wait_for(state="hidden")


def test_dark_mode_toggle_sets_and_remembers_the_theme(watched, server):
    page = watched.page
    assert page.evaluate("document.documentElement.getAttribute('data-theme')") is None
    page.locator("#theme-toggle").click()
    assert page.evaluate("document.documentElement.getAttribute('data-theme')") == "dark"
    assert page.locator("#theme-toggle").get_attribute("aria-pressed") == "true"
    background = page.evaluate("getComputedStyle(document.body).backgroundColor")
    page.goto(server.url("/history"))
    assert page.evaluate("document.documentElement.getAttribute('data-theme')") == "dark"
    assert page.evaluate("localStorage.getItem('aiprism-theme')") == "dark"
    assert page.evaluate("getComputedStyle(document.body).backgroundColor") == background
    page.locator("#theme-toggle").click()
    assert page.evaluate("document.documentElement.getAttribute('data-theme')") == "light"


def test_history_lists_reviews_and_deletes_after_confirmation(watched, server):
    review_id = uploaded_review(server, messy_investigation_docx(), "to-delete.docx")
    page = watched.page
    page.goto(server.url("/history"))
    row = page.locator(f'tr[data-review="{review_id}"]')
    assert "to-delete.docx" in row.inner_text()
    screenshot(page, "history", full_page=True)
    row.get_by_role("button", name=re.compile("Delete")).click()
    row.wait_for(state="detached")
    assert any(d.startswith("confirm") for d in watched.dialogs)
    assert server.api.get(server.url(f"/api/v1/reviews/{review_id}")).status_code == 404


def test_statistics_show_charts_and_mute_a_rejected_rule(watched, server):
    review_id = uploaded_review(server, messy_investigation_docx(), "sample.docx")
    review = server.api.get(server.url(f"/api/v1/reviews/{review_id}")).json()
    target = next(f for f in review["findings"] if f["type"] != "positive")
    server.api.post(
        server.url(f"/api/v1/reviews/{review_id}/findings/{target['id']}/decision"),
        json={"action": "reject"},
    )
    page = watched.page
    page.goto(server.url("/stats"))
    assert page.locator("#chart-checkpoint tbody tr").count() > 0
    assert page.locator("#chart-risk svg.bar").count() == 3
    screenshot(page, "stats", full_page=True)
    button = page.locator(f'#most-rejected button[data-rule="{target["rule"]}"]')
    button.click()
    expect(button).to_have_text("Unmute")
    assert page.locator(f'#muted-rules [data-rule="{target["rule"]}"]').count() == 1
    muted = server.api.get(server.url("/api/v1/stats")).json()["muted_rules"]
    assert target["rule"] in muted
    button.click()
    expect(button).to_have_text("Mute")
    assert target["rule"] not in server.api.get(server.url("/api/v1/stats")).json()["muted_rules"]


def test_a_new_version_opens_and_compares_with_the_previous_one(watched, server):
    review_id = uploaded_review(server, messy_investigation_docx(), "sample.docx")
    page = open_review(watched, server, review_id)
    revised = docx.Document(io.BytesIO(messy_investigation_docx()))
    for p in revised.paragraphs:
        if "XX-XXX-XXXX" in p.text:
            p.text = p.text.replace("XX-XXX-XXXX", "TR-2026-0311")
    out = io.BytesIO()
    revised.save(out)
    page.set_input_files(
        "#version-input",
        files=[{"name": "sample-v2.docx", "mimeType": DOCX_MIME, "buffer": out.getvalue()}],
    )
    page.wait_for_url(re.compile(r"/reviews/(?!" + review_id + r")[0-9a-f]+$"))
    page.wait_for_selector("#finding-list .finding")
    page.get_by_role("link", name=re.compile("Compare with")).click()
    page.wait_for_url(re.compile(r"/diff$"))
    resolved = page.locator(".diff-resolved .diff-item")
    assert resolved.count() >= 1
    assert "XX-XXX-XXXX" in page.locator(".diff-resolved").inner_text()
    screenshot(page, "diff", full_page=True)


def test_decisions_carry_to_each_new_version_and_the_diff_shows_them(watched, server):
    v1 = uploaded_review(server, messy_investigation_docx(), "carry.docx")
    rejected = api_decide(server, v1, "timeline_out_of_order", "reject")
    edited = api_decide(server, v1, "root_cause_shallow", "accept", "Name the failed control.")
    api_decide(server, v1, "placeholder", "accept")  # on the case reference, fixed in version 2
    opening = next(
        s for s in review_of(server, v1)["document"]["sections"] if s["kind"] == "opening"
    )
    server.api.post(
        server.url(f"/api/v1/reviews/{v1}/findings"),
        json={"section_id": opening["id"], "quote": "Case reference", "description": SCRIPT},
    )
    page = open_review(watched, server, v1)
    page.set_input_files(
        "#version-input",
        files=[{"name": "carry-v2.docx", "mimeType": DOCX_MIME, "buffer": fixed_opening()}],
    )
    page.wait_for_url(re.compile(r"/reviews/(?!" + v1 + r")[0-9a-f]+$"))
    v2 = page.url.rsplit("/", 1)[1]
    page.wait_for_selector("#finding-list .finding")
    ids = {f["rule"]: f["id"] for f in review_of(server, v2)["findings"]}
    kept, refused = (
        page.locator(f"#finding-{ids[edited]}"),
        page.locator(f"#finding-{ids[rejected]}"),
    )
    expect(kept.locator(".carried-from")).to_have_text("carried from version 1")
    expect(kept.locator(".finding-wording")).to_contain_text("Name the failed control.")
    expect(refused).to_have_count(0)  # judged in version 1: hidden by the default filter
    expect(page.locator("#filter-summary")).to_contain_text("rejected in an earlier version")
    expect(page.locator("#carried-gone")).to_contain_text(SCRIPT)  # as text, never run
    page.locator("#filter-toggle").click()
    page.select_option("#filter-decision", "all")
    expect(refused.locator(".decision-badge")).to_have_text("Rejected")
    expect(refused.locator(".carried-from")).to_have_text("carried from version 1")
    page.select_option("#filter-decision", "pending")
    expect(refused).to_have_count(0)
    page.select_option("#filter-decision", "reject")
    expect(refused).to_be_visible()
    screenshot(page, "carried")
    refused.get_by_role("button", name="Undo").click()
    expect(refused).to_have_count(0)  # pending now: no longer a rejected one
    page.select_option("#filter-decision", "")
    expect(refused.locator(".decision-badge")).to_have_text("Pending")
    expect(refused.locator(".carried-from")).to_have_count(0)
    assert decision(server, v2, ids[rejected]) is None

    page.get_by_role("link", name=re.compile("Compare with")).click()
    page.wait_for_url(re.compile(r"/diff$"))
    expect(page.locator(".diff-resolved .diff-decision").first).to_contain_text("Accepted")
    expect(page.locator(".diff-persisting")).to_contain_text("carried from version 1")
    expect(page.locator(".diff-gone")).to_contain_text("No longer in the document")
    screenshot(page, "diff-decisions", full_page=True)

    created = server.api.post(
        server.url(f"/api/v1/reviews/{v2}/versions"),
        files={"file": ("carry-v3.docx", fixed_opening())},
    )
    v3 = created.json()["id"]
    assert server.wait_done(v3)["status"] == "done"
    page = open_review(watched, server, v3)
    ids = {f["rule"]: f["id"] for f in review_of(server, v3)["findings"]}
    expect(page.locator(f"#finding-{ids[edited]} .carried-from")).to_have_text(
        "carried from version 1"
    )
    expect(page.locator(f"#finding-{ids[rejected]} .decision-badge")).to_have_text("Pending")


def review_of(server: RunningServer, review_id: str) -> dict:
    return server.api.get(server.url(f"/api/v1/reviews/{review_id}")).json()


def api_decide(
    server: RunningServer, review_id: str, rule: str, action: str, text: str | None = None
) -> str:
    """Decide the review's first finding of `rule` through the API; return the rule."""
    found = next(f for f in review_of(server, review_id)["findings"] if f["rule"] == rule)
    url = server.url(f"/api/v1/reviews/{review_id}/findings/{found['id']}/decision")
    assert server.api.post(url, json={"action": action, "text": text}).status_code == 200
    return rule


def fixed_opening() -> bytes:
    """The sample with a new opening line: its case reference filled in, its wording changed."""
    revised = docx.Document(io.BytesIO(messy_investigation_docx()))
    next(p for p in revised.paragraphs if "XX-XXX-XXXX" in p.text).text = "Case CS-2026-0311."
    out = io.BytesIO()
    revised.save(out)
    return out.getvalue()


def test_layout_holds_at_1000_pixels(watched, server):
    review_id = uploaded_review(server, messy_investigation_docx(), "sample.docx")
    page = watched.page
    page.set_viewport_size({"width": 1000, "height": 760})
    open_review(watched, server, review_id)
    widths = page.evaluate(
        "[...document.querySelectorAll('#section-pane, #document-pane, #side-pane')]"
        ".map(e => e.getBoundingClientRect().width)"
    )
    assert all(w >= 150 for w in widths), widths
    assert page.evaluate("document.documentElement.scrollWidth") <= 1000
    screenshot(page, "review-1000px")


def test_settings_show_each_providers_fields_and_attach_team_guidelines(watched, server):
    page = watched.page
    page.goto(server.url("/settings"))
    page.get_by_label("Claude API").check()
    expect(page.locator("#setting-api-key")).to_be_visible()
    expect(page.locator("#setting-base-url")).to_be_hidden()
    expect(page.locator("#setting-mask")).to_be_checked()
    expect(page.locator("#model-hint")).to_contain_text("claude-sonnet-4-5")
    page.get_by_label("Amazon Bedrock").check()
    expect(page.locator("#setting-region")).to_be_visible()
    expect(page.locator("#setting-api-key")).to_be_hidden()
    page.get_by_label("Off").check()
    expect(page.locator("#ai-test")).to_be_hidden()

    item = page.locator('.guidelines-item[data-framework="investigation"]')
    item.locator(".guidelines-file").set_input_files(
        files=[
            {
                "name": "our-rules.md",
                "mimeType": "text/markdown",
                "buffer": b"# Our rules\n\nEvery action names an on-call engineer.\n",
            }
        ]
    )
    expect(item.locator(".guidelines-state")).to_contain_text("our-rules.md (")
    screenshot(page, "settings", full_page=True)
    item.locator(".guidelines-remove").click()
    expect(item.locator(".guidelines-state")).to_have_text("no document attached")
    stored = server.api.get(server.url("/api/v1/frameworks/investigation/guidelines")).json()
    assert stored == {"guidelines": None}


def test_history_loads_older_pages_as_the_reader_scrolls(watched, server):
    for n in range(9):
        assert server.upload(b"# Summary\n\nA short note.\n", f"page-{n}.md").status_code == 202
    expected = [
        r["id"] for r in server.api.get(server.url("/api/v1/reviews?limit=200")).json()["reviews"]
    ]
    assert len(expected) >= 9
    page = watched.page
    page.set_viewport_size({"width": 1400, "height": 500})
    page.goto(server.url("/history?limit=4"))
    rows = page.locator("#history-rows tr[data-review]")
    expect(rows).to_have_count(4)
    page.locator("#history-more").scroll_into_view_if_needed()
    expect(rows).to_have_count(8)  # the next page, appended when the end came into view
    for _ in range(len(expected)):  # and so on to the oldest, each page when its end shows
        if page.locator("#history-more").is_hidden():
            break
        page.locator("#history-more").scroll_into_view_if_needed()
        page.wait_for_timeout(200)
    expect(rows).to_have_count(len(expected))
    assert [r.get_attribute("data-review") for r in rows.all()] == expected
    expect(page.locator("#history-more")).to_be_hidden()
