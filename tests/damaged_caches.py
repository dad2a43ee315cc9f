"""What a cache file in the user cache folder may hold when it is damaged or not ours: each cache
must take any of these for no cache at all."""

from __future__ import annotations

import marshal

DAMAGED = (b"", b"{", b"not marshal", marshal.dumps([]), marshal.dumps({}), marshal.dumps((1, 2)))
