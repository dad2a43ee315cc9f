"""Regular expressions that come from framework packs: compiled once, checked for hostility.

A pack is data a user may download; a pattern like `(a+)+$` would make Python's backtracking
engine spin for minutes on one line. Nested unbounded quantifiers are refused at load time.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import lru_cache

from server.engines.regex_hints import first_class, lowered_if_ascii, required_literals

MAX_PATTERN_LENGTH = 500
# A group that contains an unbounded quantifier and is itself quantified: (x+)+, (x*)*, (x+){2,}
_NESTED_QUANTIFIER = re.compile(r"\((?:[^()\\]|\\.)*[+*}](?:[^()\\]|\\.)*\)\s*(?:[+*]|\{\d+,\d*\})")
_NEVER = re.compile(r"(?!x)x")
_LOOKAROUNDS = ("(?=", "(?!", "(?<=", "(?<!")


@lru_cache(maxsize=1024)
def compile_checked(pattern: str) -> re.Pattern[str]:
    """Compile a pack pattern case-insensitively, refusing ones that can backtrack catastrophically.

    Cached with the check itself: checks call this for every section they read.
    """
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
    return _any_of(tuple(patterns))


@lru_cache(maxsize=1024)
def _any_of(patterns: tuple[str, ...]) -> re.Pattern[str]:
    for p in patterns:
        compile_checked(p)
    return _compile("|".join(f"(?:{_quick_reject(p)})" for p in patterns) or _NEVER.pattern)


def _quick_reject(pattern: str) -> str:
    """The pattern behind a look-ahead on its possible first characters when it starts with a
    look-around: `re` runs a look-around as a nested match at every position, and one cheap
    look-ahead on the first character turns most positions away first. Same matches (see
    server/engines/regex_hints.py). Patterns starting with `\\b` or a literal are left alone:
    `re` already rejects positions for those quickly, faster than a look-ahead would."""
    if not pattern.startswith(_LOOKAROUNDS):
        return pattern
    first = first_class(pattern)
    return f"(?={first}){pattern}" if first else pattern


class PatternSet:
    """Pack patterns matched as one alternation, each text scanned only with those that can match
    it: a pattern whose required literals (`regex_hints.required_literals`) are missing from the
    text would fail at every position, so leaving it out finds exactly what `any_of` finds."""

    def __init__(self, patterns: tuple[str, ...]) -> None:
        self._hints = tuple((p, required_literals(p)) for p in patterns)
        any_of(patterns)  # validate every pattern up front

    def for_text(self, text: str) -> re.Pattern[str] | None:
        """The alternation of the patterns that may match `text`; None when none can."""
        lowered = lowered_if_ascii(text)
        wanted = tuple(p for p, needs in self._hints if needs.met_by(text, lowered))
        return any_of(wanted) if wanted else None

    def finditer(self, text: str) -> Iterator[re.Match[str]]:
        pattern = self.for_text(text)
        return pattern.finditer(text) if pattern else iter(())

    def search(self, text: str) -> re.Match[str] | None:
        pattern = self.for_text(text)
        return pattern.search(text) if pattern else None


@lru_cache(maxsize=256)
def pattern_set(patterns: tuple[str, ...]) -> PatternSet:
    """A cached PatternSet: checks build one per section they read."""
    return PatternSet(patterns)
