"""Files in the user cache folder: what a run can always rebuild (patterns judged safe and
compiled, syllable and hyphenation tables, parsed packs), kept so the next run need not.

One way to find, read and write them: found on first use (not at import), read whole, written
atomically (a reader never sees half a file) and quietly, since a cache that cannot be read or
written only costs a run the time it would have saved. What they hold is plain Python values in
`marshal`'s format (that of Python's own .pyc files), which Python reads back fastest; each caller
checks what it reads back before using it.
"""

from __future__ import annotations

import importlib.util
import logging
import marshal
import os
import tempfile
from pathlib import Path

import platformdirs

from server.paths import APP_NAME

log = logging.getLogger(__name__)


def cache_path(name: str, folder: Path | None = None) -> Path:
    """`name` in `folder`, or in the user cache folder."""
    return (folder or Path(platformdirs.user_cache_dir(APP_NAME, appauthor=False))) / name


def package_file(package: str, *parts: str) -> Path | None:
    """A data file a cache is built from, in an installed package, found without importing the
    package (some are slow to import): None where it is not a plain file (a frozen app's
    resources)."""
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.origin:
        return None
    path = Path(spec.origin).parent.joinpath(*parts)
    return path if path.is_file() else None


def read(path: Path) -> bytes | None:
    try:
        return path.read_bytes()
    except OSError:
        return None


def write(path: Path, data: bytes) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, temp = tempfile.mkstemp(prefix=f".{path.stem}-", dir=path.parent)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(temp, path)
    except OSError as exc:
        log.info("cache not written to %s: %s", path, exc)


def load(path: Path) -> object:
    """The value `dump` wrote, or None when there is none, or it is damaged or from another
    Python (whose marshal format may differ)."""
    data = read(path)
    if not data:
        return None
    try:  # the user's own cache folder, as trusted as the .pyc files beside the program
        return marshal.loads(data)  # noqa: S302  # nosec B302
    except (ValueError, TypeError, EOFError):
        return None


def dump(path: Path, value: object) -> None:
    """Keep `value` (plain values only: ValueError for what marshal cannot hold)."""
    write(path, marshal.dumps(value))
