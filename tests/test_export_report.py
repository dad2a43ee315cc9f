"""The HTML, CSV and JSON reports: what a reviewer hands on, built from a review's folded state."""

from __future__ import annotations

import csv
import dataclasses
import io
import json
import re
from datetime import date

import pytest

from server.documents import load_document
from server.engines import offline
from server.exports.report import CSV_COLUMNS, report_csv, report_html, report_json
from server.frameworks import resolve
from server.model import Document, Finding, Span, finding_id
from server.review import ReviewState
from server.samples import messy_investigation_docx

AS_OF = date(2026, 11, 28)
XSS_QUOTE = "<script>alert(1)</script> and <img src=x onerror=alert(1)>"
EDITED = "The reversal limit was skipped for migrated merchants; say which flag caused it."
CUSTOM_TITLE = "Reviewer: name the approver of the write-off"
REJECTED_TITLE = "Owner is TBD"


@pytest.fixture(scope="module")
def framework():
    return resolve("investigation")


@pytest.fixture(scope="module")
def document(framework) -> Document:
    return load_document(messy_investigation_docx(), "messy.docx", framework)


def _paragraph_containing(doc: Document, text: str):
    return next(p for p in doc.paragraphs if text in p.text and not p.is_heading)


def _section_of(doc: Document, index: int) -> str:
    return next(s.id for s in doc.sections if any(p.index == index for p in s.paragraphs))


def _finding(
    doc: Document,
    rule: str,
    needle: str | None,
    *,
    type: str = "important",
    risk: str = "medium",
    title: str = "",
    description: str = "",
    engine: str = "offline",
    section_id: str | None = None,
) -> Finding:
    span = None
    if needle is not None:
        paragraph = _paragraph_containing(doc, needle)
        start = paragraph.text.index(needle)
        span = Span.of(paragraph, start, start + len(needle))
        section_id = _section_of(doc, paragraph.index)
    return Finding(
        id=finding_id(rule, section_id, span),
        engine=engine,
        rule=rule,
        type=type,
        checkpoints=("root_cause_analysis", "financial_impact"),
        risk=risk,
        confidence=0.8,
        title=title or f"Finding from {rule}",
        description=description or f"Description for {rule}.",
        suggestion=f"Suggestion for {rule}.",
        questions=("Who owns this?", "When is it due?"),
        section_id=section_id,
        span=span,
    )


@pytest.fixture()
def state(document, framework) -> ReviewState:
    findings = list(offline.review(document, framework, as_of=AS_OF).findings)
    accepted = _finding(
        document, "test-root-cause", "RC2: Human error.", type="critical", risk="high"
    )
    rejected = _finding(document, "test-owner", "Owner: TBD", title=REJECTED_TITLE)
    pending = _finding(document, "test-placeholder", "Completed: X", type="suggestion", risk="low")
    whole = _finding(document, "test-missing", None, title="No lessons learned section")
    excluded = _finding(
        document, "test-phone", "+1 415 555 0134", title="Phone number in pasted e-mail"
    )
    custom = _finding(
        document,
        "reviewer",
        "$13,650 is written off",
        engine="reviewer",
        title=CUSTOM_TITLE,
        description='=HYPERLINK("http://evil")',
    )
    findings += [accepted, rejected, pending, whole, excluded, custom]
    return ReviewState(
        id="r-1",
        filename="messy.docx",
        format="docx",
        framework="investigation",
        framework_version=framework.version,
        status="done",
        created_at="2026-11-28T09:00:00.000Z",
        updated_at="2026-11-28T10:00:00.000Z",
        completed_at="2026-11-28T10:00:00.000Z",
        document=document,
        findings=findings,
        decisions={
            accepted.id: {"action": "accept", "text": EDITED, "at": "2026-11-28T09:30:00.000Z"},
            rejected.id: {"action": "reject", "text": None, "at": "2026-11-28T09:31:00.000Z"},
            custom.id: {"action": "accept", "text": None, "at": "2026-11-28T09:32:00.000Z"},
        },
        custom={custom.id},
        chat=[
            {
                "message": "Who owns <b>recovery</b>?",
                "answer": "Finance Operations.\nSee Resolving Actions.",
                "citations": [
                    {"section_id": "s6", "section": "Resolving Actions", "paragraph": 12}
                ],
                "engine": "offline",
                "at": "2026-11-28T09:40:00.000Z",
            }
        ],
    )


