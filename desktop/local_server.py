"""The embedded Waitress server: started in a thread on 127.0.0.1, stopped without losing work."""

from __future__ import annotations

import logging
import os
import threading
import time
import urllib.request
from typing import NoReturn
from urllib.parse import urlencode

from server.serve import make_server, url_of
from server.settings import Settings

log = logging.getLogger(__name__)


class ServerNotReady(RuntimeError):
    pass


class LocalServer:
    def __init__(self, settings: Settings, port: int = 0):
        self.settings = settings
        self.app, self.server = make_server(settings, "127.0.0.1", port)
        self.base_url = f"http://127.0.0.1:{self.server.effective_port}"
        self.url = url_of(self.server, settings)  # carries the token once, for the first page
        self._thread: threading.Thread | None = None

    def url_for(self, path: str) -> str:
        """`path` on this server, carrying the token once (it becomes a cookie there)."""
        token = self.settings.token
        return f"{self.base_url}{path}" + (f"?{urlencode({'token': token})}" if token else "")

    def start(self, timeout: float = 15.0) -> None:
        """Serve in a daemon thread and return once /health answers."""
        self._thread = threading.Thread(target=self._run, name="waitress", daemon=True)
        self._thread.start()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(self.base_url + "/health", timeout=1) as response:  # noqa: S310
                    if response.status == 200:
                        return
            except OSError:
                time.sleep(0.02)
        raise ServerNotReady(f"the local server did not answer /health within {timeout:.0f} s")

    def _run(self) -> None:
        try:
            self.server.run()
        except Exception:
            log.exception("the local server stopped")

    def stop(self, timeout: float = 1.5) -> bool:
        """Let running analyses finish within `timeout`; True if nothing was left running.

        An analysis cut short is not lost: its review stays "running" in the store and is
        analysed again at the next launch (ReviewService.resume_interrupted).
        """
        jobs = self.app.extensions["aiprism_jobs"]
        done = threading.Event()

        def finish() -> None:
            jobs.shutdown()
            done.set()

        threading.Thread(target=finish, name="jobs-shutdown", daemon=True).start()
        clean = done.wait(timeout)
        if not clean:
            log.warning("an analysis was still running at exit; it resumes at the next launch")
        return clean


def exit_now(code: int) -> NoReturn:
    """Exit without waiting for worker threads (an unfinished analysis resumes next launch)."""
    logging.shutdown()
    os._exit(code)
