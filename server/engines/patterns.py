"""Regular expressions that come from framework packs: compiled once, made safe, checked for hostility.

A pack is data a user may download, and Python's backtracking `re` has no time limit and cannot be
interrupted: `(a+)+$` spins for hours on one line, and even the harmless-looking
`ticket\\s*#?\\s*:?\\s*\\d` spends a minute on a paragraph that holds a thousand spaces. Two
defences, both read off the parse tree `re.compile` itself uses:

- A greedy one-character repeat whose characters, once given back, could never help a match
  (nothing after it can start with them) is made possessive: `\\s*` runs as `\\s*+`. The matches
  are the same; the hopeless backtracking is gone.
- What can still backtrack without end after that is refused when the pack loads: a repeated group
  that holds a repeat (`(a+)+`, `(.*x){12}`), a repeated alternation whose branches can match the
  same text (`(a|ab)+`), and two unbounded repeats in a row that can take the same characters
  (`.*.*=`, `\\w+\\s*\\w+!`).

A single unbounded repeat still costs time proportional to the square of a paragraph's length in
the worst case (`.*=` on a 200,000-character line); the document limits bound that (docs/limits.md).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import lru_cache
from re import _compiler, _parser  # the parser and compiler behind re.compile
from re._constants import (
    ANY,
    ASSERT,
    ASSERT_NOT,
    AT,
    ATOMIC_GROUP,
    BRANCH,
    GROUPREF_EXISTS,
    IN,
    LITERAL,
    MAX_REPEAT,
    MAXREPEAT,
    MIN_REPEAT,
    NOT_LITERAL,
    POSSESSIVE_REPEAT,
    SUBPATTERN,
)

from server.engines.compiled_patterns import COMPILED, entry_of, from_entry
from server.engines.regex_hints import first_class, lowered_if_ascii, required_literals
from server.engines.safe_patterns import SAFE

MAX_PATTERN_LENGTH = 500
_NEVER = re.compile(r"(?!x)x")
_LOOKAROUNDS = ("(?=", "(?!", "(?<=", "(?<!")
_SINGLE = (LITERAL, NOT_LITERAL, IN, ANY)  # items that match exactly one character
_BACKTRACKING = (MAX_REPEAT, MIN_REPEAT)
_REPEATS = (MAX_REPEAT, MIN_REPEAT, POSSESSIVE_REPEAT)
_ZERO_WIDTH = (AT, ASSERT, ASSERT_NOT)
# Character sets are compared on the Basic Multilingual Plane plus a few characters beyond it.
_BEYOND_BMP = "\U00010000\U0001f600\U00020000\U000e0001\U0010ffff"
_BIG_BOUND = 10  # `(x{1,3}){1,10}` is fine; a hundred nested choices are not


def compile_checked(pattern: str) -> re.Pattern[str]:
    """Compile a pack pattern case-insensitively, refusing ones that can backtrack without end.

    Cached (by `_compile`) with the check itself: checks call this for every section they read.
    """
    if len(pattern) > MAX_PATTERN_LENGTH:
        raise ValueError(f"pattern longer than {MAX_PATTERN_LENGTH} characters")
    if pattern not in SAFE:  # judged safe by an earlier run of this same analysis
        hazard = _hazard(pattern)
        if hazard:
            raise ValueError(
                f"pattern {pattern!r} {hazard}, which can take hours on one long paragraph; "
                "rewrite it so that each piece of text can be matched only one way"
            )
        SAFE.add(pattern)
    return _compile(pattern)


@lru_cache(maxsize=1024)
def _compile(pattern: str) -> re.Pattern[str]:
    """The rewritten pattern, compiled as `re` compiles a tree; its instructions are kept in the
    user cache folder for the next run (server/engines/compiled_patterns.py)."""
    known = COMPILED.get(pattern)
    if known is not None:
        return known
    tree = _parse(pattern)
    _possessify(tree.data, tree.state.flags, end_safe=True)
    entry = entry_of(tree, re.IGNORECASE)
    COMPILED.add(pattern, entry)
    return from_entry(entry)


def _parse(pattern: str):
    try:
        return _parser.parse(pattern, re.IGNORECASE)
    except re.error as exc:
        raise ValueError(f"invalid regular expression {pattern!r}: {exc}") from exc


@lru_cache(maxsize=1024)
def _hazard(pattern: str) -> str | None:
    tree = _parse(pattern)
    _possessify(tree.data, tree.state.flags, end_safe=True)
    return _sequence_hazard(tree.data, tree.state.flags)


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


# --- character sets --------------------------------------------------------------------------

_CHARSETS: dict[tuple[str, int], int] = {}


def _chars(item: tuple, flags: int) -> int:
    """The characters a one-character item matches, as a bit mask over the probes; 0 when unknown."""
    key = (repr(item), flags)
    if key not in _CHARSETS:
        state = _parser.State()
        state.flags = flags
        one = _compiler.compile(_parser.SubPattern(state, [item]), flags)
        probes, beyond = _probes()
        marks = bytearray(len(probes))
        for c in one.findall(probes):
            marks[ord(c) if ord(c) < 0x10000 else beyond[c]] = 1
        _CHARSETS[key] = int.from_bytes(marks, "little")
    return _CHARSETS[key]


@lru_cache(maxsize=1)
def _probes() -> tuple[str, dict[str, int]]:
    """The characters sets are compared on, and the places of those beyond the BMP: built on
    first use, as a run whose patterns all come compiled from the cache never needs them."""
    probes = "".join(map(chr, range(0x10000))) + _BEYOND_BMP
    return probes, {c: n for n, c in enumerate(_BEYOND_BMP, start=0x10000)}


def _single(body) -> tuple | None:
    """The item of a repeat body that is one character item, else None."""
    return body.data[0] if len(body.data) == 1 and body.data[0][0] in _SINGLE else None


def _first(sequence: list, flags: int, through_assertions: bool) -> tuple[int | None, bool]:
    """(the characters a match of `sequence` can start with, None when unknown; whether it can
    match the empty string). Assertions make the answer unknown unless `through_assertions`."""
    chars = 0
    for op, av in sequence:
        if op in _ZERO_WIDTH:
            if through_assertions:
                continue
            return None, False
        if op in _SINGLE:
            own = _chars((op, av), flags)
            return (chars | own if own else None), False
        if op is SUBPATTERN:
            inner, empty = _first(av[3].data, (flags | av[1]) & ~av[2], through_assertions)
        elif op is ATOMIC_GROUP:
            inner, empty = _first(av.data, flags, through_assertions)
        elif op is BRANCH:
            results = [_first(alt.data, flags, through_assertions) for alt in av[1]]
            known = [c for c, _ in results if c is not None]
            inner = None if len(known) < len(results) else _union(known)
            empty = any(e for _, e in results)
        elif op in _REPEATS:
            inner, empty = _first(av[2].data, flags, through_assertions)
            empty = empty or av[0] == 0
        else:  # back-references, conditionals: no telling
            return None, False
        if inner is None:
            return None, False
        chars |= inner
        if not empty:
            return chars, False
    return chars, True


def _union(masks: list[int]) -> int:
    out = 0
    for mask in masks:
        out |= mask
    return out


# --- making repeats possessive ---------------------------------------------------------------


def _possessify(sequence: list, flags: int, end_safe: bool) -> None:
    """Turn greedy one-character repeats into possessive ones where that changes no match, in
    place. `end_safe`: nothing after this sequence can take characters its last repeat gives up
    (the end of the pattern, of a look-ahead or of an atomic group)."""
    settled = [False] * len(sequence)  # possessive now, so it gives nothing back
    for i in range(len(sequence) - 1, -1, -1):
        op, av = sequence[i]
        last = i == len(sequence) - 1
        if op is SUBPATTERN:
            _possessify(av[3].data, (flags | av[1]) & ~av[2], end_safe and last)
        elif op is BRANCH:
            for alternative in av[1]:
                _possessify(alternative.data, flags, end_safe and last)
        elif op is ATOMIC_GROUP:
            _possessify(av.data, flags, True)
        elif op in (ASSERT, ASSERT_NOT) and av[0] == 1:  # look-ahead; look-behinds have no repeats
            _possessify(av[1].data, flags, True)
        elif op in _REPEATS:
            _possessify(av[2].data, flags, False)
            if op is POSSESSIVE_REPEAT:
                settled[i] = True
            elif (
                op is MAX_REPEAT
                and av[1] == MAXREPEAT
                and _single(av[2])
                and _gives_back_in_vain(sequence, i, flags, end_safe, settled)
            ):
                sequence[i] = (POSSESSIVE_REPEAT, av)
                settled[i] = True


def _gives_back_in_vain(
    sequence: list, i: int, flags: int, end_safe: bool, settled: list[bool]
) -> bool:
    """Whether characters the repeat at `i` gave back could never lead to a match: what follows
    cannot start with them (optional parts are looked through), or the next thing that can is a
    possessive repeat of a wider set that would take them all back anyway."""
    own = _chars(_single(sequence[i][1][2]), flags)
    if not own:
        return False
    for j in range(i + 1, len(sequence)):
        op, av = sequence[j]
        item = _single(av[2]) if op in _REPEATS else None
        if item is not None:
            theirs = _chars(item, flags)
            if theirs and not own & theirs:
                if av[0] == 0:
                    continue
                return True
            wider = bool(theirs) and not own & ~theirs
            return wider and settled[j] and av[0] == 0 and av[1] == MAXREPEAT
        chars, empty = _first([(op, av)], flags, through_assertions=False)
        if chars is None or chars & own:
            return False
        if not empty:
            return True
    return end_safe


# --- what stays dangerous --------------------------------------------------------------------


def _sequence_hazard(sequence: list, flags: int) -> str | None:
    for i, (op, av) in enumerate(sequence):
        if op in _BACKTRACKING:
            _, high, body = av
            if high > 1:
                found = _nested_hazard(
                    body.data, flags, unbounded=high == MAXREPEAT or high > _BIG_BOUND
                )
                if found:
                    return found
            if high == MAXREPEAT and _single(body) and _overlaps_next_repeat(sequence, i, flags):
                return "has two repeats in a row that can take the same characters (like '.*.*=')"
        for inner, inner_flags in _children(op, av, flags):
            found = _sequence_hazard(inner, inner_flags)
            if found:
                return found
    return None


def _nested_hazard(body: list, flags: int, unbounded: bool) -> str | None:
    """What makes the body of a repeat ambiguous: a repeat inside it, or overlapping branches."""
    for op, av in _backtracking_items(body, flags):
        if op in _BACKTRACKING and (av[1] == MAXREPEAT or (unbounded and av[0] != av[1])):
            return "nests repeated groups (like '(a+)+' or '(.*x){12}')"
        if op is BRANCH and _ambiguous(av[1], flags):
            return "repeats alternatives that can match the same text (like '(a|ab)+')"
    return None


def _backtracking_items(sequence: list, flags: int) -> Iterator[tuple]:
    """Every item of a sequence and of its groups, except inside atomic groups and possessive
    repeats, which never backtrack into what they matched."""
    for op, av in sequence:
        yield op, av
        if op not in (ATOMIC_GROUP, POSSESSIVE_REPEAT):
            for inner, inner_flags in _children(op, av, flags):
                yield from _backtracking_items(inner, inner_flags)


def _ambiguous(alternatives: list, flags: int) -> bool:
    seen = 0
    for alternative in alternatives:
        chars, empty = _first(alternative.data, flags, through_assertions=True)
        if chars is None or empty or chars & seen:
            return True
        seen |= chars
    return False


def _overlaps_next_repeat(sequence: list, i: int, flags: int) -> bool:
    """Whether an unbounded repeat that can take the same characters follows the one at `i`,
    with only optional parts between them."""
    own = _chars(_single(sequence[i][1][2]), flags)
    for op, av in sequence[i + 1 :]:
        if op in _REPEATS and av[1] == MAXREPEAT and _single(av[2]):
            theirs = _chars(_single(av[2]), flags)
            if not own or not theirs or own & theirs:
                return True
        _, empty = _first([(op, av)], flags, through_assertions=True)
        if not empty:
            return False
    return False


def _children(op, av, flags: int) -> Iterator[tuple[list, int]]:
    """The sequences nested in one item, with the flags in force inside them."""
    if op is SUBPATTERN:
        yield av[3].data, (flags | av[1]) & ~av[2]
    elif op is BRANCH:
        for alternative in av[1]:
            yield alternative.data, flags
    elif op is ATOMIC_GROUP:
        yield av.data, flags
    elif op in (ASSERT, ASSERT_NOT):
        yield av[1].data, flags
    elif op in _REPEATS:
        yield av[2].data, flags
    elif op is GROUPREF_EXISTS:  # (?(1)yes|no)
        for branch in av[1:]:
            if branch is not None:
                yield branch.data, flags
