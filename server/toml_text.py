"""TOML text parsed as tomllib parses it, remembered across runs for text that has not changed.

Parsing a framework pack (and pyproject.toml, for the version) with tomllib is pure Python: about
a tenth of a short `aiprism review`, for files that rarely change. What tomllib returns for them
is plain dicts, lists, strings and numbers, which `marshal` (the format of Python's own .pyc files)
reads back some fifty times faster. So each file's parse is kept in the user cache folder, one
entry per file name, with a digest of the text it came from: a changed text is parsed again and
replaces it. A parse holding dates or times (which marshal cannot hold) is not kept.
"""

from __future__ import annotations

import contextlib
import hashlib
from typing import Any

from server import cache_files


class TomlError(ValueError):
    """tomllib's refusal of a text, with its message (which ends "(at line L, column C)")."""


def loads(text: str, name: str) -> dict[str, Any]:
    """`tomllib.loads(text)`; `name` (a file's path) says which cache entry is this text's.
    Raises TomlError for a text tomllib refuses (RecursionError for one nested too deeply)."""
    digest = hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()
    path = cache_files.cache_path(f"toml-{hashlib.sha256(name.encode()).hexdigest()[:24]}.marshal")
    cached = cache_files.load(path)  # (digest of the text, its parse)
    if (
        type(cached) is tuple
        and len(cached) == 2
        and cached[0] == digest
        and type(cached[1]) is dict
    ):
        return cached[1]
    import tomllib  # only when the text is new: importing it is part of what the cache saves

    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise TomlError(str(exc)) from None
    with contextlib.suppress(ValueError):  # dates or times: not kept
        cache_files.dump(path, (digest, data))
    return data
