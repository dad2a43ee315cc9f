"""Reading documents and the offline review in child processes, for the hosted service.

Both are pure Python: in a Gunicorn worker's own process they hold the interpreter while they run,
so a burst of uploads made `/health` and page requests wait for it (bench/cloud_load.py). Here they
run in a small pool of processes per worker, started once (spawned, not forked: a worker has
threads and open connections), while the request or analysis thread only waits for the answer.
An instance then uses all its cores. A broken file is still refused at once: the child's error
comes back as the same exception. Progress is reported per stage, not per section.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import signal
import threading
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from datetime import date
from pathlib import Path

from server.documents.limits import Deadline, Limits
from server.errors import AIPrismError
from server.model import ReviewResult

log = logging.getLogger(__name__)
GRACE_SECONDS = 30  # beyond the document's own time limit, before a child is given up on
CHILD_NICENESS = 10  # added to the children's nice value: they yield cores to the workers


class ReviewProcessFailed(AIPrismError):
    code = "analysis_failed"
    http_status = 503


class CpuPool:
    def __init__(self, processes: int, frameworks_dir: Path, limits: Limits):
        self.processes = processes
        self._frameworks_dir = frameworks_dir
        self._limits = limits
        self._pool: ProcessPoolExecutor | None = None
        self._lock = threading.Lock()

    def _executor(self) -> ProcessPoolExecutor:
        with self._lock:
            if self._pool is None:
                self._pool = ProcessPoolExecutor(
                    self.processes,
                    mp_context=multiprocessing.get_context("spawn"),
                    initializer=_warm,
                    initargs=(self._frameworks_dir,),
                )
            return self._pool

    def _run(self, work, *args):
        try:
            future = self._executor().submit(work, *args)
            return future.result(timeout=self._limits.max_seconds + GRACE_SECONDS)
        except BrokenProcessPool:
            with self._lock:  # a child died (killed, out of memory): the next call starts anew
                self._pool = None
            log.error("a review process stopped unexpectedly")
            raise ReviewProcessFailed(
                "The review process stopped unexpectedly; try again in a moment."
            ) from None
        except TimeoutError:
            raise ReviewProcessFailed(
                "The review process did not answer in time; try again in a moment."
            ) from None

    def outline(self, data: bytes, filename: str, framework_id: str) -> tuple[str, int]:
        """Read the document to refuse a broken one at once; only its format and number of
        sections come back, since unpickling a whole Document would hold the worker's
        interpreter, which `/health` needs, for longer than reading it here did."""
        args = (data, filename, framework_id, self._frameworks_dir, self._limits)
        return self._run(_outline, *args)

    def review(
        self, data: bytes, filename: str, framework_id: str, muted: frozenset[str], as_of: date
    ) -> ReviewResult:
        """Read and review under one time limit, as in-process analyses do."""
        args = (data, filename, framework_id, self._frameworks_dir, self._limits, muted, as_of)
        return self._run(_review, *args)

    def warm(self) -> None:
        """Start every child now (each loads the packs and readers as it starts)."""
        pool = self._executor()
        for future in [pool.submit(_ready) for _ in range(self.processes)]:
            future.result(timeout=120)

    def shutdown(self) -> None:
        with self._lock:
            if self._pool is not None:
                self._pool.shutdown(wait=True, cancel_futures=True)
                self._pool = None


# --- in the child processes ---


def _warm(frameworks_dir: Path) -> None:
    """Start a child: deaf to the signals that stop the service (the worker that owns it lets its
    analyses finish, then shuts the pool down; a child dies with its worker's pipes), below the
    workers' scheduling priority, and warm.

    The children are the instance's CPU-heavy work; at a lower priority they still use every idle
    core, but the workers answering `/health` and pages never queue behind them for a core."""
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if hasattr(os, "nice"):  # POSIX; lowering one's own priority needs no privilege
        os.nice(CHILD_NICENESS)
    from server.engines import syllables
    from server.frameworks import available

    available(frameworks_dir)
    syllables.english()


def _ready() -> bool:
    return True


def _outline(
    data: bytes, filename: str, framework_id: str, frameworks_dir: Path, limits: Limits
) -> tuple[str, int]:
    from server.documents import load_document
    from server.frameworks import resolve

    document = load_document(data, filename, resolve(framework_id, frameworks_dir), limits)
    return document.format, len(document.sections)


def _review(
    data: bytes,
    filename: str,
    framework_id: str,
    frameworks_dir: Path,
    limits: Limits,
    muted: frozenset[str],
    as_of: date,
) -> ReviewResult:
    from server.documents import load_document
    from server.engines import offline
    from server.frameworks import resolve

    fw = resolve(framework_id, frameworks_dir)
    deadline = Deadline(limits, filename)
    document = load_document(data, filename, fw, limits, deadline)
    return offline.review(
        document, fw, as_of=as_of, on_progress=deadline.watch(_quiet), muted_rules=muted
    )


def _quiet(done: int, total: int, stage: str) -> None:
    """Progress inside a child goes nowhere; the deadline's watch is what matters here."""
