"""Files in the user cache folder: what a run can always rebuild (patterns judged safe and
compiled, syllable and hyphenation tables, parsed packs), kept so the next run need not.

One way to find, read and write them: found on first use (not at import), read whole, written
atomically (a reader never sees half a file) and quietly, since a cache that cannot be read or
written only costs a run the time it would have saved.
"""

from __future__ import annotations

import logging
import os
import tempfile
from pathlib import Path

import platformdirs

from server.paths import APP_NAME

log = logging.getLogger(__name__)


def cache_path(name: str, folder: Path | None = None) -> Path:
    """`name` in `folder`, or in the user cache folder."""
    return (folder or Path(platformdirs.user_cache_dir(APP_NAME, appauthor=False))) / name


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
