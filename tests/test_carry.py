"""Decisions carried to a new version: what `carried` holds, how the fold keeps it, and that the
service records it exactly once however the analysis ends (a kill in between, a re-run)."""

from __future__ import annotations

import pytest

from server import carry, stats
from server.jobs import JobRunner
from server.model import Finding, Span, finding_id
from server.review import ReviewState, apply, fold
from server.service import ReviewService
from server.settings import Settings
from server.store.base import Event
from server.store.sqlite import SQLiteStore
from tests.builders import document

ANN = {"sub": "ann", "name": "Ann Smith", "email": "ann@example.com"}
V1_MD = b"""# Executive summary

The payment reversal was TBD. Owner: Dana Whitfield.

# Background

The Risk Limits Service failed during the migration. Some merchants were affected.
"""
V2_MD = V1_MD.replace(b"Some merchants were affected.", b"Forty merchants were affected.")


def _finding(doc, rule: str, quote: str | None, section_id: str, **extra) -> Finding:
    span = None
    if quote is not None:
        para = next(p for p in doc.paragraphs if quote in p.text)
        at = para.text.index(quote)
        span = Span.of(para, at, at + len(quote))
    return Finding(
        id=extra.pop("id", None) or finding_id(rule, section_id, span),
        engine="offline",
        rule=rule,
        type=extra.pop("type", "important"),
        checkpoints=(),
        risk="medium",
        confidence=0.8,
        title=extra.pop("title", f"About {quote}"),
        description="",
        suggestion="",
        questions=(),
        section_id=section_id,
        span=span,
    )


def _decided(action: str, text: str | None = None, **extra) -> dict:
    return {"action": action, "text": text, "at": "2026-12-01T10:00:00.000Z", "by": ANN, **extra}


# --- what is carried ----------------------------------------------------------------------------


@pytest.fixture
def versions() -> tuple[ReviewState, ReviewState]:
    """Version 2 decided (one decision itself carried from version 1) and version 3 just analysed:
    the paragraphs moved, one sentence changed, and a section of kind `other` comes first."""
    before = document(
        ("Background", "background", ["The Risk Limits Service failed.", "Owner: TBD."]),
        ("Impact", "impact", ["Losses were $61,900.", "Some buyers complained."]),
    )
    after = document(
        ("Notes", "other", ["Some say the Risk Limits Service is also named here."]),
        ("Background", "background", ["Owner: TBD.", "The Risk Limits Service failed."]),
        ("Impact", "impact", ["Losses were $61,900.", "Forty buyers complained."]),
    )
    placeholder = _finding(before, "placeholder", "TBD", "s1")
    vague = _finding(before, "vague_quantifier", "Some", "s2")
    positive = _finding(before, "impact_quantified", "Losses were $61,900.", "s2", type="positive")
    moving = _finding(before, "custom", "Risk Limits Service", "s1", id="Fmine1", title="Mine")
    gone = _finding(before, "custom", "Some buyers", "s2", id="Fmine2", title="Gone")
    origin = {"review_id": "r1", "version": 1, "finding_id": "Fold"}
    parent = ReviewState(
        id="r2",
        version=2,
        status="done",
        document=before,
        findings=[placeholder, vague, positive, moving, gone],
        custom={"Fmine1", "Fmine2"},
        decisions={
            placeholder.id: _decided("reject"),
            vague.id: _decided("accept", "Say how many.", carried_from=origin),
            positive.id: _decided("accept"),
            "Fmine1": _decided("accept", "My wording."),
            "Fmine2": _decided("accept"),
        },
    )
    state = ReviewState(
        id="r3",
        version=3,
        parent_id="r2",
        status="done",
        document=after,
        findings=[
            _finding(after, "placeholder", "TBD", "s2"),
            _finding(after, "vague_quantifier", "Some", "s1"),  # elsewhere, same key
            _finding(after, "impact_quantified", "Losses were $61,900.", "s3", type="positive"),
        ],
    )
    return parent, state


def test_a_matching_finding_inherits_the_decision_and_who_made_it(versions):
    parent, state = versions
    payload = carry.carried(parent, state)
    by_id = {d["finding_id"]: d for d in payload["decisions"]}
    placeholder, vague, positive = state.findings
    assert by_id[placeholder.id]["action"] == "reject" and by_id[placeholder.id]["by"] == ANN
    assert by_id[placeholder.id]["from"] == {
        "review_id": "r2",
        "version": 2,
        "finding_id": parent.findings[0].id,
    }
    assert by_id[vague.id]["text"] == "Say how many."
    assert by_id[vague.id]["from"]["version"] == 1  # where a person decided it, not version 2
    assert by_id[positive.id]["action"] == "accept"
    assert payload["from_id"] == "r2"


