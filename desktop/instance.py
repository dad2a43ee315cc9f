"""One AI-Prism per data folder (so one per user with the default folder).

The first launch holds an OS lock on `desktop.lock` in the data folder and listens on a localhost
socket whose port and secret it writes to `desktop.instance.json` (readable by the user only). A
later launch finds the lock taken, sends "show <secret>" (or "open <secret> <path>" when it was given
a document) to that socket and exits; the first one brings its window forward (or opens the
document in it). The OS drops the lock when a process dies, so a crash leaves no stale
lock: a leftover instance file is simply overwritten by the next first launch.
"""

from __future__ import annotations

import hmac
import json
import logging
import os
import secrets
import socket
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import IO

log = logging.getLogger(__name__)

LOCK_NAME = "desktop.lock"
INFO_NAME = "desktop.instance.json"
MAX_REQUEST = 8192  # "open <secret> <path>": room for any path


class SingleInstance:
    def __init__(self, folder: Path):
        self.folder = folder
        self._handle: IO | None = None
        self._listener: socket.socket | None = None
        self._secret = secrets.token_urlsafe(24)

    def acquire(self) -> bool:
        """True if this process is now the one instance for the folder."""
        self.folder.mkdir(parents=True, exist_ok=True)
        handle = open(self.folder / LOCK_NAME, "a+b")  # noqa: SIM115 (held open while we run)
        if not _try_lock(handle):
            handle.close()
            return False
        self._handle = handle
        return True

    def listen(self, on_show: Callable[[Path | None], None]) -> None:
        """Answer later launches: each valid request calls `on_show` (in a worker thread) with the
        document to open, or None to come to the front."""
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.bind(("127.0.0.1", 0))
        listener.listen(4)
        self._listener = listener
        _write_private(
            self.folder / INFO_NAME,
            json.dumps(
                {"pid": os.getpid(), "port": listener.getsockname()[1], "secret": self._secret}
            ),
        )
        threading.Thread(
            target=self._serve, args=(listener, on_show), name="instance", daemon=True
        ).start()

    def _serve(self, listener: socket.socket, on_show: Callable[[], None]) -> None:
        while True:
            try:
                connection, _ = listener.accept()
            except OSError:
                return  # closed
            with connection:
                connection.settimeout(2)
                try:
                    line = _read_line(connection).decode("utf-8", "replace").rstrip("\r\n")
                    command, _, rest = line.partition(" ")
                    secret, _, document = rest.partition(" ")
                    valid = command == "show" or (command == "open" and document)
                    if not valid or not hmac.compare_digest(secret, self._secret):
                        connection.sendall(b"refused\n")
                        continue
                    connection.sendall(b"ok\n")
                except OSError:
                    continue
            if command == "open":
                log.info("another launch asked this instance to open a document")
            else:
                log.info("another launch asked this instance to show itself")
            try:
                on_show(Path(document) if command == "open" else None)
            except Exception:
                log.exception("could not bring the window forward")

    def ask_to_show(self, document: Path | None = None, timeout: float = 5.0) -> bool:
        """From a later launch: ask the running instance to show itself, or to open `document`
        (an absolute path). True if it answered."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                info = json.loads((self.folder / INFO_NAME).read_text())
                with socket.create_connection(("127.0.0.1", int(info["port"])), timeout=2) as conn:
                    request = f"show {info['secret']}"
                    if document is not None:
                        request = f"open {info['secret']} {document}"
                    conn.sendall(request.encode() + b"\n")
                    if conn.recv(16).strip() == b"ok":
                        return True
            except (OSError, ValueError, KeyError, TypeError):
                pass  # still starting up, or its info is from an earlier run
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.2)

    def close(self) -> None:
        if self._listener is not None:
            self._listener.close()
            self._listener = None
            (self.folder / INFO_NAME).unlink(missing_ok=True)
        if self._handle is not None:
            self._handle.close()  # releases the lock
            self._handle = None


def _read_line(connection: socket.socket, limit: int = MAX_REQUEST) -> bytes:
    """One request line (a document path may be long, and arrive in pieces)."""
    data = b""
    while b"\n" not in data and len(data) < limit:
        chunk = connection.recv(limit - len(data))
        if not chunk:
            break
        data += chunk
    return data.split(b"\n", 1)[0]


def _try_lock(handle: IO) -> bool:
    if os.name == "nt":
        import msvcrt

        try:
            msvcrt.locking(handle.fileno(), msvcrt.LK_NBLCK, 1)
        except OSError:
            return False
        return True
    import fcntl

    try:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return False
    return True


def _write_private(path: Path, text: str) -> None:
    temp = path.with_name(path.name + ".tmp")
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(text)
    os.replace(temp, path)
