"""Are dates written one way, in order, without silent gaps, and not in the future by mistake?

Dates are read over the whole reviewed document in order, so a year-less "March 5" takes its year
from the nearest earlier full date (or, before any, from the first full date in the document) and
ambiguous 05/03/2024 follows the order the document's unambiguous numeric dates use.

A timeline entry is a line (a paragraph, list item, table row, or one line of a multi-line
paragraph) in a timeline section that contains a date; its first date is the entry's date. A
timeline written newest-first (most steps go backwards) is judged in that direction.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import date
from functools import lru_cache
from itertools import pairwise

from server.engines.checks.actions import ACTION_LABEL, lines, strip_bullet
from server.engines.compiled_patterns import regex
from server.engines.dates import AMBIGUOUS_FORMATS, DateMention, find_dates_in, format_label
from server.engines.patterns import any_of
from server.engines.registry import CheckContext, Hit, document_check
from server.model import Paragraph, Section, Span

EXPLAINED_PATTERNS = [
    r"\bno\s+(?:further\s+|new\s+)?(?:activity|action|actions|updates?|changes?|progress|contact)\b",
    r"\bwait(?:ing|ed)?\b",
    r"\bawait(?:ing|ed)?\b",
    r"\bpending\b",
    r"\bpaused?\b",
    r"\bgap\b",
    r"\bon\s+hold\b",
    r"\bdelay(?:ed|s)?\b",
    r"\bmonitor(?:ing|ed)?\b",
    r"\bdormant\b",
    r"\bquiet\b",
]
PLAN_PATTERNS = [
    r"\bby\b",
    r"\bdue\b",
    r"\bETA\b",
    r"\btarget(?:ed|ing)?\b",
    r"\bplann?(?:ed|ing)?\b",
    r"\bscheduled\b",
    r"\bwill\b",
    r"\bdeadline\b",
    r"\bexpected\b",
    r"\buntil\b",
    r"\bbefore\b",
    r"\bno\s+later\s+than\b",
    r"\bnext\s+review\b",
    r"\bgoing\s+to\b",
]
_PLAN_WINDOW = 60  # characters before a future date searched for plan words
_SENTENCE_END = regex(r"[.!?]\s")


@dataclass(frozen=True)
class Dated:
    """A date mention in a paragraph of a section, with the line it sits on."""

    section: Section
    paragraph: Paragraph
    mention: DateMention
    line_start: int
    line_end: int

    @property
    def span(self) -> Span:
        return Span.of(self.paragraph, self.mention.start, self.mention.end)

    @property
    def written(self) -> str:
        return self.paragraph.text[self.mention.start : self.mention.end]

    @property
    def line(self) -> str:
        return self.paragraph.text[self.line_start : self.line_end]


def document_dates(ctx: CheckContext) -> list[Dated]:
    """Every date in the sections this rule covers, in document order.

    Five rules read the dates, so a review run collects them once per set of covered sections.
    """
    covered = tuple(s.id for s in ctx.sections())
    return ctx.once(("dates.document_dates", covered, ctx.as_of.year), lambda: _dates_of(ctx))


def _dates_of(ctx: CheckContext) -> list[Dated]:
    reviewed = [s for s in ctx.document.sections if not s.excluded]
    paragraphs = [(s, p) for s in reviewed for p in s.body]
    mentions = _mentions(tuple(p.text for _, p in paragraphs), ctx.as_of.year)
    out: list[Dated] = []
    for (section, paragraph), found in zip(paragraphs, mentions, strict=True):
        if not found or not ctx.covers(section):
            continue
        bounds = list(lines(paragraph.text))
        for mention in found:
            start, end = next(
                ((s, e) for s, e in bounds if s <= mention.start < e), (0, len(paragraph.text))
            )
            out.append(Dated(section, paragraph, mention, start, end))
    return out


@lru_cache(maxsize=16)
def _mentions(texts: tuple[str, ...], fallback_year: int) -> tuple[tuple[DateMention, ...], ...]:
    found = find_dates_in(texts)
    if any(m.value is None and not m.year_given for ms in found for m in ms):
        found = find_dates_in(texts, year=fallback_year)  # no date in the document has a year
    return tuple(tuple(ms) for ms in found)


@dataclass(frozen=True)
class Timeline:
    entries: list[Dated]
    backwards: set[int]  # indexes of entries out of order with the one before
    newest_first: bool


def timeline(ctx: CheckContext) -> Timeline:
    """Timeline entries of the covered sections and which of them break the order."""
    entries: list[Dated] = []
    seen: set[tuple[int, int]] = set()
    for dated in document_dates(ctx):
        line = (dated.paragraph.index, dated.line_start)
        if line in seen:
            continue  # an entry's date is the first date on its line
        seen.add(line)
        if dated.mention.value is not None:
            entries.append(_fit(entries[-1], dated) if entries else dated)
    steps = [_compare(a.mention, b.mention) for a, b in pairwise(entries)]
    descending, ascending = steps.count(-1), steps.count(1)
    newest_first = descending >= 2 and descending > ascending
    wrong = 1 if newest_first else -1
    backwards = {i + 1 for i, step in enumerate(steps) if step == wrong}
    return Timeline(entries, backwards, newest_first)


def _fit(previous: Dated, entry: Dated) -> Dated:
    """Read an ambiguous numeric date (03/04/2024) the other way round when only that reading
    keeps the timeline in order."""
    value = entry.mention.value
    if entry.mention.format not in AMBIGUOUS_FORMATS or value is None or value.day > 12:
        return entry
    if _compare(previous.mention, entry.mention) != -1:
        return entry
    swapped = replace(entry.mention, value=date(value.year, value.day, value.month))
    if _compare(previous.mention, swapped) == -1:
        return entry
    return replace(entry, mention=swapped)


def unexplained_gaps(
    line: Timeline, max_gap_days: int, explained: re.Pattern[str]
) -> Iterator[tuple[int, int]]:
    """(entry index, days) for each step longer than `max_gap_days` that no entry explains.

    A step touching an out-of-order entry is skipped: the order finding already covers it.
    """
    entries = line.entries
    for i in range(1, len(entries)):
        if i in line.backwards or i - 1 in line.backwards:
            continue
        before, after = entries[i - 1], entries[i]
        assert before.mention.value is not None and after.mention.value is not None
        days = abs((after.mention.value - before.mention.value).days)
        if days > max_gap_days and not (
            explained.search(after.line) or explained.search(before.line)
        ):
            yield i, days


def _compare(a: DateMention, b: DateMention) -> int:
    """1 when b is later than a, -1 when earlier, 0 when the same moment or not comparable."""
    assert a.value is not None and b.value is not None
    if a.value != b.value:
        return 1 if b.value > a.value else -1
    if a.time is not None and b.time is not None and a.time != b.time:
        return 1 if b.time > a.time else -1
    return 0


@document_check("date_format_mixed", max_hits=10)
def date_format_mixed(ctx: CheckContext) -> Iterator[Hit]:
    """Dates written in more than one way; each date not in the dominant way is reported.

    Within numeric dates, 25/03/2024 (day first) next to 03/25/2024 (month first) is a mix too:
    a reader cannot tell which order 05/03/2024 uses.
    """
    dates = document_dates(ctx)
    odd: dict[int, tuple[str, str]] = {}
    families = Counter(d.mention.family for d in dates)
    if len(families) > 1:
        dominant = families.most_common(1)[0][0]
        for i, d in enumerate(dates):
            if d.mention.family != dominant:
                odd[i] = (d.mention.family, dominant)
    for group in (("dd/mm/yyyy", "mm/dd/yyyy"), ("dd-mm-yyyy", "mm-dd-yyyy")):
        orders = Counter(d.mention.format for d in dates if d.mention.format in group)
        if len(orders) > 1:
            dominant = orders.most_common(1)[0][0]
            for i, d in enumerate(dates):
                if d.mention.format in group and d.mention.format != dominant:
                    odd.setdefault(i, (d.mention.format, dominant))
    for i in sorted(odd)[: ctx.param("max_hits")]:
        fmt, dominant = odd[i]
        values = {"format": format_label(fmt), "dominant": format_label(dominant)}
        yield Hit(dates[i].section, dates[i].span, values)


@document_check("timeline_order")
def timeline_order(ctx: CheckContext) -> Iterator[Hit]:
    """A timeline entry dated before the entry above it (after it, in a newest-first timeline)."""
    line = timeline(ctx)
    for i in sorted(line.backwards):
        entry, previous = line.entries[i], line.entries[i - 1]
        values = {"date": entry.written, "previous": previous.written}
        yield Hit(entry.section, entry.span, values)


@document_check("timeline_gap", max_gap_days=14, explained_patterns=EXPLAINED_PATTERNS)
def timeline_gap(ctx: CheckContext) -> Iterator[Hit]:
    """Consecutive timeline entries far apart with nothing saying why (waiting, paused, …)."""
    line = timeline(ctx)
    explained = any_of(ctx.param("explained_patterns"))
    for i, days in unexplained_gaps(line, ctx.param("max_gap_days"), explained):
        entry, previous = line.entries[i], line.entries[i - 1]
        values = {"days": days, "date": entry.written, "previous": previous.written}
        yield Hit(entry.section, entry.span, values)


@document_check("future_date", plan_patterns=PLAN_PATTERNS)
def future_date(ctx: CheckContext) -> Iterator[Hit]:
    """A date after the review date that is not stated as a plan ("due by", "scheduled for" …).

    Only dates written with a year count, and lines that start with an action label (PA1 …) are
    plans by definition.
    """
    plan = any_of(ctx.param("plan_patterns"))
    for dated in document_dates(ctx):
        value = dated.mention.value
        if not dated.mention.year_given or value is None:
            continue
        if value <= ctx.as_of or _planned(dated, plan):
            continue
        yield Hit(
            dated.section, dated.span, {"date": dated.written, "today": ctx.as_of.isoformat()}
        )


def _planned(dated: Dated, plan: re.Pattern[str]) -> bool:
    text = dated.paragraph.text
    if ACTION_LABEL.match(text, strip_bullet(text, dated.line_start, dated.line_end)):
        return True
    start = max(dated.line_start, dated.mention.start - _PLAN_WINDOW)
    window = text[start : dated.mention.start]
    ends = list(_SENTENCE_END.finditer(window))
    if ends:
        window = window[ends[-1].end() :]
    return plan.search(window) is not None
