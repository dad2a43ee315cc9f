"""The JSON API against a real `aiprism serve` (Waitress on 127.0.0.1) in a child process."""

from __future__ import annotations

import io
import json

import docx
import pytest
import requests

from server.samples import SHORT_WRITE_UP_MD, messy_investigation_docx
from server.settings import Settings
from server.web import create_app
from tests.server_process import running_server


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with running_server(tmp_path_factory.mktemp("data")) as running:
        yield running


@pytest.fixture(scope="module")
def done_review(server):
    created = server.upload(messy_investigation_docx(), "payment-reversal.docx")
    assert created.status_code == 202, created.text
    return server.wait_done(created.json()["id"])


def test_health_needs_no_token_and_touches_nothing(server):
    response = requests.get(server.url("/health"))
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "healthy" and body["version"] and body["time"]


def test_api_without_token_is_refused(server):
    response = requests.get(server.url("/api/v1/reviews"))
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "unauthorised"


def test_token_link_sets_a_strict_httponly_cookie_and_redirects_to_the_clean_url(server):
    response = requests.get(server.url(f"/?token={server.token}"), allow_redirects=False)
    assert response.status_code == 303 and response.headers["Location"] == "/"
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie


def test_upload_answers_202_at_once_and_the_analysis_finishes(server, done_review):
    assert done_review["status"] == "done"
    assert done_review["progress"]["done"] == done_review["progress"]["total"] > 0
    assert done_review["document"]["title"].startswith("Investigation:")
    assert done_review["findings"] and all(f["decision"] is None for f in done_review["findings"])
    assert done_review["counts"]["total"] == len(done_review["findings"])


def test_unsupported_file_gets_a_4xx_with_a_readable_message(server):
    response = server.upload(b"\x00\x01binary", "data.exe")
    assert 400 <= response.status_code < 500
    error = response.json()["error"]
    assert (error["code"] and "unsupported" in error["message"]) or ".docx" in error["message"]


def test_broken_docx_is_refused_and_the_server_stays_healthy(server):
    response = server.upload(b"PK\x03\x04broken", "broken.docx")
    assert response.status_code == 422
    assert "damaged" in response.json()["error"]["message"]
    assert requests.get(server.url("/health")).status_code == 200


def test_history_lists_newest_first(server, done_review):
    second = server.upload(messy_investigation_docx(), "second.docx").json()
    server.wait_done(second["id"])
    reviews = server.api.get(server.url("/api/v1/reviews")).json()["reviews"]
    assert [r["id"] for r in reviews[:2]] == [second["id"], done_review["id"]]


def test_decisions_are_recorded_and_can_be_reset(server, done_review):
    rid = done_review["id"]
    fid = done_review["findings"][0]["id"]
    url = server.url(f"/api/v1/reviews/{rid}/findings/{fid}/decision")
    accepted = server.api.post(url, json={"action": "accept", "text": "Edited wording."}).json()
    assert (
        accepted["decision"]["action"] == "accept"
        and accepted["decision"]["text"] == "Edited wording."
    )
    assert server.api.post(url, json={"action": "reset"}).json()["decision"] is None
    bad = server.api.post(url, json={"action": "maybe"})
    assert bad.status_code == 400


def test_custom_finding_on_a_quote_is_accepted_by_default(server, done_review):
    rid = done_review["id"]
    section = next(s for s in done_review["document"]["sections"] if s["kind"] == "background")
    body = {
        "section_id": section["id"],
        "quote": "Risk Limits Service",
        "type": "important",
        "risk": "high",
        "description": "Explain who owns the Risk Limits Service.",
        "suggestion": "Name the owning team.",
    }
    created = server.api.post(server.url(f"/api/v1/reviews/{rid}/findings"), json=body)
    assert created.status_code == 201, created.text
    finding = created.json()
    assert (
        finding["span"]["quote"] == "Risk Limits Service"
        and finding["decision"]["action"] == "accept"
    )
    missing = server.api.post(
        server.url(f"/api/v1/reviews/{rid}/findings"), json={**body, "quote": "nowhere"}
    )
    assert missing.status_code == 400


