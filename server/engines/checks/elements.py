"""Pack-configured presence tests, and positive findings where a write-up meets a checkpoint.

`missing_element` and `element_present` know nothing of the domain: the pack says which patterns
make up "a number of customers" or "a named owner". The other checks here credit work done well,
reusing the judgements of the action, timeline and root-cause checks so praise and criticism can
never disagree.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator

from server.engines.checks.actions import (
    ACTION_KINDS,
    DATE_PATTERNS,
    OWNER_PATTERNS,
    action_items,
    has_date,
    has_owner,
)
from server.engines.checks.dates import EXPLAINED_PATTERNS, timeline, unexplained_gaps
from server.engines.checks.root_causes import links
from server.engines.patterns import PatternSet, any_of, pattern_set
from server.engines.registry import CheckContext, Hit, document_check, section_check
from server.engines.text import sentences
from server.model import Section, Span


@section_check("missing_element", patterns=[], min_matches=1, element="")
def missing_element(ctx: CheckContext, section: Section) -> Iterator[Hit]:
    """The section matches the pack's patterns fewer than `min_matches` times."""
    patterns = ctx.param("patterns")
    if not patterns:
        return
    wanted = ctx.param("min_matches")
    if _count(section, pattern_set(tuple(patterns)), wanted) < wanted:
        yield Hit(section, None, {"element": ctx.param("element"), "min_matches": wanted})


@section_check("element_present", patterns=[], min_matches=1, element="")
def element_present(ctx: CheckContext, section: Section) -> Iterator[Hit]:
    """The section matches the pack's patterns at least `min_matches` times (a positive finding);
    the span is the sentence holding the first match."""
    patterns = ctx.param("patterns")
    if not patterns:
        return
    pattern, wanted = pattern_set(tuple(patterns)), ctx.param("min_matches")
    count = _count(section, pattern, enough=sys.maxsize)  # the message shows how many there are
    if count < wanted:
        return
    for paragraph in section.body:
        match = pattern.search(paragraph.text)
        if match:
            start, end = next(
                ((s, e) for s, e in sentences(paragraph.text) if s <= match.start() < e),
                (match.start(), match.end()),
            )
            values = {"element": ctx.param("element"), "count": count}
            yield Hit(section, Span.of(paragraph, start, end), values)
            return


def _count(section: Section, pattern: PatternSet, enough: int) -> int:
    """Matches in the section body, counting no further than `enough`."""
    count = 0
    for paragraph in section.body:
        for _ in pattern.finditer(paragraph.text):
            count += 1
            if count >= enough:
                return count
    return count


@document_check(
    "action_items_complete",
    min_items=2,
    action_kinds=ACTION_KINDS,
    owner_patterns=OWNER_PATTERNS,
    date_patterns=DATE_PATTERNS,
)
def action_items_complete(ctx: CheckContext) -> Iterator[Hit]:
    """Every action item names an owner and a date, and there are at least `min_items`."""
    owner = any_of(ctx.param("owner_patterns"))
    dated = any_of(ctx.param("date_patterns"))
    kinds = ctx.param("action_kinds")
    items = [item for section in ctx.sections() for item in action_items(section, kinds)]
    if len(items) < ctx.param("min_items"):
        return
    if all(has_owner(item, owner) and has_date(item, dated) for item in items):
        yield Hit(items[0].section, items[0].span, {"count": len(items)})


@document_check(
    "timeline_complete",
    min_entries=4,
    max_gap_days=14,
    explained_patterns=EXPLAINED_PATTERNS,
)
def timeline_complete(ctx: CheckContext) -> Iterator[Hit]:
    """At least `min_entries` dated timeline entries, in order, with no unexplained gap."""
    line = timeline(ctx)
    if len(line.entries) < ctx.param("min_entries") or line.backwards:
        return
    explained = any_of(ctx.param("explained_patterns"))
    if next(unexplained_gaps(line, ctx.param("max_gap_days"), explained), None) is not None:
        return
    first = line.entries[0]
    yield Hit(first.section, first.span, {"count": len(line.entries)})


@document_check("root_causes_linked")
def root_causes_linked(ctx: CheckContext) -> Iterator[Hit]:
    """Root causes are numbered and every one has a preventative action."""
    found = links(ctx)
    if found.root_causes and set(found.root_causes) <= found.linked_causes:
        first = next(iter(found.root_causes.values()))  # RC1 (or the lowest), where defined
        yield Hit(first.section, first.span, {"count": len(found.root_causes)})
