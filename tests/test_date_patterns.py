"""The date patterns check what may not come before a date just after its first character (so
Python's re can skip ahead to where a date may start); they must match exactly what the patterns
as a reader would write them, with the check in front, match."""

from __future__ import annotations

import random
import re

from server.engines import dates

MONTH = dates._MONTH
YEAR = r"(?:19|20)\d{2}"
BEFORE = r"(?<![\w./:-])"
AFTER = r"(?!(?!T\d)[\w-]|[./:]\d|/)"
ORDINAL = r"(?:st|nd|rd|th)?"
AS_WRITTEN = {
    "iso": rf"{BEFORE}(?P<y>{YEAR})-(?P<m>\d{{1,2}})-(?P<d>\d{{1,2}}){AFTER}",
    "ymd-slash": rf"{BEFORE}(?P<y>{YEAR})/(?P<m>\d{{1,2}})/(?P<d>\d{{1,2}}){AFTER}",
    "numeric-slash": rf"{BEFORE}(?P<a>\d{{1,2}})/(?P<b>\d{{1,2}})/(?P<y>{YEAR}|\d{{2}}){AFTER}",
    "numeric-dash": rf"{BEFORE}(?P<a>\d{{1,2}})-(?P<b>\d{{1,2}})-(?P<y>{YEAR}){AFTER}",
    "dotted": rf"{BEFORE}(?P<a>\d{{1,2}})\.(?P<b>\d{{1,2}})\.(?P<y>{YEAR}){AFTER}",
    "dd-mon-yyyy": rf"{BEFORE}(?P<d>\d{{1,2}})-(?P<m>{MONTH})\.?-(?P<y>{YEAR}|\d{{2}}){AFTER}",
    "day-month-name": rf"(?<![\w./:])(?P<d>[0-3]?\d){ORDINAL}(?:\s+of)?\s+(?P<m>{MONTH})\.?"
    rf"(?:,?\s+(?P<y>{YEAR})(?!\d))?(?![A-Za-z])",
    "month-name-day": rf"(?<![A-Za-z])(?P<m>{MONTH})\.?\s+(?P<d>[0-3]?\d){ORDINAL}(?!\w)"
    rf"(?:,?\s+(?P<y>{YEAR})(?!\d))?",
}
# Pieces that make dates, near-dates and what must not be read as one, glued at random
PIECES = [
    *(
        "2024 1999 20 19 05 5 12 31 3 0 45 / - . : , of st th a x v T 14:20 UTC March MARCH Mar mar "
        "Sept Sep SEPT May may aMay Xmar Jan January Dec 1.2.3 _ | 2024-03-05 2024/3/5 05/03/2024 "
        "1/2/24 13/2/2024 05-03-2024 05.03.2024 5-Mar-2024 5-MAR-24 2024- -03 -5 /05 /24 12/ 3. .2024 "
        "-Mar- T09:30 x2024-01-01 1.2.2024 é 5th 23rd"
    ).split(),
    *(" ", "  ", "\n", "\t", "version 1.2.2024"),
]


def test_every_pattern_matches_what_it_matches_as_written():
    rng = random.Random(20261202)
    texts = ["".join(rng.choices(PIECES, k=rng.randint(1, 30))) for _ in range(20_000)]
    patterns = dict(dates._PATTERNS)
    assert set(patterns) == set(AS_WRITTEN)
    for fmt, written in AS_WRITTEN.items():
        reference, fast = re.compile(written), patterns[fmt]
        matched = 0
        for text in texts:
            expected = [(m.span(), m.groupdict()) for m in reference.finditer(text)]
            assert [(m.span(), m.groupdict()) for m in fast.finditer(text)] == expected, text
            matched += len(expected)
        assert matched > 100, fmt  # the pieces do make dates of every format