def test_the_reviewers_own_findings_move_to_their_quote_in_the_same_kind_of_section(versions):
    parent, state = versions
    payload = carry.carried(parent, state)
    [moved] = payload["custom"]
    assert moved["id"] == "Fmine1" and moved["section_id"] == "s2"  # Background, not Notes
    assert moved["span"] == {"paragraph": 4, "start": 4, "end": 23, "quote": "Risk Limits Service"}
    mine = next(d for d in payload["decisions"] if d["finding_id"] == "Fmine1")
    assert mine["action"] == "accept" and mine["text"] == "My wording."
    assert payload["gone"] == [
        {
            "finding_id": "Fmine2",
            "title": "Gone",
            "quote": "Some buyers",
            "from": {"review_id": "r2", "version": 2, "finding_id": "Fmine2"},
        }
    ]


def test_a_quote_found_only_in_another_kind_of_section_still_moves(versions):
    parent, state = versions
    notes_only = document(("Notes", "other", ["The Risk Limits Service is named here."]))
    state.document = notes_only
    moved = next(f for f in carry.carried(parent, state)["custom"] if f["id"] == "Fmine1")
    assert moved["section_id"] == "s1"


def test_a_finding_on_a_whole_section_moves_to_the_same_kind_of_section(versions):
    parent, state = versions
    on_impact = _finding(parent.document, "custom", None, "s2", id="Fwhole", title="Whole")
    parent.findings.append(on_impact)
    parent.custom.add("Fwhole")
    moved = next(f for f in carry.carried(parent, state)["custom"] if f["id"] == "Fwhole")
    assert moved["section_id"] == "s3" and moved["span"] is None
    state.document = document(("Notes", "other", ["Nothing about impact."]))
    gone = carry.carried(parent, state)["gone"]
    assert {"finding_id": "Fwhole", "title": "Whole", "quote": ""} in [
        {k: g[k] for k in ("finding_id", "title", "quote")} for g in gone
    ]


def test_a_finding_decided_in_the_new_version_keeps_its_decision(versions):
    parent, state = versions
    state.decisions[state.findings[0].id] = _decided("accept")
    carried_ids = {d["finding_id"] for d in carry.carried(parent, state)["decisions"]}
    assert state.findings[0].id not in carried_ids and state.findings[1].id in carried_ids


# --- the fold -----------------------------------------------------------------------------------


def _event(seq: int, kind: str, payload: dict) -> Event:
    return Event("r3", seq, kind, f"2026-12-02T10:00:0{seq}.000Z", payload)


def test_the_fold_keeps_carried_decisions_until_a_reset_makes_one_pending(versions):
    parent, analysed = versions
    payload = carry.carried(parent, analysed)
    placeholder = analysed.findings[0]
    state = ReviewState(id="r3", document=analysed.document, findings=list(analysed.findings))
    apply(state, _event(1, "carried", payload))
    assert state.decisions[placeholder.id] == {
        "action": "reject",
        "text": None,
        "at": "2026-12-01T10:00:00.000Z",
        "by": ANN,
        "carried_from": {"review_id": "r2", "version": 2, "finding_id": parent.findings[0].id},
    }
    assert "Fmine1" in state.custom and state.finding("Fmine1").section_id == "s2"
    assert state.carried == {"from_id": "r2", "gone": payload["gone"]}
    assert state.counts()["by_decision"] == {"accept": 3, "reject": 1, "pending": 0}

    apply(state, _event(2, "decision", {"finding_id": placeholder.id, "action": "reset"}))
    assert state.decision(placeholder.id) is None
    apply(state, _event(3, "decision", {"finding_id": placeholder.id, "action": "accept"}))
    assert "carried_from" not in state.decision(placeholder.id)


