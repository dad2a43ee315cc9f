"""Offline answers to a reviewer's questions, from the document, its findings and the framework.

No model: a few question shapes reviewers ask all the time are answered from the findings
("what is missing?", "which findings are high risk?", "where are owners named?"); anything else is
answered by retrieval — the passages that share the most rare words with the question, cited.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from typing import Any

from server.frameworks.model import Framework
from server.model import Finding
from server.review import ReviewState

ENGINE = "offline"
_WORD = re.compile(r"[a-z0-9]+")
_STOP = frozenset(
    "a an the and or of to in on for is are was were be been it this that what which who where when "
    "how why do does did any all there their with by as at from about me my we our you your i can "
    "tell show list give".split()
)
_OWNER = re.compile(r"\b(owner|owned by|assigned to|responsible|dri|lead)\b\s*:?", re.IGNORECASE)


def answer(question: str, state: ReviewState, framework: Framework) -> dict[str, Any]:
    q = question.lower()
    if re.search(r"\bmissing\b|\blacks?\b|\bgaps?\b|\bnot covered\b", q):
        return _missing(state, framework)
    if re.search(r"\bhigh[- ]risk\b|\bhighest risk\b|\bcritical\b", q):
        return _high_risk(state)
    if re.search(r"\bowners?\b|\bresponsible\b|\bassigned\b", q):
        return _owners(state)
    return _retrieve(question, state, framework)


def _reply(text: str, citations: list[dict[str, Any]]) -> dict[str, Any]:
    return {"answer": text, "citations": citations, "engine": ENGINE}


def _cite(
    state: ReviewState, section_id: str | None, paragraph: int | None = None
) -> dict[str, Any]:
    section = state.document.section(section_id) if state.document and section_id else None
    return {
        "section_id": section_id,
        "section": section.title if section else None,
        "paragraph": paragraph,
    }


def _missing(state: ReviewState, framework: Framework) -> dict[str, Any]:
    absent = [f for f in state.findings if f.span is None and f.type in ("critical", "important")]
    if not absent:
        return _reply("Nothing the framework expects appears to be missing.", [])
    lines = [
        f"- {f.title}" + (f" ({_section_title(state, f)})" if f.section_id else "") for f in absent
    ]
    return _reply(
        f"{len(absent)} things the '{framework.name}' framework expects are missing or too thin:\n"
        + "\n".join(lines),
        [_cite(state, f.section_id) for f in absent if f.section_id],
    )


def _high_risk(state: ReviewState) -> dict[str, Any]:
    high = [f for f in state.findings if f.risk == "high" and f.type != "positive"]
    if not high:
        return _reply("No finding is rated high risk.", [])
    lines = [f"- {f.title} — {_section_title(state, f) or 'whole document'}" for f in high[:20]]
    more = f"\n…and {len(high) - 20} more." if len(high) > 20 else ""
    return _reply(
        f"{len(high)} findings are high risk:\n" + "\n".join(lines) + more,
        [_cite(state, f.section_id, f.span.paragraph if f.span else None) for f in high[:20]],
    )


def _owners(state: ReviewState) -> dict[str, Any]:
    assert state.document is not None
    hits = [
        (s, p)
        for s in state.document.sections
        if not s.excluded
        for p in s.body
        if _OWNER.search(p.text)
    ]
    if not hits:
        return _reply("No owner is named anywhere in the document.", [])
    lines = [f"- {s.title} ¶{p.index + 1}: {p.text[:160]}" for s, p in hits[:15]]
    return _reply(
        f"Owners are named in {len(hits)} places:\n" + "\n".join(lines),
        [_cite(state, s.id, p.index) for s, p in hits[:15]],
    )


def _retrieve(question: str, state: ReviewState, framework: Framework) -> dict[str, Any]:
    """Rank paragraphs by shared rare words (idf-weighted), then add the checkpoints that match."""
    assert state.document is not None
    terms = [w for w in _WORD.findall(question.lower()) if w not in _STOP]
    if not terms:
        return _reply("Ask about the document: a section, a fact, a finding or a checkpoint.", [])
    passages = [(s, p) for s in state.document.sections if not s.excluded for p in s.body]
    bags = [Counter(_WORD.findall(p.text.lower())) for _, p in passages]
    df = Counter(w for bag in bags for w in set(bag) if w in terms)
    n = max(len(passages), 1)
    scored = []
    for (section, paragraph), bag in zip(passages, bags, strict=True):
        score = sum((1 + math.log(bag[t])) * math.log(1 + n / df[t]) for t in set(terms) if bag[t])
        if section.title and any(t in section.title.lower() for t in terms):
            score += 1.0
        if score > 0:
            scored.append((score, paragraph.index, section, paragraph))
    scored.sort(key=lambda item: (-item[0], item[1]))
    top = scored[:3]
    checkpoints = [
        c for c in framework.checkpoints if any(t in (c.name + " " + c.good).lower() for t in terms)
    ][:2]
    if not top and not checkpoints:
        return _reply("The document does not seem to say anything about that.", [])
    parts = [f"From {s.title} (¶{p.index + 1}): {p.text[:300]}" for _, _, s, p in top]
    parts += [f"The framework's '{c.name}' checkpoint expects: {c.good}" for c in checkpoints]
    related = _related_findings(state, {s.id for _, _, s, _ in top})
    if related:
        parts.append("Related findings: " + "; ".join(f.title for f in related))
    return _reply("\n\n".join(parts), [_cite(state, s.id, p.index) for _, _, s, p in top])


def _related_findings(state: ReviewState, section_ids: set[str]) -> list[Finding]:
    return [f for f in state.findings if f.section_id in section_ids and f.type != "positive"][:3]


def _section_title(state: ReviewState, f: Finding) -> str | None:
    section = state.document.section(f.section_id) if state.document and f.section_id else None
    return section.title if section else None
