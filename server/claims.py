"""Which process runs an analysis, when several could: one claim per run, kept alive by a heartbeat.

A worker claims a review by appending "started" conditionally on the log's last event (the
store's `expect_seq`), so of several workers resuming the same review exactly one wins. While it
works it rewrites the review's progress every few seconds with its name and the time ("beat"),
also while it waits on a slow AI call. Another worker treats a run as abandoned, and may claim it
again, when its owner is gone: on the same machine a process that no longer exists, elsewhere a
heartbeat older than STALE_AFTER_SECONDS.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import uuid
from datetime import datetime
from typing import Any

from server.store.base import ReviewStore

log = logging.getLogger(__name__)

HEARTBEAT_SECONDS = 10.0
STALE_AFTER_SECONDS = (
    60.0  # six missed heartbeats: long enough for a busy worker, short for a dead one
)

HOST = socket.gethostname()
THIS_PROCESS = f"{HOST}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def is_abandoned(owner: str | None, started_at: str, progress: dict[str, Any] | None) -> bool:
    """Whether a "running" review's owner has stopped working on it."""
    if owner == THIS_PROCESS:
        return False  # ours, and the job runner knows whether it still runs
    if owner and _gone_from_this_machine(owner):
        return True
    last_sign = _epoch(started_at)
    if progress and progress.get("owner") == owner:
        last_sign = max(last_sign, float(progress.get("beat") or 0))
    return time.time() - last_sign > STALE_AFTER_SECONDS


def _gone_from_this_machine(owner: str) -> bool:
    host, _, rest = owner.partition(":")
    pid_text, _, _ = rest.partition(":")
    if host != HOST or not pid_text.isdigit():
        return False
    pid = int(pid_text)
    if pid == os.getpid():
        return True  # our pid, not our name: an earlier run of a restarted container
    if os.name == "nt":
        return False  # os.kill would terminate it there; the heartbeat decides instead
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False  # alive, someone else's
    return False


def _epoch(iso: str) -> float:
    try:
        return datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return 0.0


class Heartbeat:
    """Progress writes for one claimed run, repeated while nothing new happens."""

    def __init__(self, store: ReviewStore, review_id: str, every: float = HEARTBEAT_SECONDS):
        self._store, self._review_id, self._every = store, review_id, every
        self._latest: dict[str, Any] = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=self._beat, name=f"heartbeat-{review_id}", daemon=True
        )

    def __enter__(self) -> Heartbeat:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stop.set()
        self._thread.join(timeout=self._every)

    def progress(self, done: int, total: int, stage: str) -> None:
        with self._lock:
            self._latest = {"done": done, "total": total, "stage": stage}
        self._write()

    def _write(self) -> None:
        with self._lock:
            progress = {**self._latest, "owner": THIS_PROCESS, "beat": time.time()}
        self._store.set_progress(self._review_id, progress)

    def _beat(self) -> None:
        while not self._stop.wait(self._every):
            if self._latest:
                try:
                    self._write()
                except Exception as exc:  # a missed beat is retried; the run goes on
                    log.warning("heartbeat of review %s missed: %s", self._review_id, exc)
