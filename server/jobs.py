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
        self._closing = threading.Event()

    def submit(self, key: str, job: Callable[[], None], bounded: bool = True) -> None:
        """Queue `job` unless one for `key` is already queued or running. `bounded=False` is for
        work already accepted earlier (resumed analyses), which must not be refused as Busy."""
        with self._lock:
            if self.is_active(key):
                return
            pending = sum(not f.done() for f in self._active.values())
            if bounded and pending >= self._max_queued:
                raise Busy("AI-Prism is analysing many documents right now; try again in a minute.")
            future = self._pool.submit(job)
            self._active[key] = future
        future.add_done_callback(lambda f, k=key: self._finished(k, f))

    def is_active(self, key: str) -> bool:
        future = self._active.get(key)
        return future is not None and not future.done()

    def every(self, seconds: float, task: Callable[[], None], name: str) -> None:
        """Run `task` now and then every `seconds` in a daemon thread, until shutdown."""

        def loop() -> None:
            while not self._closing.is_set():
                try:
                    task()
                except Exception:
                    log.exception("periodic task %s failed; it runs again in %.0f s", name, seconds)
                self._closing.wait(seconds)

        threading.Thread(target=loop, name=name, daemon=True).start()

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
        self._closing.set()
        self._pool.shutdown(wait=True, cancel_futures=False)