def test_a_decision_already_in_the_log_is_not_replaced_by_a_carried_one(versions):
    parent, analysed = versions
    payload = carry.carried(parent, analysed)
    placeholder = analysed.findings[0]
    state = fold(
        "r3",
        [
            _event(1, "decision", {"finding_id": placeholder.id, "action": "accept"}),
            _event(2, "carried", payload),
        ],
    )
    assert state.decision(placeholder.id)["action"] == "accept"
    assert "carried_from" not in state.decision(placeholder.id)


# --- the service records it once ----------------------------------------------------------------


@pytest.fixture
def service(tmp_path):
    store = SQLiteStore(tmp_path / "reviews.sqlite3")
    jobs = JobRunner(workers=1, max_queued=5)
    yield ReviewService(store, Settings(data_dir=tmp_path, token=None), jobs)
    jobs.shutdown()
    store.close()


def _decided_v1(service: ReviewService) -> str:
    """Version 1 with a rejected placeholder and two findings of the reviewer's own."""
    v1 = service.create(V1_MD, "v1.md").id
    service.jobs.wait_idle(60)
    state = service.get(v1)
    placeholder = next(f for f in state.findings if f.rule == "placeholder")
    service.decide(v1, placeholder.id, "reject")
    background = next(s for s in state.document.sections if s.kind == "background")
    for quote in ("Risk Limits Service", "Some merchants were affected"):
        service.add_finding(
            v1, {"section_id": background.id, "quote": quote, "description": f"On {quote}."}
        )
    return v1


def _kinds(service: ReviewService, review_id: str) -> list[str]:
    return [e.type for e in service.store.events(review_id)]


def test_a_new_version_gets_one_carried_event_right_after_analysed(service):
    v1 = _decided_v1(service)
    v2 = service.new_version(v1, V2_MD, "v2.md").id
    service.jobs.wait_idle(60)
    assert _kinds(service, v2) == ["created", "started", "analysed", "carried"]
    state = service.get(v2)
    placeholder = next(f for f in state.findings if f.rule == "placeholder")
    assert state.decision(placeholder.id)["action"] == "reject"
    assert [f.span.quote for f in state.findings if f.id in state.custom] == ["Risk Limits Service"]
    assert [g["quote"] for g in state.carried["gone"]] == ["Some merchants were affected"]
    assert service.store.summary(v2)["counts"] == state.counts()


def test_a_worker_killed_between_analysed_and_carried_is_carried_by_the_scan_once(service):
    v1 = _decided_v1(service)
    v2 = service.new_version(v1, V2_MD, "v2.md").id
    service.jobs.wait_idle(60)
    store = service.store
    killed = "k" + v2[1:]
    events = [e for e in store.events(v2) if e.type != "carried"]
    for event in events:  # the log the kill left: analysed, and a summary still at `started`
        store.append(killed, event.type, event.payload)
    store.put_summary(killed, stats.summary_of(fold(killed, store.events(killed)[:2])))

    service.resume_interrupted()
    assert _kinds(service, killed) == ["created", "started", "analysed", "carried"]
    assert service.get(killed).decisions == service.get(v2).decisions
    assert store.summary(killed)["status"] == "done"
    assert service.resume_interrupted() == [] and _kinds(service, killed)[-1] == "carried"
    service.analyse(killed)  # a done review: nothing to run, nothing to carry
    assert _kinds(service, killed).count("carried") == 1


def test_an_analysis_run_again_does_not_carry_twice(service):
    v1 = _decided_v1(service)
    v2 = service.new_version(v1, V2_MD, "v2.md").id
    service.jobs.wait_idle(60)
    before = service.get(v2)
    decisions, findings = dict(before.decisions), [f.id for f in before.findings]
    service.store.append(v2, "failed", {"error": {"code": "x", "message": "Stopped."}})
    service.retry(v2)
    service.jobs.wait_idle(60)
    assert _kinds(service, v2).count("analysed") == 2 and _kinds(service, v2).count("carried") == 1
    after = service.get(v2)
    assert after.status == "done" and after.decisions == decisions
    assert sorted(f.id for f in after.findings) == sorted(findings)


def test_nothing_is_carried_from_a_previous_version_that_is_not_analysed(service):
    v1 = _decided_v1(service)
    service.store.append(v1, "failed", {"error": {"code": "x", "message": "Stopped."}})
    v2 = service.new_version(v1, V2_MD, "v2.md").id
    service.jobs.wait_idle(60)
    state = service.get(v2)
    assert state.status == "done" and state.decisions == {} and state.carried is None
    assert "carried" not in _kinds(service, v2)
