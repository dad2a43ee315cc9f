"""The offline engine: runs a framework's rules over a document and turns hits into findings.

Deterministic by construction: no clock except the caller's `as_of`, no randomness, stable
ordering, ids derived from rule and span. Confidence is the rule's calibrated value (see
docs/rules.md), never computed per run.
"""

from __future__ import annotations

import itertools
import string
from collections.abc import Callable
from datetime import date
from functools import lru_cache, partial

from server.engines.forked import even_shares, run_shares
from server.engines.registry import CheckContext, Hit, get_check
from server.frameworks.model import Framework, Rule
from server.model import SEVERITY_ORDER, Document, Finding, ReviewResult, finding_id

ENGINE_ID = "offline"
ProgressCallback = Callable[[int, int, str], None]  # (done, total, what)
# Sharing a review out over processes pays only for a long document: forking and sending the
# findings back cost some 10 ms a share. Measured on the bench document, the document checks and
# sending the findings back take the last share about 55% of the section checks' time.
WORDS_PER_SHARE = 15_000
DOCUMENT_CHECKS_WEIGHT = 0.55


def review(
    document: Document,
    framework: Framework,
    as_of: date | None = None,
    on_progress: ProgressCallback | None = None,
    muted_rules: frozenset[str] = frozenset(),
    processes: int = 1,
) -> ReviewResult:
    """Run every enabled rule; section-scoped rules go section by section for progress.

    With `processes` above 1 (the command line, a process without threads), a long document's
    sections are shared out over forked copies of this process (server/engines/forked.py), the
    last share with the document checks; the findings are the same, in the same order.
    `on_progress` is then called in the copies too, for their own sections."""
    as_of = as_of or date.today()
    rules = [r for r in framework.rules if r.enabled and r.id not in muted_rules]
    shared: dict = {}  # see CheckContext.shared: one per run (and per forked copy)
    checks = [
        (CheckContext(document, framework, r, as_of, shared), get_check(r.check)) for r in rules
    ]
    section_checks = [(ctx, spec) for ctx, spec in checks if spec.scope == "section"]
    document_checks = [(ctx, spec) for ctx, spec in checks if spec.scope == "document"]
    total = len(document.sections) + 1

    def sections_from(first: int, last: int) -> list[Finding]:
        found: list[Finding] = []
        for done in range(first, last):
            section = document.sections[done]
            for ctx, spec in section_checks:
                if ctx.covers(section):
                    found.extend(_finding(ctx.rule, hit) for hit in spec.function(ctx, section))
            if on_progress:
                on_progress(done + 1, total, section.title)
        return found

    def last_share(first: int) -> list[Finding]:
        found = sections_from(first, len(document.sections))
        for ctx, spec in document_checks:
            found.extend(_finding(ctx.rule, hit) for hit in spec.function(ctx))
        return found

    bounds = _share_bounds(document, processes)
    shares = [partial(sections_from, a, b) for a, b in itertools.pairwise(bounds)]
    findings = list(
        itertools.chain.from_iterable(run_shares([*shares, partial(last_share, bounds[-1])]))
    )
    if on_progress:
        on_progress(total, total, "document checks")

    return ReviewResult(document, framework.id, framework.version, tuple(order_findings(findings)))


def _share_bounds(document: Document, processes: int) -> list[int]:
    """Where each share of the sections starts: one share per WORDS_PER_SHARE words, at most
    `processes`, about equal in characters, the last one's counting the document checks as
    DOCUMENT_CHECKS_WEIGHT of all sections (it may hold the document checks alone)."""
    count = max(1, min(processes, document.word_count // WORDS_PER_SHARE))
    if count == 1:
        return [0]
    sizes = [sum(len(p.text) for p in s.paragraphs) for s in document.sections]
    return even_shares(sizes, count, sum(sizes) * DOCUMENT_CHECKS_WEIGHT)


def order_findings(findings: list[Finding]) -> list[Finding]:
    """Document order, span-less findings first; duplicates (same id) dropped."""
    unique = {f.id: f for f in findings}
    return sorted(
        unique.values(),
        key=lambda f: (
            f.span is not None,
            f.span.paragraph if f.span else 0,
            f.span.start if f.span else 0,
            SEVERITY_ORDER[f.type],
            f.rule,
            f.id,
        ),
    )


def _finding(rule: Rule, hit: Hit) -> Finding:
    values = {"section": hit.section.title if hit.section else "", **hit.values}
    if hit.span is not None:
        values.setdefault("quote", hit.span.quote)
    section_id = hit.section.id if hit.section else None
    return Finding(
        id=finding_id(rule.id, section_id, hit.span, hit.key),
        engine=ENGINE_ID,
        rule=rule.id,
        type=rule.type,  # type: ignore[arg-type]
        checkpoints=rule.checkpoints,
        risk=rule.risk,  # type: ignore[arg-type]
        confidence=rule.confidence,
        title=fill(rule.title, values),
        description=fill(rule.message, values),
        suggestion=fill(rule.suggestion, values),
        questions=tuple(fill(q, values) for q in rule.questions),
        section_id=section_id,
        span=hit.span,
    )


def fill(template: str, values: dict) -> str:
    """Format a pack's message template. A field the check did not provide, or one whose format
    spec does not fit its value, stays visible as written instead of failing the whole review."""
    if not _has_fields(template):
        return template
    try:
        return template.format_map(values)
    except (KeyError, IndexError, AttributeError, ValueError, TypeError):
        return "".join(_piece(*part, values) for part in string.Formatter().parse(template))


def _piece(literal: str, name: str | None, spec: str | None, conversion: str | None, values) -> str:
    if name is None:
        return literal
    written = (
        "{" + name + (f"!{conversion}" if conversion else "") + (f":{spec}" if spec else "") + "}"
    )
    if name not in values:
        return literal + written
    value = values[name]
    value = {"r": repr, "s": str, "a": ascii}.get(conversion or "", lambda v: v)(value)
    try:
        return literal + format(value, spec or "")
    except (ValueError, TypeError):
        return literal + written


@lru_cache(maxsize=4096)
def _has_fields(template: str) -> bool:
    """Whether a template names any field; a pack has a few hundred templates, each filled for
    every finding of its rule, so the parse is done once per template."""
    return bool([name for _, name, _, _ in string.Formatter().parse(template) if name])
