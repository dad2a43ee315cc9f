"""Smoke test of the built app: `python build_spec/smoke_test.py [--binary PATH] [--no-window]`.

1. `ai-prism --serve --port 0 --no-browser` three times: read the printed URL, time launch → first
   answer from /health (target: within 1 s).
2. One review of the built-in sample through the API, its Word export and its HTML report.
3. `ai-prism --self-test` in a real window (on Linux an Xvfb screen started here): the window, its
   JavaScript, the bridge.
Everything runs with XDG folders and the data folder in a temporary directory. Standard library
only (plus the project's sample builder), so it runs from the test venv or the build venv alike.
Prints one JSON line with the figures; exits non-zero with the reason when a step fails.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import zipfile
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from desktop.bridge import LocalApi  # noqa: E402 (standard-library client, no app imports)
from server.samples import messy_investigation_docx  # noqa: E402

DEFAULT_BINARY = ROOT / "dist" / "ai-prism" / ("ai-prism.exe" if os.name == "nt" else "ai-prism")
URL_LINE = re.compile(r"^AI-Prism running at (http://127\.0\.0\.1:\d+/)\?token=(\S+)$")
HEALTH_BUDGET_S = 1.0


class SmokeFailed(Exception):
    pass


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--binary", type=Path, default=DEFAULT_BINARY)
    parser.add_argument("--no-window", action="store_true", help="skip the --self-test step")
    args = parser.parse_args(argv)
    if not args.binary.exists():
        print(f"smoke: no binary at {args.binary}; run `make build` first", file=sys.stderr)
        return 2
    figures: dict = {"binary": str(args.binary)}
    with tempfile.TemporaryDirectory(prefix="aiprism-smoke-") as temp:
        env = isolated_env(Path(temp))
        try:
            figures["launch_to_health_s"] = [
                serve(args.binary, Path(temp) / f"data{i}", env, figures if i == 0 else None)
                for i in range(3)
            ]
            if not args.no_window:
                figures.update(self_test(args.binary, env))
        except SmokeFailed as exc:
            print(json.dumps({**figures, "smoke": "failed", "reason": str(exc)}), flush=True)
            print(f"smoke: FAILED: {exc}", file=sys.stderr)
            return 1
    median = statistics.median(figures["launch_to_health_s"])
    figures["launch_to_health_median_s"] = round(median, 3)
    figures["health_within_budget"] = median <= HEALTH_BUDGET_S
    print(json.dumps({**figures, "smoke": "passed"}), flush=True)
    return 0


def isolated_env(folder: Path) -> dict:
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    for name in ("XDG_CACHE_HOME", "XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_STATE_HOME"):
        env[name] = str(folder / name.lower())
    for name in ("AIPRISM_DATA_DIR", "AIPRISM_TOKEN", "QT_QPA_PLATFORM"):
        env.pop(name, None)
    return env


def serve(binary: Path, data: Path, env: dict, figures: dict | None) -> float:
    """Launch in serve mode; seconds from launch to the first /health answer."""
    began = time.monotonic()
    process = subprocess.Popen(
        [str(binary), "--serve", "--port", "0", "--no-browser", "--data-dir", str(data)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        line = process.stdout.readline().strip()
        match = URL_LINE.match(line)
        if not match:
            raise SmokeFailed(f"no URL line, got {line!r}: {process.stderr.read()[-2000:]}")
        base, token = match.group(1), match.group(2)
        while True:
            try:
                with urllib.request.urlopen(base + "health", timeout=2) as response:  # noqa: S310
                    if json.load(response)["status"] == "healthy":
                        break
            except (urllib.error.URLError, OSError):
                if time.monotonic() - began > 30:
                    raise SmokeFailed("/health did not answer within 30 s") from None
                time.sleep(0.01)
        elapsed = time.monotonic() - began
        if figures is not None:
            figures.update(review(base, token))
        return round(elapsed, 3)
    finally:
        stopped = time.monotonic()
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            process.kill()
            raise SmokeFailed("the server did not stop on SIGTERM within 15 s") from None
        if figures is not None:
            figures["serve_stop_s"] = round(time.monotonic() - stopped, 3)


def review(base: str, token: str) -> dict:
    api = LocalApi(base, token)
    began = time.monotonic()
    created = api.upload(messy_investigation_docx(), "sample.docx", "investigation", None)
    while True:
        state = api.get_json(f"/api/v1/reviews/{created['id']}")
        if state["status"] in ("done", "failed"):
            break
        if time.monotonic() - began > 60:
            raise SmokeFailed("the review did not finish within 60 s")
        time.sleep(0.1)
    if state["status"] != "done" or not state["findings"]:
        raise SmokeFailed(f"the review did not produce findings: {state.get('error')}")
    content, name = api.export(created["id"], "docx")
    with zipfile.ZipFile(io.BytesIO(content)) as docx:
        if "word/comments.xml" not in docx.namelist():
            raise SmokeFailed(f"the exported {name} has no comments part")
    report, _ = api.export(created["id"], "html")  # server/exports/templates, found when frozen
    plain = [f["title"] for f in state["findings"] if re.fullmatch(r"[\w ,.-]+", f["title"])]
    if b"<html" not in report.lower() or not plain or plain[0].encode() not in report:
        raise SmokeFailed("the HTML report did not render the findings")
    return {"review_s": round(time.monotonic() - began, 3), "findings": len(state["findings"])}


def self_test(binary: Path, env: dict, command: list[str] | None = None) -> dict:
    """`binary --self-test` in a real window (or `command`, a launch with --self-test in it): on
    an Xvfb screen started here on Linux, on the desktop session itself on Windows and macOS."""
    with screen(env) as window_env:
        launched = time.time()
        result = subprocess.run(
            command or [str(binary), "--self-test"],
            env=window_env,
            capture_output=True,
            text=True,
            timeout=240,
        )
        exited = time.time()
    lines = result.stdout.strip().splitlines()
    try:
        report = json.loads(lines[-1])
    except (IndexError, ValueError):
        report = {}
    if result.returncode != 0 or report.get("self_test") != "passed":
        reason = report.get("reason") or result.stderr[-2000:]
        raise SmokeFailed(f"--self-test exited {result.returncode}: {reason}")
    return {
        "self_test": "passed",
        **({"opened_document": report["opened_document"]} if "opened_document" in report else {}),
        "launch_to_window_s": round(report["window_loaded_at"] - launched, 3),
        "self_test_findings": report["findings_rendered"],
        "close_to_exit_s": round(exited - report["closing_at"], 3),
    }


@contextlib.contextmanager
def screen(env: dict) -> Iterator[dict]:
    """The environment for a window: Linux gets a private Xvfb screen for the duration."""
    if not sys.platform.startswith("linux"):
        yield env
        return
    xvfb = shutil.which("Xvfb")
    if xvfb is None:
        raise SmokeFailed("Xvfb is not installed (apt-get install xvfb), or pass --no-window")
    read_end, write_end = os.pipe()
    server = subprocess.Popen(
        [xvfb, "-displayfd", str(write_end), "-screen", "0", "1280x900x24", "-nolisten", "tcp"],
        pass_fds=(write_end,),
        stderr=subprocess.DEVNULL,
    )
    os.close(write_end)
    try:
        with os.fdopen(read_end) as pipe:
            display = pipe.readline().strip()
        yield {**env, "DISPLAY": f":{display}"}
    finally:
        server.terminate()
        server.wait(10)


if __name__ == "__main__":
    sys.exit(main())
