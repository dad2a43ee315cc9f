"""The servers under test, as child processes: Waitress (`aiprism serve`) and Gunicorn.

Each runs in a session of its own with its log in bench/out/, is waited for until /health answers,
and is measured from /proc before it stops: peak resident memory (VmHWM) and CPU time of the
master and its children, so a Gunicorn figure covers every worker.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"
BIN = Path(sys.executable).parent
URL_LINE = re.compile(r"^AI-Prism running at (http://127\.0\.0\.1:\d+)/")
LOG_ERROR = re.compile(r"\b(ERROR|CRITICAL)\b")


@dataclass(frozen=True)
class ProcessFigures:
    processes: int
    peak_rss_mib: float  # the sum of each process's own peak (VmHWM)
    cpu_seconds: float  # user + system, since each process started


@dataclass
class Server:
    name: str
    process: subprocess.Popen
    base_url: str
    log_path: Path
    helpers: tuple[int, ...] = ()  # processes it relies on (the fake S3), measured apart

    def url(self, path: str) -> str:
        return self.base_url + path

    def pids(self) -> list[int]:
        """The process and its direct children (Gunicorn's workers)."""
        children = []
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                try:
                    stat = (entry / "stat").read_text()
                except OSError:
                    continue  # exited meanwhile
                if int(stat.rsplit(")", 1)[1].split()[1]) == self.process.pid:
                    children.append(int(entry.name))
        return [self.process.pid, *sorted(children)]

    def figures(self) -> ProcessFigures:
        return process_figures(self.pids())

    def log_problems(self) -> dict[str, int]:
        """What the log says went wrong: error lines, and workers booted beyond the first ones."""
        text = self.log_path.read_text(errors="replace")
        return {
            "error lines": sum(1 for line in text.splitlines() if LOG_ERROR.search(line)),
            "worker timeouts": text.count("WORKER TIMEOUT"),
            "workers booted": text.count("Booting worker"),
        }

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(40)  # Gunicorn's graceful_timeout is 30 s
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(5)


def process_figures(pids: Sequence[int]) -> ProcessFigures:
    peak_kib, ticks = 0, 0
    for pid in pids:
        status = Path(f"/proc/{pid}/status").read_text()
        peak_kib += int(re.search(r"^VmHWM:\s+(\d+) kB", status, re.MULTILINE)[1])
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        ticks += int(fields[11]) + int(fields[12])  # utime, stime
    return ProcessFigures(len(pids), peak_kib / 1024, ticks / os.sysconf("SC_CLK_TCK"))


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _wait_healthy(server: Server, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(f"{server.name} exited; see {server.log_path}")
        try:
            if requests.get(server.url("/health"), timeout=1).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.1)
    raise TimeoutError(f"{server.name} did not answer /health; see {server.log_path}")


@contextmanager
def waitress(data_dir: Path, token: str, log_name: str) -> Iterator[Server]:
    """`aiprism serve --port 0` on SQLite in `data_dir`, as a reviewer runs it on a desktop."""
    log_path = OUT / log_name
    env = {k: v for k, v in os.environ.items() if not k.startswith("AIPRISM_")}
    with log_path.open("w") as log:
        process = subprocess.Popen(
            [str(BIN / "aiprism"), "serve", "--port", "0", "--data-dir", str(data_dir)],
            cwd=ROOT,
            env={**env, "AIPRISM_TOKEN": token, "PYTHONUNBUFFERED": "1"},
            stdout=subprocess.PIPE,
            stderr=log,
            text=True,
            start_new_session=True,
        )
    server = Server("Waitress", process, "", log_path)
    try:
        line = process.stdout.readline().strip()
        match = URL_LINE.match(line)
        if not match:
            raise RuntimeError(f"aiprism serve printed {line!r}; see {log_path}")
        server.base_url = match[1]
        _wait_healthy(server)
        yield server
    finally:
        server.stop()


@contextmanager
def gunicorn(
    name: str, arguments: Sequence[str], env: Mapping[str, str], log_name: str
) -> Iterator[Server]:
    """`gunicorn ARGUMENTS` with PORT set to a free port, its output in bench/out/LOG_NAME."""
    port = free_port()
    log_path = OUT / log_name
    with log_path.open("w") as log:
        process = subprocess.Popen(
            [str(BIN / "gunicorn"), *(a.format(port=port) for a in arguments)],
            cwd=ROOT,
            env={**env, "PORT": str(port), "PYTHONUNBUFFERED": "1"},
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    server = Server(name, process, f"http://127.0.0.1:{port}", log_path)
    try:
        _wait_healthy(server)
        yield server
    finally:
        server.stop()
