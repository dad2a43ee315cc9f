"""A bounded background executor for analyses: requests return at once, work runs here."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor

from server.errors import AIPrismError

log = logging.getLogger(__name__)


class Busy(AIPrismError):
    code = "busy"
    http_status = 503


class JobRunner:
    """At most `workers` analyses run at once and `max_queued` wait; one job per review at a time."""

    def __init__(self, workers: int, max_queued: int):
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="analysis")
        self._max_queued = max_queued
        self._active: dict[str, Future] = {}
        self._lock = threading.Lock()

    def submit(self, key: str, job: Callable[[], None]) -> None:
        with self._lock:
            if key in self._active and not self._active[key].done():
                return
            pending = sum(not f.done() for f in self._active.values())
            if pending >= self._max_queued:
                raise Busy("AI-Prism is analysing many documents right now; try again in a minute.")
            future = self._pool.submit(job)
            self._active[key] = future
        future.add_done_callback(lambda f, k=key: self._finished(k, f))

    def _finished(self, key: str, future: Future) -> None:
        with self._lock:
            if self._active.get(key) is future:
                del self._active[key]
        if future.exception() is not None:
            log.error("background job %s failed", key, exc_info=future.exception())

    def wait_idle(self, timeout: float | None = None) -> None:
        """For tests and shutdown: wait until the current jobs are done."""
        with self._lock:
            futures = list(self._active.values())
        for future in futures:
            future.exception(timeout=timeout)

    def shutdown(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=False)
