"""Compare two versions of a document's review: which findings were resolved, which are new.

Findings match by rule and the normalised text they quote (or, for findings about something
missing, by rule and the section kind), so a finding persists across versions even when its
paragraph moved. The same key carries decisions to a new version (server/carry.py). Each row comes
with its decision: a resolved one's from the previous version, the others' from this one. A
reviewer's own finding whose text is gone is listed apart (`gone`), not as resolved.
"""

from __future__ import annotations

import re
from typing import Any

from server.model import Finding
from server.review import ReviewState


def compare(old: ReviewState, new: ReviewState) -> dict[str, Any]:
    gone = list((new.carried or {}).get("gone", []))
    left_behind = {g["finding_id"] for g in gone}
    old_keys = {
        key(old, f): f for f in old.findings if f.type != "positive" and f.id not in left_behind
    }
    new_keys = {key(new, f): f for f in new.findings if f.type != "positive"}
    return {
        "previous_id": old.id,
        "current_id": new.id,
        "gone": gone,
        "resolved": [_row(old, f) for k, f in old_keys.items() if k not in new_keys],
        "new": [_row(new, f) for k, f in new_keys.items() if k not in old_keys],
        "persisting": [_row(new, f) for k, f in new_keys.items() if k in old_keys],
    }


def key(state: ReviewState, f: Finding) -> tuple[str, str]:
    """What makes two versions' findings the same finding."""
    if f.span:
        return f.rule, _normal(f.span.quote)
    section = state.document.section(f.section_id) if state.document and f.section_id else None
    return f.rule, f"{section.kind if section else ''}:{_normal(f.title)}"


def _normal(text: str) -> str:
    return re.sub(r"\W+", " ", text.lower()).strip()


def _row(state: ReviewState, f: Finding) -> dict[str, Any]:
    section = state.document.section(f.section_id) if state.document and f.section_id else None
    return {
        **f.to_dict(),
        "section_title": section.title if section else None,
        "decision": state.decision(f.id),
        "custom": f.id in state.custom,
    }
