"""Regular expressions that come from framework packs: compiled once, checked for hostility.

A pack is data a user may download; a pattern like `(a+)+$` would make Python's backtracking
engine spin for minutes on one line. Nested unbounded quantifiers are refused at load time.
"""

from __future__ import annotations

import re
from functools import lru_cache

MAX_PATTERN_LENGTH = 500
# A group that contains an unbounded quantifier and is itself quantified: (x+)+, (x*)*, (x+){2,}
_NESTED_QUANTIFIER = re.compile(r"\((?:[^()\\]|\\.)*[+*}](?:[^()\\]|\\.)*\)\s*(?:[+*]|\{\d+,\d*\})")


def compile_checked(pattern: str) -> re.Pattern[str]:
    """Compile a pack pattern case-insensitively, refusing ones that can backtrack catastrophically."""
    if len(pattern) > MAX_PATTERN_LENGTH:
        raise ValueError(f"pattern longer than {MAX_PATTERN_LENGTH} characters")
    if _NESTED_QUANTIFIER.search(pattern):
        raise ValueError(
            f"pattern {pattern!r} nests repeated groups (like '(a+)+'), which can hang on long "
            "text; rewrite it without a quantifier on a group that repeats"
        )
    return _compile(pattern)


@lru_cache(maxsize=1024)
def _compile(pattern: str) -> re.Pattern[str]:
    try:
        return re.compile(pattern, re.IGNORECASE)
    except re.error as exc:
        raise ValueError(f"invalid regular expression {pattern!r}: {exc}") from exc


def any_of(patterns: list[str] | tuple[str, ...]) -> re.Pattern[str]:
    """One alternation of several pack patterns (one scan of the text instead of many)."""
    for p in patterns:
        compile_checked(p)
    return _compile("|".join(f"(?:{p})" for p in patterns) or r"(?!x)x")