def _with_quote(state: ReviewState, quote: str, description: str) -> ReviewState:
    """A reviewer-added finding whose wording carries markup, as an attacker would write it."""
    span = Span(paragraph=1, start=0, end=len(quote), quote=quote)
    hostile = Finding(
        id=finding_id("reviewer", "s2", span),
        engine="reviewer",
        rule="reviewer",
        type="important",
        checkpoints=("<script>cp</script>",),
        risk="high",
        confidence=1.0,
        title="<script>alert('title')</script>",
        description=description,
        suggestion="<img src=x onerror=alert(2)>",
        questions=("<script>alert(3)</script>",),
        section_id="s2",
        span=span,
    )
    decisions = {**state.decisions, hostile.id: {"action": "accept", "text": XSS_QUOTE, "at": "x"}}
    return dataclasses.replace(state, findings=[*state.findings, hostile], decisions=decisions)


# --- HTML ---------------------------------------------------------------------------------------


def test_html_shows_review_facts_and_counts(state, framework):
    html = report_html(state, framework)
    assert html.startswith("<!DOCTYPE html>")
    assert "Investigation: Payment Reversal Abuse on Merchant Accounts" in html
    assert "messy.docx" in html
    assert framework.name in html and f"version {framework.version}" in html
    assert "2026-11-28 09:00 UTC" in html and "2026-11-28 10:00 UTC" in html
    counts = state.counts()
    assert f"{counts['total']} findings in total" in html
    assert f"<td>accepted</td><td>{counts['by_decision']['accept']}</td>" in html


def test_html_shows_edited_text_of_accepted_findings(state, framework):
    html = report_html(state, framework)
    for finding in state.accepted():
        text = (state.decisions[finding.id].get("text")) or finding.description
        assert _escaped(text) in html
    assert _escaped(EDITED) in html
    assert ">edited</span>" in html


def test_html_names_checkpoints_from_the_framework(state, framework):
    html = report_html(state, framework)
    assert "Root cause analysis" in html and "Financial impact" in html
    assert "root_cause_analysis" in report_html(state)  # without a framework the ids stand in


def test_html_marks_decisions_custom_findings_and_quotes(state, framework):
    html = report_html(state, framework)
    assert "reviewer-added" in html and _escaped(CUSTOM_TITLE) in html
    assert "<blockquote>RC2: Human error.</blockquote>" in html
    assert "Decision: accepted" in html and "Decision: rejected" in html
    assert "Decision: pending" in html
    assert "confidence 80%" in html
    assert "<li>Who owns this?</li>" in html


def test_html_orders_document_level_findings_first_then_sections_in_document_order(
    state, framework
):
    html = report_html(state, framework)
    whole = html.index("No lessons learned section")
    headings = [html.index(f"<h2>{_escaped(s.title)}</h2>") for s in state.document.sections]
    assert whole < headings[0]
    assert headings == sorted(headings)
    root_causes = html.index("<h2>Root Causes and Preventative Actions</h2>")
    assert root_causes < html.index("<blockquote>RC2: Human error.</blockquote>")


def test_html_lists_excluded_sections_as_not_reviewed(state, framework):
    html = report_html(state, framework)
    assert "Not reviewed: email thread" in html
    # a finding on an excluded section (personal data travels with it) is still shown there
    assert html.index("Not reviewed: email thread") < html.index("Phone number in pasted e-mail")


