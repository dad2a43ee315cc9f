"""Pack patterns already found free of endless backtracking, remembered across runs.

The hazard analysis (server/engines/patterns.py) walks each pattern's parse tree several ways; for
the built-in packs' few hundred patterns that is about a quarter of a second, paid by every
`aiprism review` and every fresh server for packs that have not changed. A pattern's verdict
depends only on the pattern and on the analysis, so the safe ones are kept in the user cache
folder under a name that holds the analysis's own fingerprint: change the analysis, and every
pattern is judged again. Hostile patterns are never remembered; they are refused each time.
"""

from __future__ import annotations

import atexit
import hashlib
import sys
import threading
from pathlib import Path

import server
from server import cache_files

_ANALYSIS = ("patterns.py", "regex_hints.py")  # the files whose code decides a verdict


class SafePatterns:
    def __init__(self, path: Path | None = None):
        self._path = path  # None: the user cache folder, found on first use (not at import)
        self._known: set[str] | None = None
        self._added = False
        self._lock = threading.Lock()

    def __contains__(self, pattern: str) -> bool:
        with self._lock:
            return pattern in self._load()

    def add(self, pattern: str) -> None:
        with self._lock:
            known = self._load()
            if pattern not in known:
                known.add(pattern)
                self._added = True

    @property
    def path(self) -> Path:
        if self._path is None:
            self._path = cache_files.cache_path(f"safe-patterns-{fingerprint()}.marshal")
        return self._path

    def save(self) -> None:
        """Write the set if this process found new safe patterns."""
        with self._lock:
            if not self._added or self._known is None:
                return
            cache_files.dump(self.path, sorted(self._known))
            self._added = False

    def _load(self) -> set[str]:
        if self._known is None:
            loaded = cache_files.load(self.path)
            self._known = {p for p in loaded if type(p) is str} if type(loaded) is list else set()
        return self._known


def fingerprint() -> str:
    """The analysis's code and this Python's `re` parser (its trees are what is analysed)."""
    digest = hashlib.sha256(sys.version.encode())
    here = Path(__file__).parent
    for name in _ANALYSIS:
        try:
            digest.update((here / name).read_bytes())
        except OSError:  # a frozen app ships compiled modules only: its version stands for them
            digest.update(f"{name} {server.__version__}".encode())
    return digest.hexdigest()[:16]


SAFE = SafePatterns()
atexit.register(SAFE.save)
