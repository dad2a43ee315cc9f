"""Turn a model's tool input into findings, or say precisely why it cannot be used.

Pure functions: no network, no clock. A model's answer is never trusted as it stands: every field is
checked against the Finding schema and the framework, and every quote is looked up in the section
text. A finding whose quote the section does not contain is dropped, because a finding about text
that is not there is an invention, and the engine says how many were dropped.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from server.frameworks.model import Framework
from server.model import FINDING_TYPES, RISKS, Finding, Paragraph, Section, Span, finding_id

_SPACE = re.compile(r"\s")
# Characters models often straighten or curl when copying text; one for one, so offsets still map.
_FOLD = str.maketrans({"‘": "'", "’": "'", "“": '"', "”": '"', "–": "-", "—": "-", "\u00a0": " "})
_QUOTE_MARKS = "\"'“”‘’"
_TRIM = " \t\r\n…." + _QUOTE_MARKS


class InvalidAnswer(Exception):
    """The model's answer does not fit the schema; `problems` say how, to send back once."""

    def __init__(self, problems: list[str]):
        super().__init__("; ".join(problems))
        self.problems = problems


@dataclass(frozen=True)
class SectionAnswer:
    findings: tuple[Finding, ...]
    invented_quotes: int = 0  # findings dropped: their quote is not in the section
    invalid: int = 0  # findings dropped: they do not fit the schema (lenient reading only)


def findings_from_answer(
    data: Any, section: Section, framework: Framework, engine: str, lenient: bool = False
) -> SectionAnswer:
    """Validate the `report_findings` input.

    Strict (the first answer): one bad finding rejects the answer, so the problems go back to the
    model once. Lenient (the repaired answer): the findings that fit are kept, the others counted.
    """
    if not isinstance(data, dict) or not isinstance(data.get("findings"), list):
        raise InvalidAnswer(['the input must be an object with a "findings" list'])
    known = {c.id for c in framework.checkpoints}
    problems: list[str] = []
    findings: list[Finding] = []
    invented = invalid = 0
    for n, item in enumerate(data["findings"], start=1):
        found = _problems(item, known)
        if found:
            problems.extend(f"finding {n}: {p}" for p in found)
            invalid += 1
            continue
        finding = _finding(item, section, engine)
        if finding is None:
            invented += 1
        else:
            findings.append(finding)
    if problems and not lenient:
        raise InvalidAnswer(problems)
    return SectionAnswer(tuple(findings), invented, invalid)


def _problems(item: Any, known: set[str]) -> list[str]:
    if not isinstance(item, dict):
        return ["must be an object"]
    problems = []
    for key in ("title", "description"):
        if not isinstance(item.get(key), str) or not item[key].strip():
            problems.append(f"{key} must be a non-empty string")
    if item.get("type") not in FINDING_TYPES:
        problems.append(f"type must be one of {', '.join(FINDING_TYPES)}")
    if item.get("risk") not in RISKS:
        problems.append(f"risk must be one of {', '.join(RISKS)}")
    checkpoints = item.get("checkpoints")
    if not isinstance(checkpoints, list) or not all(isinstance(c, str) for c in checkpoints):
        problems.append("checkpoints must be a list of checkpoint ids")
    else:
        unknown = [c for c in checkpoints if c not in known]
        if unknown:
            problems.append(f"unknown checkpoint ids: {', '.join(unknown)}")
    confidence = item.get("confidence")
    if isinstance(confidence, bool) or not isinstance(confidence, int | float):
        problems.append("confidence must be a number")
    elif not 0 <= confidence <= 1:
        problems.append("confidence must be between 0 and 1")
    if not isinstance(item.get("suggestion", ""), str):
        problems.append("suggestion must be a string")
    questions = item.get("questions", [])
    if not isinstance(questions, list) or not all(isinstance(q, str) for q in questions):
        problems.append("questions must be a list of strings")
    if not isinstance(item.get("quote", ""), str):
        problems.append("quote must be a string")
    return problems


def _finding(item: dict[str, Any], section: Section, engine: str) -> Finding | None:
    """The finding, or None when it quotes text the section does not contain."""
    checkpoints = tuple(dict.fromkeys(item["checkpoints"]))
    title = item["title"].strip()
    description = item["description"].strip()
    quote = (item.get("quote") or "").strip()
    hint = item.get("paragraph")
    span = anchor(quote, section, hint if isinstance(hint, int) else None) if quote else None
    if quote and span is None:
        return None
    rule = f"ai:{checkpoints[0] if checkpoints else 'general'}"
    return Finding(
        id=finding_id(rule, section.id, span, salt=title),
        engine=engine,
        rule=rule,
        type=item["type"],
        checkpoints=checkpoints,
        risk=item["risk"],
        confidence=round(float(item["confidence"]), 2),
        title=title,
        description=description,
        suggestion=(item.get("suggestion") or "").strip(),
        questions=tuple(q.strip() for q in item.get("questions", []) if q.strip()),
        section_id=section.id,
        span=span,
    )


def anchor(quote: str, section: Section, hint: int | None = None) -> Span | None:
    """Exact offsets of `quote` in one of the section's paragraphs, the hinted one first.

    Tries the quote verbatim, then with whitespace runs, typographic quotes and dashes folded and
    surrounding quote marks or ellipses dropped; the span always holds the paragraph's own text.
    """
    paragraphs = sorted(section.body, key=lambda p: p.index != hint)
    for paragraph in paragraphs:
        start = paragraph.text.find(quote)
        if start >= 0:
            return Span.of(paragraph, start, start + len(quote))
    for candidate in dict.fromkeys(_loosened(quote)):
        wanted, _ = _normalise(candidate)
        for paragraph in paragraphs if wanted.strip() else ():
            span = _find_normalised(wanted, paragraph)
            if span:
                return span
    return None


def _loosened(quote: str) -> list[str]:
    """The quote as given, then without one pair of wrapping quote marks, then trimmed hard."""
    quote = quote.strip()
    candidates = [quote]
    if len(quote) > 2 and quote[0] in _QUOTE_MARKS and quote[-1] in _QUOTE_MARKS:
        candidates.append(quote[1:-1].strip())
    candidates.append(quote.strip(_TRIM))
    return candidates


def _find_normalised(wanted: str, paragraph: Paragraph) -> Span | None:
    text, where = _normalise(paragraph.text)
    at = text.find(wanted)
    if at < 0:
        return None
    return Span.of(paragraph, where[at], where[at + len(wanted) - 1] + 1)


def _normalise(text: str) -> tuple[str, list[int]]:
    """Folded text with each whitespace run as one space, and each character's original offset."""
    out: list[str] = []
    where: list[int] = []
    for i, ch in enumerate(text.translate(_FOLD)):
        if _SPACE.match(ch):
            if out and out[-1] == " ":
                continue
            ch = " "
        out.append(ch)
        where.append(i)
    return "".join(out), where


def answer_from_tool(data: Any, known_sections: set[str]) -> tuple[str, list[str]]:
    """The chat tool's answer and the cited section ids that exist (others are dropped)."""
    if not isinstance(data, dict) or not isinstance(data.get("answer"), str):
        raise InvalidAnswer(['the input must be an object with an "answer" string'])
    answer = data["answer"].strip()
    if not answer:
        raise InvalidAnswer(["answer must not be empty"])
    cited = data.get("citations")
    ids = [c for c in cited if isinstance(c, str)] if isinstance(cited, list) else []
    return answer, [c for c in dict.fromkeys(ids) if c in known_sections]
