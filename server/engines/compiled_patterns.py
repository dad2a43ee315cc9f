"""Compiled regular expressions, remembered across runs: the packs' and this program's own.

Making a pack pattern safe (server/engines/patterns.py) rewrites its parse tree, which costs more
than compiling it: for the built-in packs' patterns and the alternations the checks build from
them, about a third of a second of every `aiprism review` and every fresh server. What `re` makes
of a rewritten tree is its instruction list for the matching engine, a list of integers that
depends only on the pattern, the rewriting and this Python's `re`; so it is kept in the user cache
folder under a name that holds that fingerprint (`safe_patterns.fingerprint`), and handed back to
`_sre.compile` as `re` itself does. The modules' own patterns, compiled as they are imported,
are kept the same way in a second file (`regex`). A cache that cannot be read, or an entry `_sre`
refuses, only means compiling again.
"""

from __future__ import annotations

import _sre
import atexit
import re
import threading
from pathlib import Path
from re import _compiler, _parser

from server import cache_files
from server.engines.safe_patterns import fingerprint

MAX_ENTRIES = 4096  # alternations depend on the text read: keep the file from growing without end


class CompiledPatterns:
    def __init__(self, path: Path | None = None, name: str = "compiled-patterns"):
        self._path = path  # None: the user cache folder, found on first use (not at import)
        self._name = name
        self._known: dict[str, list] | None = None
        self._used: set[str] = set()
        self._added = False
        self._lock = threading.Lock()

    def get(self, pattern: str, source: str | None = None) -> re.Pattern[str] | None:
        """The remembered compiled form of `pattern`, or None; `source` is what its `pattern`
        attribute says (None for a rewritten tree, as `re` has it)."""
        with self._lock:
            entry = self._load().get(pattern)
            if entry is None:
                return None
            try:
                compiled = from_entry(entry, source)
            except (TypeError, ValueError, IndexError, RuntimeError, OverflowError, AttributeError):
                del self._known[pattern]  # corrupt: compiled again and replaced
                return None
            self._used.add(pattern)
            return compiled

    def add(self, pattern: str, entry: list) -> None:
        with self._lock:
            self._load()[pattern] = entry
            self._used.add(pattern)
            self._added = True

    @property
    def path(self) -> Path:
        if self._path is None:
            self._path = cache_files.cache_path(f"{self._name}-{fingerprint()}.marshal")
        return self._path

    def save(self) -> None:
        """Write the entries if this process compiled new ones."""
        with self._lock:
            if not self._added or self._known is None:
                return
            known = self._known
            if len(known) > MAX_ENTRIES:
                known = {p: e for p, e in known.items() if p in self._used}
            cache_files.dump(self.path, known)
            self._added = False

    def _load(self) -> dict[str, list]:
        if self._known is None:
            loaded = cache_files.load(self.path)
            self._known = loaded if type(loaded) is dict else {}
        return self._known


def entry_of(tree, flags: int) -> list:
    """What `re._compiler.compile` derives from a parse tree: flags, instructions, groups."""
    code = list(map(int, _compiler._code(tree, flags)))  # opcodes are an int subclass
    return [int(flags | tree.state.flags), code, tree.state.groups, dict(tree.state.groupdict)]


def from_entry(entry: list, source: str | None = None) -> re.Pattern[str]:
    """The pattern `re._compiler.compile` returns: for a tree (whose `pattern` is None there
    too), or for the text `source`."""
    flags, code, groups, groupindex = entry
    indexgroup = [None] * groups
    for name, index in groupindex.items():
        indexgroup[index] = name
    return _sre.compile(source, flags, code, groups - 1, groupindex, tuple(indexgroup))


def regex(pattern: str, flags: int = 0) -> re.Pattern[str]:
    """`re.compile(pattern, flags)` for this program's own patterns, which every run compiles
    as it imports the modules that hold them (a few hundredths of a second): from the cache
    when an earlier run compiled them."""
    key = f"{int(flags)} {pattern}"
    known = REGEXES.get(key, pattern)
    if known is not None:
        return known
    entry = entry_of(_parser.parse(pattern, int(flags)), int(flags))
    REGEXES.add(key, entry)
    return from_entry(entry, pattern)


COMPILED = CompiledPatterns()  # pack patterns, as server/engines/patterns.py rewrites them
REGEXES = CompiledPatterns(name="compiled-regexes")
atexit.register(COMPILED.save)
atexit.register(REGEXES.save)
