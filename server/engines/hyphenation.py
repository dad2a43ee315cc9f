"""pyphen's English hyphenation points, from the patterns pyphen parsed, without importing pyphen.

Readability counts a word the CMU dictionary lacks as pyphen's hyphenation points plus one
(server/engines/syllables.py). pyphen parses its pattern file's 11,000 lines on every run, and
importing it (with importlib.resources, to list its dictionaries) costs a process another 10 ms
before the first look-up. So the patterns pyphen parsed are kept in the user cache folder, keyed
by the file's size and time, read back with `marshal`, and the points are found here as pyphen's
`HyphDict.positions` and `Pyphen.positions` (default margins of two letters) find them, step for
step; tests/test_hyphenation.py holds the counts to pyphen's own. pyphen is imported only to parse
the file the first time, or where it is not a plain file (a frozen app's resources).
"""

from __future__ import annotations

from itertools import chain
from pathlib import Path

from server import cache_files

ENGLISH = ("pyphen", "dictionaries", "hyph_en_US.dic")  # what pyphen.Pyphen(lang="en_US") reads
_MARGIN = 2  # pyphen.Pyphen's default `left` and `right`: no point within two letters of an end


class Hyphenation:
    """Hyphenation points of words, from parsed patterns: piece of ".word." → (offset, values)."""

    def __init__(self, patterns: dict[str, tuple[int, tuple[int, ...]]]):
        self._patterns = patterns
        self._longest = max(map(len, patterns))
        # Only pieces of ".word." are looked up: a word with none of the patterns' characters
        # (a number, most words the dictionary lacks) has no point, unless "." is one alone.
        self._characters = None if "." in patterns else frozenset("".join(patterns))

    def points(self, word: str) -> int:
        """How many points pyphen.Pyphen(lang="en_US").positions(word) gives."""
        lowered = word.lower()
        if self._characters is not None and self._characters.isdisjoint(lowered):
            return 0
        pointed = f".{lowered}."
        references = [0] * (len(pointed) + 1)
        for i in range(len(pointed) - 1):
            for j in range(i + 1, min(i + self._longest, len(pointed)) + 1):
                pattern = self._patterns.get(pointed[i:j])
                if not pattern:
                    continue
                offset, values = pattern
                window = slice(i + offset, i + offset + len(values))
                references[window] = map(max, values, references[window])
        last = len(word) - _MARGIN  # pyphen measures the word as given, not lower-cased
        return sum(
            1 for i, value in enumerate(references) if value % 2 and _MARGIN <= i - 1 <= last
        )


def english(cache_dir: Path | None = None) -> Hyphenation:
    """English patterns from the cache, else parsed by pyphen (and cached when they are plain
    numbers, as English's are)."""
    source = cache_files.package_file(*ENGLISH)
    if source is None:  # not a plain file: pyphen reads its own resources
        import pyphen

        return Hyphenation(pyphen.Pyphen(lang="en_US").hd.patterns)
    stat = source.stat()
    path = cache_files.cache_path(
        f"hyphenation-{source.name}-{stat.st_size}-{stat.st_mtime_ns}.marshal", cache_dir
    )
    try:
        return Hyphenation(_checked(cache_files.load(path)))
    except ValueError:
        pass  # absent or damaged: parsed again
    import pyphen

    patterns = pyphen.HyphDict(source).patterns
    if _plain(patterns):
        cache_files.dump(path, patterns)
    return Hyphenation(patterns)


def _checked(patterns: object) -> dict:
    """The patterns read back, checked with C-level passes before they are used."""
    if not (
        type(patterns) is dict
        and patterns
        and set(map(type, patterns)) == {str}
        and _plain(patterns)
    ):
        raise ValueError("not a table of hyphenation patterns")
    return patterns


def _plain(patterns: dict) -> bool:
    """Whether every pattern is (int, tuple of ints): what marshal keeps and `_checked` accepts
    (a dictionary with alternative hyphenations has pyphen's own number type in its values)."""
    pairs = patterns.values()
    if set(map(type, pairs)) != {tuple} or set(map(len, pairs)) != {2}:
        return False
    offsets, values = zip(*pairs, strict=True)
    return (
        set(map(type, offsets)) == {int}
        and set(map(type, values)) == {tuple}
        and set(map(type, chain.from_iterable(values))) <= {int}
    )
