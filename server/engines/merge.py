"""Merge the AI engine's findings into the offline ones, so a reviewer never reads the same point twice.

The offline findings always stay: they are deterministic and their confidence is calibrated. An AI
finding is dropped when it repeats one already kept (offline, or an earlier AI finding):
- both quote overlapping text of the same paragraph and share a checkpoint;
- both are about the same section as a whole (no quote) and share a checkpoint;
- both are about the same section and their titles are nearly the same.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from difflib import SequenceMatcher

from server.engines.offline import order_findings
from server.model import Finding

TITLE_SIMILARITY = 0.9
_WORDS = re.compile(r"[a-z0-9]+")


def merge(offline: Sequence[Finding], ai: Sequence[Finding]) -> tuple[Finding, ...]:
    kept = list(offline)
    for finding in ai:
        if not any(duplicates(finding, other) for other in kept):
            kept.append(finding)
    return tuple(order_findings(kept))


def duplicates(a: Finding, b: Finding) -> bool:
    shared = bool(set(a.checkpoints) & set(b.checkpoints))
    if a.span and b.span:
        if (
            shared
            and a.span.paragraph == b.span.paragraph
            and a.span.start < b.span.end
            and b.span.start < a.span.end
        ):
            return True
    elif a.span is None and b.span is None and shared and a.section_id == b.section_id:
        return True
    return a.section_id == b.section_id and similar_titles(a.title, b.title)


def similar_titles(a: str, b: str) -> bool:
    x, y = " ".join(_WORDS.findall(a.lower())), " ".join(_WORDS.findall(b.lower()))
    if not x or not y:
        return False
    return x == y or SequenceMatcher(None, x, y).ratio() >= TITLE_SIMILARITY