def test_html_can_leave_out_rejected_findings(state, framework):
    assert REJECTED_TITLE in report_html(state, framework)
    html = report_html(state, framework, include_rejected=False)
    assert REJECTED_TITLE not in html
    assert "Decision: rejected" not in html
    assert "1 rejected findings are left out" in html
    assert _escaped(EDITED) in html


def test_html_includes_chat_transcript(state, framework):
    html = report_html(state, framework)
    assert "Chat transcript" in html
    assert "Who owns &lt;b&gt;recovery&lt;/b&gt;?" in html
    assert "Finance Operations.\nSee Resolving Actions." in html
    assert "Sources: Resolving Actions ¶12" in html
    assert "Chat transcript" not in report_html(dataclasses.replace(state, chat=[]), framework)


def test_html_escapes_everything_from_the_document_and_reviewer(state, framework):
    hostile = _with_quote(state, XSS_QUOTE, "<b onmouseover=alert(4)>bold</b>")
    html = report_html(hostile, framework)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html
    assert "&lt;img src=x onerror=alert(2)&gt;" in html
    assert not re.search(r"<script", html, re.IGNORECASE)
    assert "<img" not in html and "<b " not in html


def test_html_is_self_contained(state, framework):
    html = report_html(state, framework)
    assert "<style>" in html
    assert not re.search(r"<(script|link|iframe)\b", html, re.IGNORECASE)
    assert not re.search(r"(src|href)\s*=", html, re.IGNORECASE)
    assert "url(" not in html and "@import" not in html


def test_html_of_a_review_without_a_document(framework):
    state = ReviewState(
        id="r-2", filename="broken.pdf", status="failed", created_at="2026-11-28T09:00:00Z"
    )
    html = report_html(state, framework)
    assert "broken.pdf" in html and "failed" in html and "0 findings in total" in html


def test_html_is_deterministic(state, framework):
    assert report_html(state, framework) == report_html(state, framework)


# --- CSV ----------------------------------------------------------------------------------------


def _rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def test_csv_has_one_row_per_finding_with_the_agreed_columns(state):
    text = report_csv(state)
    reader = csv.DictReader(io.StringIO(text))
    assert tuple(reader.fieldnames or ()) == CSV_COLUMNS
    rows = list(reader)
    assert len(rows) == len(state.findings)
    assert [r["id"] for r in rows] == [f.id for f in state.findings]


def test_csv_carries_decisions_edits_and_spans(state):
    rows = {r["id"]: r for r in _rows(report_csv(state))}
    accepted = next(f for f in state.findings if f.rule == "test-root-cause")
    row = rows[accepted.id]
    assert row["decision"] == "accepted" and row["edited_text"] == EDITED
    assert row["decided_at"] == "2026-11-28T09:30:00.000Z"
    assert row["quote"] == "RC2: Human error."
    assert int(row["paragraph"]) == accepted.span.paragraph
    assert (int(row["start"]), int(row["end"])) == (accepted.span.start, accepted.span.end)
    assert row["section"] == "Root Causes and Preventative Actions"
    assert row["checkpoints"] == "root_cause_analysis;financial_impact"
    assert row["questions"] == "Who owns this? | When is it due?"
    assert row["confidence"] == "0.80" and row["custom"] == "no"
    statuses = {r["title"]: r["decision"] for r in rows.values()}
    assert statuses[REJECTED_TITLE] == "rejected"
    whole = next(r for r in rows.values() if r["title"] == "No lessons learned section")
    assert whole["decision"] == "pending" and whole["quote"] == "" and whole["paragraph"] == ""
    assert next(r for r in rows.values() if r["title"] == CUSTOM_TITLE)["custom"] == "yes"


@pytest.mark.parametrize("start", ["=", "+", "-", "@", "\t", "\r"])
def test_csv_defuses_cells_a_spreadsheet_would_run_as_a_formula(state, start):
    payload = start + "cmd|' /C calc'!A0"
    hostile = _with_quote(state, payload, payload)
    rows = _rows(report_csv(hostile))
    row = next(
        r
        for r in rows
        if r["engine"] == "reviewer" and r["rule"] == "reviewer" and r["quote"].startswith("'")
    )
    assert row["quote"] == "'" + payload
    assert row["description"] == "'" + payload


