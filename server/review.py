"""A review's current state is the fold of its events; this module is that fold, and nothing else.

Event types and payloads:
- created     {filename, sha256, size, format, framework, parent_id, version}
- started     {owner}                (the process that claimed the run; server/claims.py)
- analysed    {document, findings, framework_version, engines, notices, ai_usage}
- failed      {error: {code, message}}
- carried     {from_id, decisions: [{finding_id, action, text, at, by, from}], custom: [finding],
               gone: [{finding_id, title, quote, from}]}
              (server/carry.py: the previous version's decisions that hold in this one, appended
              once, right after the first `analysed`; `from` {review_id, version, finding_id} is
              where a person made the decision; `custom` are the reviewer's own findings moved
              here, `gone` those whose text is no longer in the document)
- decision    {finding_id, action: accept|reject|reset, text}
- finding_added {finding}            (a reviewer's own finding; accepted on creation)
- chat        {message, answer, citations, engine, usage?, notice?}
- completed   {}
- exported    {format}

An event appended on a person's behalf also carries `actor` {sub, name, email}: the decisions keep it
as `by`, the completion as `completed_by`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from server.model import FINDING_TYPES, RISKS, Document, Finding
from server.store.base import Event

DECISIONS = ("accept", "reject", "reset")


@dataclass
class ReviewState:
    id: str
    filename: str = ""
    sha256: str = ""
    format: str = ""
    framework: str = ""
    framework_version: str = ""
    parent_id: str | None = None
    version: int = 1
    status: str = "queued"  # queued | running | done | failed
    error: dict[str, str] | None = None
    created_at: str = ""
    updated_at: str = ""
    completed_at: str | None = None
    completed_by: dict[str, str] | None = None
    created_by: dict[str, str] | None = None
    document: Document | None = None
    findings: list[Finding] = field(default_factory=list)
    decisions: dict[str, dict[str, Any]] = field(
        default_factory=dict
    )  # finding id → {action, text, at, by, carried_from?}
    custom: set[str] = field(default_factory=set)  # ids of reviewer-added findings
    chat: list[dict[str, Any]] = field(default_factory=list)
    notices: list[str] = field(default_factory=list)
    engines: list[str] = field(default_factory=list)
    ai_usage: dict[str, Any] | None = None  # tokens and estimated cost when the AI engine ran
    exports: int = 0
    last_seq: int = 0
    carried: dict[str, Any] | None = None  # {from_id, gone} once the `carried` event is in
    runner: str | None = None  # the process that claimed the latest run (server/claims.py)
    started_at: str = ""

    def finding(self, finding_id: str) -> Finding | None:
        return next((f for f in self.findings if f.id == finding_id), None)

    def decision(self, finding_id: str) -> dict[str, Any] | None:
        return self.decisions.get(finding_id)

    def accepted(self) -> list[Finding]:
        return [
            f for f in self.findings if (self.decisions.get(f.id) or {}).get("action") == "accept"
        ]

    def deciders(self) -> dict[str, str]:
        """finding id → the name of the person who decided it, where one is known."""
        named = {}
        for fid, d in self.decisions.items():
            by = d.get("by") or {}
            if by.get("name") or by.get("email"):
                named[fid] = by.get("name") or by.get("email")
        return named

    def edited_texts(self) -> dict[str, str]:
        return {fid: d["text"] for fid, d in self.decisions.items() if d.get("text")}

    def counts(self) -> dict[str, Any]:
        by_type = dict.fromkeys(FINDING_TYPES, 0)
        by_risk = dict.fromkeys(RISKS, 0)
        by_decision = {"accept": 0, "reject": 0, "pending": 0}
        for f in self.findings:
            by_type[f.type] += 1
            by_risk[f.risk] += 1
            action = (self.decisions.get(f.id) or {}).get("action")
            by_decision[action if action in ("accept", "reject") else "pending"] += 1
        return {
            "total": len(self.findings),
            "by_type": by_type,
            "by_risk": by_risk,
            "by_decision": by_decision,
        }

    def summary(self) -> dict[str, Any]:
        """What the history list shows; stored beside the log so listing never folds every review."""
        return {
            "id": self.id,
            "title": self.document.title if self.document else self.filename,
            "filename": self.filename,
            "format": self.format,
            "framework": self.framework,
            "status": self.status,
            "parent_id": self.parent_id,
            "version": self.version,
            "created_at": self.created_at,
            "updated_at": self.updated_at,
            "completed_at": self.completed_at,
            "created_by": self.created_by,
            "completed_by": self.completed_by,
            "counts": self.counts(),
            "seq": self.last_seq,  # how far the log had got: a lagging summary is refreshed
        }


def fold(review_id: str, events: Iterable[Event]) -> ReviewState:
    state = ReviewState(id=review_id)
    for event in events:
        apply(state, event)
    return state


def apply(state: ReviewState, event: Event) -> None:
    p = event.payload
    state.last_seq = event.seq
    state.updated_at = event.at
    if event.type == "created":
        state.filename, state.sha256 = p["filename"], p["sha256"]
        state.format, state.framework = p.get("format", ""), p.get("framework", "")
        state.parent_id, state.version = p.get("parent_id"), p.get("version", 1)
        state.created_at, state.created_by = event.at, p.get("actor")
    elif event.type == "started":
        state.status, state.runner, state.started_at = "running", p.get("owner"), event.at
    elif event.type == "analysed":
        state.status, state.error = "done", None
        state.document = Document.from_dict(p["document"])
        state.findings = [Finding.from_dict(f) for f in p["findings"]] + [
            f for f in state.findings if f.id in state.custom
        ]
        state.framework_version = p.get("framework_version", "")
        state.engines, state.notices = list(p.get("engines", [])), list(p.get("notices", []))
        state.ai_usage = p.get("ai_usage")
    elif event.type == "failed":
        state.status, state.error = "failed", p["error"]
    elif event.type == "carried":
        _apply_carried(state, p)
    elif event.type == "decision":
        if p["action"] == "reset":
            state.decisions.pop(p["finding_id"], None)
        else:
            state.decisions[p["finding_id"]] = {
                "action": p["action"],
                "text": p.get("text"),
                "at": event.at,
                "by": p.get("actor"),
            }
    elif event.type == "finding_added":
        finding = Finding.from_dict(p["finding"])
        state.findings.append(finding)
        state.custom.add(finding.id)
        state.decisions[finding.id] = {
            "action": "accept",
            "text": None,
            "at": event.at,
            "by": p.get("actor"),
        }
    elif event.type == "chat":
        state.chat.append({**p, "at": event.at})
    elif event.type == "completed":
        state.completed_at, state.completed_by = event.at, p.get("actor")
    elif event.type == "exported":
        state.exports += 1


def _apply_carried(state: ReviewState, p: dict[str, Any]) -> None:
    """A carried decision keeps who made it and where (`carried_from`), never replaces one made in
    this review, and is replaced by the next `decision` as any other."""
    for data in p.get("custom", []):
        finding = Finding.from_dict(data)
        state.findings.append(finding)
        state.custom.add(finding.id)
    for d in p.get("decisions", []):
        state.decisions.setdefault(
            d["finding_id"],
            {
                "action": d["action"],
                "text": d.get("text"),
                "at": d.get("at"),
                "by": d.get("by"),
                "carried_from": d["from"],
            },
        )
    state.carried = {"from_id": p["from_id"], "gone": list(p.get("gone", []))}
