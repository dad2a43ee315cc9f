"""Dates as write-ups spell them, with exact offsets, so checks can compare, order and quote them.

Recognised: 2024-03-05 (iso), 2024/03/05 (ymd-slash), 05/03/2024 and 3/5/24 (numeric-slash),
05-03-2024 (numeric-dash), 05.03.2024 (dotted), 5 March 2024 and 5th of Mar (day-month-name),
March 5, 2024 and Mar 5 (month-name-day), 5-Mar-2024 (dd-mon-yyyy); a time right after a date
("2024-03-05 14:20 UTC", "March 5 at 9:30am") stays in the span. Month names must be written
Capitalised or in CAPITALS, so "5 may be affected" is not a date. Version numbers (1.2.3), IP
addresses, phone numbers and placeholders (DD/MM/YYYY, 2024-XX-XX) do not match: numeric dates need
a 19xx/20xx year (or a two-digit one after two slashes), valid month and day numbers, and nothing
number-like glued to either end.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import date, time, timedelta

from server.engines.compiled_patterns import regex

_MONTHS = "january february march april may june july august september october november december"
_MONTH_NAMES = _MONTHS.split()
_MONTH_NUMBER = {name[:3]: n for n, name in enumerate(_MONTH_NAMES, start=1)}
_MONTH_WORDS = sorted(  # longest first; a fixed order, so the pattern is the same in every run
    {*_MONTH_NAMES, *(n[:3] for n in _MONTH_NAMES), "sept"}, key=lambda w: (-len(w), w)
)
_MONTH = "(?:" + "|".join(f"{w.capitalize()}|{w.upper()}" for w in _MONTH_WORDS) + ")"

_YEAR4 = r"(?:19|20)\d{2}"
# Nothing date- or number-like may touch a numeric date: that keeps out 1.2.3, 10.0.12.2024,
# 0800-12-2024-5 and the like. Python's re jumps quickly to where a pattern's first character
# can match, but tries every position of a pattern that starts with an assertion; so what may not
# come before is checked just after the first character (or the year), accepting the same text.
_NOT_AFTER = r"[\w./:-]"
_YEAR_FIRST = rf"(?P<y>{_YEAR4})(?<!{_NOT_AFTER}\d{{4}})"
_AFTER = r"(?!(?!T\d)[\w-]|[./:]\d|/)"
_ORDINAL = r"(?:st|nd|rd|th)?"


def _number_first(name: str) -> str:
    """One or two digits that nothing number-like comes before."""
    return rf"(?P<{name}>\d(?<!{_NOT_AFTER}\d)\d?)"


_DAY_BEFORE_MONTH = r"(?P<d>\d(?<![\w./:]\d)(?:(?<=[0-3])\d)?)"  # [0-3]?\d, no \w./: before
_MONTH_AFTER_NO_LETTER = (  # _MONTH, no letter before
    "(?:"
    + "|".join(
        f"{w[0]}(?<![A-Za-z].){w[1:]}" for n in _MONTH_WORDS for w in (n.capitalize(), n.upper())
    )
    + ")"
)

# (format id, pattern); groups: y, m, d for fixed order, a, b for numeric day/month in either order.
_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (fmt, regex(pattern))
    for fmt, pattern in (
        ("iso", rf"{_YEAR_FIRST}-(?P<m>\d{{1,2}})-(?P<d>\d{{1,2}}){_AFTER}"),
        ("ymd-slash", rf"{_YEAR_FIRST}/(?P<m>\d{{1,2}})/(?P<d>\d{{1,2}}){_AFTER}"),
        (
            "numeric-slash",
            rf"{_number_first('a')}/(?P<b>\d{{1,2}})/(?P<y>{_YEAR4}|\d{{2}}){_AFTER}",
        ),
        ("numeric-dash", rf"{_number_first('a')}-(?P<b>\d{{1,2}})-(?P<y>{_YEAR4}){_AFTER}"),
        ("dotted", rf"{_number_first('a')}\.(?P<b>\d{{1,2}})\.(?P<y>{_YEAR4}){_AFTER}"),
        (
            "dd-mon-yyyy",
            rf"{_number_first('d')}-(?P<m>{_MONTH})\.?-(?P<y>{_YEAR4}|\d{{2}}){_AFTER}",
        ),
        (
            "day-month-name",
            rf"{_DAY_BEFORE_MONTH}{_ORDINAL}(?:\s+of)?\s+(?P<m>{_MONTH})\.?"
            rf"(?:,?\s+(?P<y>{_YEAR4})(?!\d))?(?![A-Za-z])",
        ),
        (
            "month-name-day",
            rf"(?P<m>{_MONTH_AFTER_NO_LETTER})\.?\s+(?P<d>[0-3]?\d){_ORDINAL}(?!\w)"
            rf"(?:,?\s+(?P<y>{_YEAR4})(?!\d))?",
        ),
    )
)
_TIME = regex(
    r"(?:(?P<cell>[ \t]*\|[ \t]*)|[ \t]*,?[ \t]*(?:at[ \t]+)?|T)"
    r"(?P<h>[01]?\d|2[0-3]):(?P<mi>[0-5]\d)(?::(?P<s>[0-5]\d))?"
    r"(?:[ \t]?(?P<ampm>[AaPp]\.?[Mm]\.?))?(?:[ \t]?(?:UTC|GMT|Z|[A-Z]{2,4}T|[+-]\d{2}:?\d{2}))?"
    r"(?!\w|:\d)"
)
_DIGIT = regex(r"\d")
# "version 1.2.2024", "build 10/12/2024": numbers after these words are not dates.
_VERSION_BEFORE = regex(
    r"(?<![A-Za-z])(?:version|release|build|ver\.?|rev\.?|v)\s*$", re.IGNORECASE
)
_NUMBERED = ("numeric-slash", "numeric-dash", "dotted")
AMBIGUOUS_FORMATS = ("numeric-slash", "numeric-dash")  # day and month both 12 or under
# A year-less date this far before the date it follows is read as next year (Dec 30 → Jan 2).
_WRAP = timedelta(days=183)

FAMILIES = {
    "dd/mm/yyyy": "numeric-slash",
    "mm/dd/yyyy": "numeric-slash",
    "dd-mm-yyyy": "numeric-dash",
    "mm-dd-yyyy": "numeric-dash",
}
FORMAT_LABELS = {
    "iso": "ISO year-month-day (2024-03-05)",
    "ymd-slash": "year/month/day (2024/03/05)",
    "numeric-slash": "numbers with slashes (05/03/2024)",
    "dd/mm/yyyy": "day/month/year (25/03/2024)",
    "mm/dd/yyyy": "month/day/year (03/25/2024)",
    "numeric-dash": "numbers with dashes (05-03-2024)",
    "dd-mm-yyyy": "day-month-year (25-03-2024)",
    "mm-dd-yyyy": "month-day-year (03-25-2024)",
    "dotted": "numbers with dots (05.03.2024)",
    "dd-mon-yyyy": "day-Mon-year (05-Mar-2024)",
    "day-month-name": "day month year (5 March 2024)",
    "month-name-day": "month day, year (March 5, 2024)",
}


@dataclass(frozen=True)
class DateMention:
    """One date in a text: `text[start:end]` is the date as written, with any time after it.

    `value` is None when the date cannot be a real day (31 February) or has no year and nothing
    to take one from. `format` names the spelling; for numeric dates it also says which order was
    evident ('dd/mm/yyyy' when the first number is over 12, 'mm/dd/yyyy' when the second is,
    'numeric-slash' when either reading is possible).
    """

    start: int
    end: int
    value: date | None
    format: str
    time: time | None = None
    year_given: bool = True  # False when the year was taken from context

    @property
    def family(self) -> str:
        """The spelling regardless of evident day/month order: what consistency is judged on."""
        return FAMILIES.get(self.format, self.format)


def format_label(format_id: str) -> str:
    """The spelling with an example, for messages ("day month year (5 March 2024)")."""
    return FORMAT_LABELS.get(format_id, format_id)


def find_dates(text: str, *, day_first: bool = False, year: int | None = None) -> list[DateMention]:
    """Dates in `text`, in order. Ambiguous numeric dates read month first unless `day_first`;
    a year-less date takes the year of the nearest earlier date, else `year`."""
    return _scan(_candidates(text, day_first), year, None)[0]


def find_dates_in(
    texts: Iterable[str], *, day_first: bool | None = None, year: int | None = None
) -> list[list[DateMention]]:
    """Dates of several texts read in order (paragraphs of one document), one list per text.

    Year context carries from one text to the next; year-less dates before any dated one take
    `year`, or else the year of the first date written with one. With `day_first=None` ambiguous
    numeric dates follow whichever order the unambiguous ones in these texts use.
    """
    found = [_candidates(text, day_first=False) for text in texts]
    if day_first is None:
        day_first = _prefers_day_first(found)
    if year is None:
        year = next((m.value.year for ms in found for m in ms if m.year_given and m.value), None)
    out: list[list[DateMention]] = []
    context: date | None = None
    for candidates in found:
        if day_first:
            candidates = [_day_first(m) for m in candidates]
        mentions, context = _scan(candidates, year, context)
        out.append(mentions)
    return out


def infer_day_first(texts: Sequence[str]) -> bool:
    """True when unambiguous numeric dates (25/03/2024) outnumber month-first ones (03/25/2024)."""
    return _prefers_day_first([_candidates(text, day_first=False) for text in texts])


def _prefers_day_first(found: list[list[DateMention]]) -> bool:
    formats = Counter(m.format for ms in found for m in ms)
    day = formats["dd/mm/yyyy"] + formats["dd-mm-yyyy"]
    return day > formats["mm/dd/yyyy"] + formats["mm-dd-yyyy"]


def _day_first(mention: DateMention) -> DateMention:
    """An ambiguous numeric date read month first, read day first instead."""
    value = mention.value
    if mention.format not in AMBIGUOUS_FORMATS or value is None:
        return mention
    return replace(mention, value=date(value.year, value.day, value.month))


def _scan(
    candidates: list[DateMention], year: int | None, context: date | None
) -> tuple[list[DateMention], date | None]:
    mentions: list[DateMention] = []
    for mention in candidates:
        if not mention.year_given:
            mention = _with_year(mention, context, year)
        context = mention.value or context
        mentions.append(mention)
    return mentions, context


def _candidates(text: str, day_first: bool) -> list[DateMention]:
    """Date-shaped matches, overlaps resolved (earliest, then longest, wins); years unresolved."""
    if not _DIGIT.search(text):
        return []
    found: list[DateMention] = []
    for fmt, pattern in _PATTERNS:
        for match in pattern.finditer(text):
            if fmt in _NUMBERED and _after_version_word(text, match.start()):
                continue
            mention = _parse(match, fmt, day_first)
            if mention is not None:
                found.append(_with_time(text, mention))
    found.sort(key=lambda m: (m.start, -m.end))
    kept: list[DateMention] = []
    for mention in found:
        if not kept or mention.start >= kept[-1].end:
            kept.append(mention)
    return kept


def _after_version_word(text: str, start: int) -> bool:
    return _VERSION_BEFORE.search(text, max(0, start - 9), start) is not None


def _parse(match: re.Match[str], fmt: str, day_first: bool) -> DateMention | None:
    groups = match.groupdict()
    if groups.get("a") is not None:
        a, b = int(groups["a"]), int(groups["b"])
        if a > 12 and b > 12:
            return None
        order_known = a > 12 or b > 12
        first_is_day = a > 12 or (not b > 12 and (day_first or fmt == "dotted"))
        day, month = (a, b) if first_is_day else (b, a)
        if order_known and fmt != "dotted":
            prefix = ("dd", "mm") if first_is_day else ("mm", "dd")
            sep = "/" if fmt == "numeric-slash" else "-"
            fmt = f"{prefix[0]}{sep}{prefix[1]}{sep}yyyy"
    else:
        day = int(groups["d"])
        m = groups["m"]
        month = int(m) if m.isdigit() else _MONTH_NUMBER[m.lower()[:3]]
    if not (1 <= month <= 12 and 1 <= day <= 31):
        return None
    y = groups.get("y")
    if y is None:
        # Year-less: month and day kept in a placeholder leap year until the year is known.
        placeholder = _date(2000, month, day)
        if placeholder is None:
            return None
        return DateMention(match.start(), match.end(), placeholder, fmt, year_given=False)
    full_year = int(y) if len(y) == 4 else (2000 + int(y) if int(y) < 70 else 1900 + int(y))
    return DateMention(match.start(), match.end(), _date(full_year, month, day), fmt)


def _with_time(text: str, mention: DateMention) -> DateMention:
    match = _TIME.match(text, mention.end)
    if not match:
        return mention
    hour = int(match["h"])
    ampm = (match["ampm"] or "").lower()
    if ampm.startswith("p") and hour < 12:
        hour += 12
    elif ampm.startswith("a") and hour == 12:
        hour = 0
    at = time(hour, int(match["mi"]), int(match["s"] or 0))
    # A time in the next table cell orders the entry but stays out of the quote: a span that
    # crossed cells could not be anchored as one comment.
    end = mention.end if match["cell"] else match.end()
    return DateMention(mention.start, end, mention.value, mention.format, at, mention.year_given)


def _with_year(mention: DateMention, context: date | None, year: int | None) -> DateMention:
    assert mention.value is not None  # year-less candidates always carry month and day
    month, day = mention.value.month, mention.value.day
    value: date | None = None
    if context is not None:
        value = _date(context.year, month, day)
        if value is not None and value < context - _WRAP:
            value = _date(context.year + 1, month, day)
    elif year is not None:
        value = _date(year, month, day)
    return DateMention(
        mention.start, mention.end, value, mention.format, mention.time, year_given=False
    )


def _date(year: int, month: int, day: int) -> date | None:
    try:
        return date(year, month, day)
    except ValueError:
        return None