def test_chat_answers_with_cited_sections(server, done_review):
    rid = done_review["id"]
    reply = server.api.post(
        server.url(f"/api/v1/reviews/{rid}/chat"), json={"message": "Where are owners named?"}
    )
    assert reply.status_code == 200
    body = reply.json()
    assert "Owner" in body["answer"] and body["citations"]
    reply = server.api.post(
        server.url(f"/api/v1/reviews/{rid}/chat"), json={"message": "how much was recovered?"}
    )
    assert "48,250" in reply.json()["answer"]


def test_docx_export_holds_only_accepted_findings_with_edited_text(server, done_review):
    rid = done_review["id"]
    findings = [f for f in done_review["findings"] if f["span"]][:3]
    for f, action in zip(findings, ("accept", "accept", "reject"), strict=True):
        server.api.post(
            server.url(f"/api/v1/reviews/{rid}/findings/{f['id']}/decision"),
            json={"action": action, "text": "Reviewer wording" if action == "accept" else None},
        )
    response = server.api.get(server.url(f"/api/v1/reviews/{rid}/export/docx"))
    assert response.status_code == 200
    assert "attachment" in response.headers["Content-Disposition"]
    document = docx.Document(io.BytesIO(response.content))
    texts = [c.text for c in document.comments]
    assert sum("Reviewer wording" in t for t in texts) == 2


@pytest.mark.parametrize("fmt", ["html", "csv", "json"])
def test_report_exports(server, done_review, fmt):
    response = server.api.get(server.url(f"/api/v1/reviews/{done_review['id']}/export/{fmt}"))
    assert response.status_code == 200 and response.content
    if fmt == "json":
        assert json.loads(response.content)["review"]["id"] == done_review["id"]


def test_complete_and_audit_trail(server, done_review):
    rid = done_review["id"]
    assert server.api.post(server.url(f"/api/v1/reviews/{rid}/complete")).json()["completed_at"]
    types = [
        e["type"]
        for e in server.api.get(server.url(f"/api/v1/reviews/{rid}/events")).json()["events"]
    ]
    assert types[:3] == ["created", "started", "analysed"] and "completed" in types


def test_new_version_and_diff(server, done_review):
    rid = done_review["id"]
    fixed = without_case_placeholder(messy_investigation_docx())
    created = server.api.post(
        server.url(f"/api/v1/reviews/{rid}/versions"), files={"file": ("v2.docx", fixed)}
    )
    assert created.status_code == 202
    new_id = created.json()["id"]
    server.wait_done(new_id)
    diff = server.api.get(server.url(f"/api/v1/reviews/{new_id}/diff")).json()
    assert any(f["span"] and f["span"]["quote"] == "XX-XXX-XXXX" for f in diff["resolved"])
    assert diff["persisting"]


def test_stats_and_muting_a_rule(server, done_review):
    stats = server.api.get(server.url("/api/v1/stats")).json()
    assert stats["reviews"] >= 1 and stats["rules"]
    page = server.api.get(server.url("/stats")).text
    assert "Documentation and records" in page  # checkpoints by their framework names
    muted = server.api.post(
        server.url("/api/v1/settings/muted-rules"), json={"rule": "passive_voice", "muted": True}
    )
    assert "passive_voice" in muted.json()["muted_rules"]
    server.api.post(
        server.url("/api/v1/settings/muted-rules"), json={"rule": "passive_voice", "muted": False}
    )


def test_progress_is_pollable_and_streams_as_server_sent_events(server, done_review):
    rid = done_review["id"]
    polled = server.api.get(server.url(f"/api/v1/reviews/{rid}/progress")).json()
    assert polled["status"] == "done"
    streamed = server.api.get(
        server.url(f"/api/v1/reviews/{rid}/progress"), headers={"Accept": "text/event-stream"}
    )
    assert streamed.headers["Content-Type"].startswith("text/event-stream")
    assert streamed.text.startswith("data: ")


