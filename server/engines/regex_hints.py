"""What a regular expression needs from a text before it can match, read off its parse tree.

Python's `re` tries a pattern at every position of a text. For a pattern that starts with a
literal it first jumps to where that literal occurs, but most pack patterns start with `\\b` or a
look-behind, so the whole pattern is tried at each of the ~250,000 positions of a 100-page
document: several milliseconds per pattern per pass. Two facts about a pattern let the checks skip
that work without changing a single match:

- `first_class`: the characters every match starts with. `(?=[...])` in front of the pattern
  rejects any other position in one step.
- `required_literals`: strings a match must contain ('lorem' and 'ipsum' for
  `\\blorem\\s+ipsum\\b`). A paragraph without them cannot match, so the pattern need not run.

Both are conservative: anything in the parse tree not understood here (back-references,
conditionals, negated classes...) gives no hint, and the pattern runs as before. The parse tree
comes from `re._parser`, the parser `re.compile` itself uses; without it there are no hints.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

try:
    from re import _parser as sre_parser
except ImportError:  # pragma: no cover - a Python without the private parser: no hints
    sre_parser = None  # type: ignore[assignment]

# Parse-tree opcodes by name (`op.name`), so this module reads without the private constants.
# Items that match without consuming a character: skipped when looking for the first character.
_ZERO_WIDTH = {"AT", "ASSERT", "ASSERT_NOT"}
_REPEATS = {"MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT"}
_CATEGORIES = {
    "CATEGORY_DIGIT": r"\d",
    "CATEGORY_NOT_DIGIT": r"\D",
    "CATEGORY_SPACE": r"\s",
    "CATEGORY_NOT_SPACE": r"\S",
    "CATEGORY_WORD": r"\w",
    "CATEGORY_NOT_WORD": r"\W",
}


def _parse(pattern: str, flags: int) -> object | None:
    if sre_parser is None:
        return None
    try:
        return sre_parser.parse(pattern, flags)
    except re.error:
        return None


@lru_cache(maxsize=1024)
def first_class(pattern: str, flags: int = re.IGNORECASE) -> str | None:
    """A character class ('[xX]', '[\\d$£]') holding the first character of every match of
    `pattern` (compiled with `flags`), or None when that cannot be told.

    The class is meant to be compiled with the same flags in front of the pattern, so a
    case-insensitive pattern's class is case-insensitive too.
    """
    parsed = _parse(pattern, flags)
    if parsed is None:
        return None
    items = _first_items(parsed.data)  # type: ignore[attr-defined]
    if not items:
        return None
    body = [_class_item(op, av) for op, av in items]
    if any(part is None for part in body):
        return None
    return "[" + "".join(body) + "]"  # type: ignore[arg-type]


def _first_items(sequence: list) -> list | None:
    """The class items (LITERAL, RANGE, CATEGORY) the first consumed character must match."""
    for op, av in sequence:
        name = op.name
        if name in _ZERO_WIDTH:
            continue
        if name == "LITERAL":
            return [(op, av)]
        if name == "IN":
            return list(av)
        if name == "SUBPATTERN":
            _group, add_flags, _del_flags, body = av
            if add_flags & re.IGNORECASE:  # the class in front would be stricter than the group
                return None
            return _first_items(body)
        if name == "ATOMIC_GROUP":
            return _first_items(av)
        if name in _REPEATS:
            low, _high, body = av
            return _first_items(body) if low >= 1 else None
        if name == "BRANCH":
            alternatives = [_first_items(branch) for branch in av[1]]
            if any(items is None for items in alternatives):
                return None
            return [item for items in alternatives for item in items]  # type: ignore[union-attr]
        return None  # ANY, NOT_LITERAL, GROUPREF, ...: no useful class
    return None  # nothing consumed: the pattern can match an empty string


def _class_item(op: object, av: object) -> str | None:
    name = op.name
    if name == "LITERAL":
        return re.escape(chr(av))  # type: ignore[arg-type]
    if name == "RANGE":
        low, high = av  # type: ignore[misc]
        return f"{re.escape(chr(low))}-{re.escape(chr(high))}"
    if name == "CATEGORY":
        return _CATEGORIES.get(av.name)  # type: ignore[attr-defined]
    return None  # NEGATE and the rest


@dataclass(frozen=True)
class Needs:
    """Literal strings a match must contain: every group must have one of its strings in the
    text. `(string, ignore_case)`: an ignore-case string is lower-case ASCII, compared with the
    lower-cased text."""

    groups: tuple[frozenset[tuple[str, bool]], ...]

    def met_by(self, text: str, lowered: str | None) -> bool:
        """False only when no match is possible. `lowered` is `text.lower()` when the text is
        ASCII, else None: outside ASCII a case-insensitive match may use look-alike letters
        (the long s 'ſ' matches 's', the Kelvin sign matches 'k'), so those strings count as met.
        """
        for group in self.groups:
            for literal, ignore_case in group:
                haystack = lowered if ignore_case else text
                if haystack is None or literal in haystack:
                    break  # this group is met
            else:
                return False
        return True


@lru_cache(maxsize=1024)
def required_literals(pattern: str, flags: int = re.IGNORECASE) -> Needs:
    """What every match of `pattern` (compiled with `flags`) contains; no groups when unknown."""
    parsed = _parse(pattern, flags)
    if parsed is None:
        return Needs(())
    ignore_case = bool(parsed.state.flags & re.IGNORECASE)  # type: ignore[attr-defined]
    return Needs(tuple(_needs(parsed.data, ignore_case)))  # type: ignore[attr-defined]


def _needs(sequence: list, ignore_case: bool) -> list[frozenset[tuple[str, bool]]]:
    """Runs of consecutive literals, and what groups, repeats and alternations inside need."""
    out: list[frozenset[tuple[str, bool]]] = []
    run: list[str] = []

    def end_run() -> None:
        literal = "".join(run)
        run.clear()
        if not literal:
            return
        if not ignore_case:
            out.append(frozenset({(literal, False)}))
        elif literal.isascii():  # see Needs.met_by: only ASCII folds predictably
            out.append(frozenset({(literal.lower(), True)}))

    for op, av in sequence:
        name = op.name
        if name == "LITERAL":
            run.append(chr(av))
            continue
        end_run()
        if name == "SUBPATTERN":
            _group, add_flags, del_flags, body = av
            inner = (ignore_case or bool(add_flags & re.IGNORECASE)) and not (
                del_flags & re.IGNORECASE
            )
            out.extend(_needs(body, inner))
        elif name == "ATOMIC_GROUP":
            out.extend(_needs(av, ignore_case))
        elif name in _REPEATS and av[0] >= 1:
            out.extend(_needs(av[2], ignore_case))
        elif name == "BRANCH":
            branches = [_needs(branch, ignore_case) for branch in av[1]]
            if all(branches):  # each alternative needs something: one of those is needed
                out.append(frozenset().union(*(max(b, key=_selectivity) for b in branches)))
    end_run()
    return out


def _selectivity(group: frozenset[tuple[str, bool]]) -> int:
    """A group is as selective as its shortest string is long."""
    return min(len(s) for s, _ in group)


def lowered_if_ascii(text: str) -> str | None:
    """The argument `Needs.met_by` expects for `text`."""
    return text.lower() if text.isascii() else None
