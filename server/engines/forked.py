"""Work shared out over forked copies of this process, for the command line on POSIX.

A long write-up's rules are pure Python, so one process reviews on one core. Forking copies the
process as it is (modules imported, document read, packs loaded) in a few milliseconds, where a
spawned worker would import everything again; each child does one share and sends its result back
pickled through a pipe, while the parent does the first share itself.

Only for a process without threads (a forked thread-holding process can deadlock on a lock held
by a thread that was not copied): the CLI, never the server. A child that dies is not trusted to
have done its share: the parent does it again itself, so a result is complete or an error raised.
"""

from __future__ import annotations

import bisect
import gc
import itertools
import os
from collections.abc import Callable, Sequence
from typing import TypeVar

T = TypeVar("T")


def available_cores() -> int:
    """Cores this process may run on (its affinity, where the system tells it)."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def even_shares(sizes: Sequence[float], count: int, last_extra: float = 0.0) -> list[int]:
    """Where each of at most `count` runs of consecutive items starts, so that the runs' sizes
    (the last one's counting `last_extra` more) are about equal: a run ends with the item that
    reaches its part of the whole. With a large `last_extra` the last run may hold no item."""
    if count < 2 or not sizes:
        return [0]
    ends = list(itertools.accumulate(sizes))
    whole = ends[-1] + last_extra
    cuts = (bisect.bisect_left(ends, whole * k / count) + 1 for k in range(1, count))
    return sorted({0, *(min(cut, len(ends)) for cut in cuts)})


def run_shares(shares: Sequence[Callable[[], T]]) -> list[T]:
    """Each share's result, in order: shares[1:] in forked children, shares[0] here meanwhile.
    An exception a child raised is raised here, as the same exception."""
    if len(shares) < 2 or not hasattr(os, "fork"):
        return [share() for share in shares]
    gc.freeze()
    try:
        children = [_start(share) for share in shares[1:]]
        results = [shares[0]()]
        for share, child in zip(shares[1:], children, strict=True):
            results.append(_collect(share, child))
    finally:
        gc.unfreeze()
    return results


def _start(share: Callable[[], object]) -> tuple[int, int] | None:
    """(pid, read end of its pipe), or None when no child could be started."""
    # Here, not at import: a short document is never shared out. Pickles only pass between this
    # process and the children it forked, through pipes they alone hold.
    import pickle  # nosec B403

    try:
        read_end, write_end = os.pipe()
        pid = os.fork()
    except OSError:
        return None
    if pid == 0:  # the child: do the share, send it, and leave without running anything else
        os.close(read_end)
        try:
            outcome = (True, share())
        except BaseException as exc:  # every failure goes back to the parent
            outcome = (False, exc)
        try:
            with os.fdopen(write_end, "wb") as pipe:
                pickle.dump(outcome, pipe, protocol=pickle.HIGHEST_PROTOCOL)
        finally:
            os._exit(0)
    os.close(write_end)
    return pid, read_end


def _collect(share: Callable[[], T], child: tuple[int, int] | None) -> T:
    import pickle  # nosec B403

    if child is None:
        return share()
    pid, read_end = child
    with os.fdopen(read_end, "rb") as pipe:
        data = pipe.read()
    os.waitpid(pid, 0)
    try:  # our own child's bytes, through our own pipe
        done, value = pickle.loads(data)  # noqa: S301  # nosec B301
    except Exception:  # a child that died mid-way sent nothing usable
        return share()
    if not done:
        raise value
    return value