def test_delete_removes_a_review_and_its_document(tmp_path):
    with running_server(tmp_path) as server:
        rid = server.upload(messy_investigation_docx(), "gone.docx").json()["id"]
        server.wait_done(rid)
        stored = [p for p in (tmp_path / "blobs").rglob("*") if p.is_file()]
        assert len(stored) == 1
        assert server.api.delete(server.url(f"/api/v1/reviews/{rid}")).status_code == 204
        assert server.api.get(server.url(f"/api/v1/reviews/{rid}")).status_code == 404
        assert not stored[0].exists()


def test_reviews_and_decisions_survive_a_restart(tmp_path):
    with running_server(tmp_path, token="fixed-token") as first:
        review = first.wait_done(first.upload(messy_investigation_docx(), "keep.docx").json()["id"])
        fid = review["findings"][0]["id"]
        first.api.post(
            first.url(f"/api/v1/reviews/{review['id']}/findings/{fid}/decision"),
            json={"action": "reject"},
        )
        first.kill()
    with running_server(tmp_path, token="fixed-token") as second:
        again = second.api.get(second.url(f"/api/v1/reviews/{review['id']}")).json()
        assert (
            next(f for f in again["findings"] if f["id"] == fid)["decision"]["action"] == "reject"
        )


def without_case_placeholder(data: bytes) -> bytes:
    """The sample with its 'XX-XXX-XXXX' case reference filled in: a fixed second version."""
    document = docx.Document(io.BytesIO(data))
    for paragraph in document.paragraphs:
        for run in paragraph.runs:
            run.text = run.text.replace("XX-XXX-XXXX", "CS-2026-0311")
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def test_export_of_a_file_with_a_non_ascii_name_keeps_its_name(server):
    created = server.upload(messy_investigation_docx(), "Révision – incident №7.docx").json()
    server.wait_done(created["id"])
    response = server.api.get(server.url(f"/api/v1/reviews/{created['id']}/export/docx"))
    assert response.status_code == 200
    disposition = response.headers["Content-Disposition"]
    assert 'filename="Revision' in disposition
    assert "filename*=UTF-8''R%C3%A9vision%20%E2%80%93%20incident%20%E2%84%967" in disposition


def test_a_new_app_warms_up_in_the_background_and_answers_health_meanwhile(tmp_path):
    app = create_app(Settings(data_dir=tmp_path, token=None))
    service = app.config["SERVICE"]
    assert app.test_client().get("/health").status_code == 200  # at once, warm or not
    assert service.warmed.wait(60)
    created = service.create(SHORT_WRITE_UP_MD.encode(), "w.md")
    service.jobs.wait_idle(60)
    assert service.get(created.id).status == "done"


