"""Decisions carried to a new version, so that nobody judges the same finding twice.

A finding of the new version that matches one decided in the previous version (server/diff.py's
key) inherits that decision; the reviewer's own findings move to where their quote still is, and
the rest are listed as gone. The outcome is the payload of one `carried` event (server/review.py
folds it): the decisions stay in the audit trail, each with the version where a person made it.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from server import diff
from server.model import Document, Finding, Section
from server.review import ReviewState


def due(state: ReviewState) -> bool:
    """An analysed later version whose previous version's decisions have not been carried yet."""
    return state.parent_id is not None and state.status == "done" and state.carried is None


def carried(parent: ReviewState, state: ReviewState) -> dict[str, Any]:
    """The `carried` payload from `parent` (analysed) to `state` (just analysed); a finding that
    already has a decision in `state` keeps it."""
    assert parent.document is not None and state.document is not None
    decided = _decided_by_key(parent)
    decisions = []
    for f in state.findings:
        old = decided.get(diff.key(state, f))
        if old is not None and f.id not in state.decisions and f.id not in state.custom:
            decisions.append(_decision(parent, old.id, f.id))
    custom, gone = [], []
    for old in (f for f in parent.findings if f.id in parent.custom):
        moved = _moved(old, parent.document, state.document)
        if moved is None:
            gone.append(_gone(parent, old))
            continue
        custom.append(moved.to_dict())
        if old.id in parent.decisions:
            decisions.append(_decision(parent, old.id, moved.id))
    return {"from_id": parent.id, "decisions": decisions, "custom": custom, "gone": gone}


def _decided_by_key(state: ReviewState) -> dict[tuple[str, str], Finding]:
    """The first decided finding under each key, the reviewer's own left out (they move instead)."""
    decided: dict[tuple[str, str], Finding] = {}
    for f in state.findings:
        if f.id in state.decisions and f.id not in state.custom:
            decided.setdefault(diff.key(state, f), f)
    return decided


def _origin(parent: ReviewState, finding_id: str) -> dict[str, Any]:
    """Where a person made the decision: carried twice, it still names the first version."""
    carried_from = (parent.decisions.get(finding_id) or {}).get("carried_from")
    return carried_from or {
        "review_id": parent.id,
        "version": parent.version,
        "finding_id": finding_id,
    }


def _decision(parent: ReviewState, old_id: str, new_id: str) -> dict[str, Any]:
    d = parent.decisions[old_id]
    return {
        "finding_id": new_id,
        "action": d["action"],
        "text": d.get("text"),
        "at": d.get("at"),
        "by": d.get("by"),
        "from": _origin(parent, old_id),
    }


def _gone(parent: ReviewState, old: Finding) -> dict[str, Any]:
    return {
        "finding_id": old.id,
        "title": old.title,
        "quote": old.span.quote if old.span else "",
        "from": _origin(parent, old.id),
    }


def _moved(old: Finding, before: Document, after: Document) -> Finding | None:
    """The reviewer's finding in the new document, same id: its quote in a section of the same
    kind, else in any section; a finding on a whole section goes to the same kind of section."""
    was = before.section(old.section_id) if old.section_id else None
    if was is None:
        return None
    if old.span is None:
        target = next((s for s in after.sections if _same_place(s, was)), None)
        return replace(old, section_id=target.id) if target else None
    for section in sorted(after.sections, key=lambda s: s.kind != was.kind):
        span = section.locate(old.span.quote)
        if span is not None:
            return replace(old, section_id=section.id, span=span)
    return None


def _same_place(section: Section, was: Section) -> bool:
    """Sections of kind `other` are told apart by their title."""
    return section.kind == was.kind and (was.kind != "other" or section.title == was.title)