def test_csv_guards_every_column_not_only_the_quote(state):
    rows = {r["title"]: r for r in _rows(report_csv(state))}
    assert rows[CUSTOM_TITLE]["description"] == '\'=HYPERLINK("http://evil")'
    # the excluded e-mail section's title starts with dashes
    phone = rows["Phone number in pasted e-mail"]
    assert phone["section"] == "'-----Original Message-----"
    assert phone["quote"] == "'+1 415 555 0134"
    for row in rows.values():
        for value in row.values():
            assert not value or value[0] not in "=+-@\t\r"


def test_csv_keeps_newlines_and_commas_inside_cells(state):
    findings = [
        *state.findings,
        dataclasses.replace(state.findings[-1], id="Fnl", title='a, "b"\nc'),
    ]
    rows = _rows(report_csv(dataclasses.replace(state, findings=findings)))
    assert rows[-1]["title"] == 'a, "b"\nc'


# --- JSON ---------------------------------------------------------------------------------------


def test_json_round_trips_and_has_a_fixed_shape(state):
    data = report_json(state)
    assert list(data) == ["review", "document", "findings", "counts", "chat"]
    assert list(data["review"]) == [
        "id",
        "filename",
        "framework",
        "framework_version",
        "status",
        "created_at",
        "completed_at",
        "created_by",
        "completed_by",
        "version",
        "parent_id",
        "engines",
        "ai_usage",
    ]
    text = json.dumps(data)
    assert json.loads(text) == data
    assert json.dumps(report_json(state)) == text
    assert Document.from_dict(data["document"]).to_dict() == state.document.to_dict()
    assert data["counts"] == state.counts()


def test_json_findings_carry_decision_and_custom_flag(state):
    data = report_json(state)
    assert len(data["findings"]) == len(state.findings)
    by_id = {f["id"]: f for f in data["findings"]}
    accepted = next(f for f in state.findings if f.rule == "test-root-cause")
    assert by_id[accepted.id]["decision"] == {
        "action": "accept",
        "text": EDITED,
        "at": "2026-11-28T09:30:00.000Z",
        "by": None,
        "carried_from": None,
    }
    assert Finding.from_dict(by_id[accepted.id]) == accepted
    custom_id = next(iter(state.custom))
    assert by_id[custom_id]["custom"] is True
    assert sum(1 for f in data["findings"] if f["custom"]) == 1
    pending = next(f for f in state.findings if f.rule == "test-placeholder")
    assert by_id[pending.id]["decision"] is None


def test_json_without_a_document():
    data = report_json(ReviewState(id="r-3", filename="x.txt"))
    assert data["document"] is None and data["findings"] == [] and data["chat"] == []
    json.dumps(data)


def _escaped(text: str) -> str:
    return (
        text.replace("&", "&amp;")
        .replace("<", "&lt;")
        .replace(">", "&gt;")
        .replace('"', "&#34;")
        .replace("'", "&#39;")
    )


def test_a_carried_decision_names_its_version_in_every_report(state, framework):
    accepted = next(f for f in state.findings if f.rule == "test-root-cause")
    origin = {"review_id": "r-0", "version": 1, "finding_id": "F000000000001"}
    carried = {**state.decisions[accepted.id], "carried_from": origin}
    state = dataclasses.replace(state, decisions={**state.decisions, accepted.id: carried})
    rows = {r["id"]: r for r in _rows(report_csv(state))}
    assert rows[accepted.id]["decision"] == "accepted"
    assert {
        fid: r["carried_from_version"] for fid, r in rows.items() if r["carried_from_version"]
    } == {accepted.id: "1"}
    data = next(f for f in report_json(state)["findings"] if f["id"] == accepted.id)
    assert data["decision"]["carried_from"] == origin and data["decision"]["text"] == EDITED
    assert "carried from version 1" in report_html(state, framework)