def test_decisions_carry_across_three_versions(server):
    v1 = server.wait_done(server.upload(messy_investigation_docx(), "carry.docx").json()["id"])
    rejected = finding(v1, "timeline_out_of_order")
    edited = finding(v1, "root_cause_shallow")
    resolved = finding(v1, "placeholder", "XX-XXX-XXXX")
    decide(server, v1, rejected, "reject")
    decide(server, v1, edited, "accept", "Name the control that failed, not a person.")
    decide(server, v1, resolved, "accept")
    add_own(server, v1, "background", "Risk Limits Service", "Who owns it?")
    add_own(server, v1, "opening", "Trust Investigations team", "<b>Name</b> the team")

    v2 = next_version(server, v1, with_opening("Prepared by Fraud Ops. Case CS-2026-0311."))
    assert finding(v2, "timeline_out_of_order")["decision"] == {
        **finding(v1, "timeline_out_of_order")["decision"],
        "carried_from": {"review_id": v1["id"], "version": 1, "finding_id": rejected["id"]},
    }
    assert finding(v2, "root_cause_shallow")["decision"]["text"].startswith("Name the control")
    assert not any(f["span"] and f["span"]["quote"] == "XX-XXX-XXXX" for f in v2["findings"])
    [own] = [f for f in v2["findings"] if f["custom"]]
    assert own["span"]["quote"] == "Risk Limits Service" and own["decision"]["action"] == "accept"
    assert own["decision"]["carried_from"]["version"] == 1
    assert [g["title"] for g in v2["carried"]["gone"]] == ["<b>Name</b> the team"]
    kinds = [e["type"] for e in events_of(server, v2)]
    assert kinds.count("carried") == 1 and kinds[kinds.index("analysed") + 1] == "carried"

    diff = server.api.get(server.url(f"/api/v1/reviews/{v2['id']}/diff")).json()
    gone_row = next(r for r in diff["resolved"] if r["id"] == resolved["id"])
    assert gone_row["decision"]["action"] == "accept" and "carried_from" not in gone_row["decision"]
    still = next(r for r in diff["persisting"] if r["rule"] == "timeline_out_of_order")
    assert still["decision"]["carried_from"]["version"] == 1
    assert [g["quote"] for g in diff["gone"]] == ["Trust Investigations team"]
    assert not any(r["custom"] for r in diff["resolved"])
    for page in (f"/reviews/{v2['id']}", f"/reviews/{v2['id']}/diff"):
        html = server.api.get(server.url(page)).text
        assert "no longer in the document" in html.lower() and "<b>Name</b>" not in html

    decide(server, v2, finding(v2, "timeline_out_of_order"), "reset")
    fresh = finding(v2, "date_format_mixed", "2026-03-05 16:40")
    decide(server, v2, fresh, "accept")

    v3 = next_version(server, v2, with_opening("Prepared by Fraud Ops. Case CS-2026-0311."))
    assert finding(v3, "timeline_out_of_order")["decision"] is None
    assert finding(v3, "root_cause_shallow")["decision"]["carried_from"] == {
        "review_id": v1["id"],
        "version": 1,
        "finding_id": edited["id"],
    }
    assert finding(v3, "date_format_mixed", "2026-03-05 16:40")["decision"]["carried_from"] == {
        "review_id": v2["id"],
        "version": 2,
        "finding_id": fresh["id"],
    }
    [own] = [f for f in v3["findings"] if f["custom"]]
    assert own["decision"]["carried_from"]["version"] == 1 and v3["carried"]["gone"] == []
    exported = server.api.get(server.url(f"/api/v1/reviews/{v3['id']}/export/docx"))
    comments = [c.text for c in docx.Document(io.BytesIO(exported.content)).comments]
    assert any("Name the control that failed" in c for c in comments)
    assert any("Who owns it?" in c for c in comments)


def finding(review: dict, rule: str, quote: str | None = None) -> dict:
    return next(
        f
        for f in review["findings"]
        if f["rule"] == rule and (quote is None or (f["span"] or {}).get("quote") == quote)
    )


def decide(server, review: dict, f: dict, action: str, text: str | None = None) -> None:
    url = server.url(f"/api/v1/reviews/{review['id']}/findings/{f['id']}/decision")
    assert server.api.post(url, json={"action": action, "text": text}).status_code == 200
    review.update(server.api.get(server.url(f"/api/v1/reviews/{review['id']}")).json())


def add_own(server, review: dict, kind: str, quote: str, title: str) -> None:
    section = next(s for s in review["document"]["sections"] if s["kind"] == kind)
    body = {"section_id": section["id"], "quote": quote, "title": title, "description": title}
    created = server.api.post(server.url(f"/api/v1/reviews/{review['id']}/findings"), json=body)
    assert created.status_code == 201, created.text
    review.update(server.api.get(server.url(f"/api/v1/reviews/{review['id']}")).json())


def next_version(server, review: dict, data: bytes) -> dict:
    created = server.api.post(
        server.url(f"/api/v1/reviews/{review['id']}/versions"), files={"file": ("next.docx", data)}
    )
    assert created.status_code == 202, created.text
    return server.wait_done(created.json()["id"])


def events_of(server, review: dict) -> list[dict]:
    return server.api.get(server.url(f"/api/v1/reviews/{review['id']}/events")).json()["events"]


def with_opening(text: str) -> bytes:
    """The sample with its opening line (the case reference) rewritten."""
    document = docx.Document(io.BytesIO(messy_investigation_docx()))
    next(p for p in document.paragraphs if "XX-XXX-XXXX" in p.text).text = text
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()
