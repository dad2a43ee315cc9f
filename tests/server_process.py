"""Start the real `aiprism serve` in a child process and talk to it over HTTP."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from contextlib import contextmanager
from pathlib import Path

import requests

URL_LINE = re.compile(r"^AI-Prism running at (http://127\.0\.0\.1:(\d+)/)\?token=(\S+)$")


class RunningServer:
    def __init__(self, process: subprocess.Popen, base_url: str, token: str):
        self.process = process
        self.base_url = base_url
        self.token = token
        self.api = requests.Session()
        self.api.headers["Authorization"] = f"Bearer {token}"

    def url(self, path: str) -> str:
        return self.base_url.rstrip("/") + path

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(10)

    def upload(self, data: bytes, filename: str, framework: str | None = None) -> requests.Response:
        form = {"framework": framework} if framework else {}
        return self.api.post(
            self.url("/api/v1/reviews"), files={"file": (filename, data)}, data=form
        )

    def wait_done(self, review_id: str, timeout: float = 60) -> dict:
        return wait_finished(self.api, self.url(f"/api/v1/reviews/{review_id}"), timeout)


def wait_finished(
    api: requests.Session, review_url: str, timeout: float, details: Callable[[], str] = str
) -> dict:
    """The review at `review_url` once it is done or failed; `details()` goes into the timeout."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        review = api.get(review_url).json()
        if review["status"] in ("done", "failed"):
            return review
        time.sleep(0.1)
    raise TimeoutError(f"{review_url} did not finish\n{details()}")


@contextmanager
def running_server(data_dir: Path, token: str | None = None, extra_env: dict | None = None):
    env = {**os.environ, "PYTHONUNBUFFERED": "1", **(extra_env or {})}
    if token:
        env["AIPRISM_TOKEN"] = token
    process = subprocess.Popen(
        [sys.executable, "-m", "server", "serve", "--port", "0", "--data-dir", str(data_dir)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        line = process.stdout.readline().strip()
        match = URL_LINE.match(line)
        if not match:
            process.kill()
            raise RuntimeError(f"server did not start: {line!r} {process.stderr.read()[-2000:]}")
        yield RunningServer(process, match.group(1), match.group(3))
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(5)
