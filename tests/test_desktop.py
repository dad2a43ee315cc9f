"""The desktop app as a user meets it: `python -m desktop` in its own process, on an Xvfb screen.

webview.start() runs once per process, so every window test starts its own. Chromium runs as root
here, hence QTWEBENGINE_CHROMIUM_FLAGS=--no-sandbox; conftest keeps Qt's files out of the home folder.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from server import __version__
from server.samples import messy_investigation_docx

pytestmark = pytest.mark.desktop

URL_LINE = re.compile(r"^AI-Prism running at (http://127\.0\.0\.1:(\d+)/)\?token=(\S+)$")


@pytest.fixture(scope="session")
def xvfb_display():
    xvfb = shutil.which("Xvfb")
    if xvfb is None:
        pytest.fail("Xvfb is not installed: apt-get install xvfb (see .ci/run)")
    read_end, write_end = os.pipe()
    process = subprocess.Popen(
        [xvfb, "-displayfd", str(write_end), "-screen", "0", "1280x900x24", "-nolisten", "tcp"],
        pass_fds=(write_end,),
        stderr=subprocess.DEVNULL,
    )
    os.close(write_end)
    with os.fdopen(read_end) as pipe:
        number = pipe.readline().strip()
    if not number:
        process.kill()
        pytest.fail("Xvfb did not start")
    yield f":{number}"
    process.terminate()
    process.wait(10)


@pytest.fixture
def env(xvfb_display):
    environment = {
        **os.environ,  # with conftest's XDG_* folders
        "DISPLAY": xvfb_display,
        "QTWEBENGINE_CHROMIUM_FLAGS": "--no-sandbox",
        "PYTHONUNBUFFERED": "1",
    }
    for name in ("QT_QPA_PLATFORM", "WAYLAND_DISPLAY", "AIPRISM_DATA_DIR", "AIPRISM_TOKEN"):
        environment.pop(name, None)
    return environment


def desktop(*args: str, env: dict, **popen) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "desktop", *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        **popen,
    )


def log_text() -> str:
    path = Path(os.environ["XDG_STATE_HOME"]) / "ai-prism" / "log" / "ai-prism.log"
    return path.read_text() if path.exists() else ""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for(condition, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.kill()
        process.wait(10)


@pytest.fixture
def window(env, tmp_path):
    """A running desktop window on a known port; yields (process, base_url, data_dir)."""
    port = free_port()
    data = tmp_path / "data"
    process = desktop("--data-dir", str(data), "--port", str(port), env=env)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_for(lambda: "window loaded" in log_text(), 30, "the window to load")
        yield process, base, data
    finally:
        stop(process)


def test_self_test_opens_the_document_given_then_reviews_the_sample_and_exits_0(env, tmp_path):
    # as a file manager's "Open with" passes it: an absolute path, spaces, non-ASCII
    document = tmp_path / "Outage write-up – draft.docx"
    document.write_bytes(messy_investigation_docx())
    began = time.time()
    result = subprocess.run(
        [sys.executable, "-m", "desktop", str(document), "--self-test"],
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    exited = time.time()
    assert result.returncode == 0, result.stdout + result.stderr[-3000:]
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["self_test"] == "passed"
    opened = report["opened_document"]  # the window's first page was that document's review
    assert opened["name"] == document.name and opened["findings"] > 5
    assert report["findings_rendered"] > 5
    assert report["security"] == {"without_csrf": 403, "with_csrf": 200, "code": "csrf"}
    assert report["saved"] == "investigation-sample.reviewed.docx"
    assert exited >= report["closing_at"]  # it exited on its own, after closing its window
    print(
        f"\nlaunch→window {report['launch_to_window_s']:.2f} s (in process), "
        f"{report['closing_at'] - began:.1f} s whole run, close→exit {exited - report['closing_at']:.2f} s"
    )


def test_the_log_opens_with_the_version(window):
    assert f"AI-Prism {__version__} starting" in log_text()


def test_a_document_given_to_a_second_launch_opens_in_the_first_window(window, env, tmp_path):
    process, _, data = window
    document = tmp_path / "Second opinion.docx"
    document.write_bytes(messy_investigation_docx())
    second = subprocess.run(
        [sys.executable, "-m", "desktop", "--data-dir", str(data), str(document)],
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert second.returncode == 0, second.stderr
    assert "asked to open Second opinion.docx" in second.stderr
    wait_for(lambda: "opened Second opinion.docx as review" in log_text(), 20, "the review")
    review_id = re.search(r"opened Second opinion\.docx as review (\S+)", log_text()).group(1)
    assert process.poll() is None
    # the first window's store holds the new review (read from the data folder it serves)
    from server.store.sqlite import SQLiteStore

    assert SQLiteStore(data / "reviews.sqlite3").events(review_id)


def test_closing_the_window_ends_the_process(window):
    process, base, _ = window
    assert requests.get(base + "/health", timeout=5).status_code == 200
    process.send_signal(signal.SIGTERM)  # closes the window the way the user's close does
    process.wait(30)  # a hang guard; how fast it closes is the smoke test's printed figure
    assert process.returncode == 0
    assert "window closed; stopping" in log_text()
    with pytest.raises(requests.ConnectionError):
        requests.get(base + "/health", timeout=2)


def test_a_second_launch_brings_the_first_forward_and_exits(window, env):
    process, _, data = window
    second = subprocess.run(
        [sys.executable, "-m", "desktop", "--data-dir", str(data)],
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert second.returncode == 0, second.stderr
    assert "already running" in second.stderr
    wait_for(lambda: "asked this instance to show itself" in log_text(), 5, "the first to show")
    assert process.poll() is None  # the first one carries on


def test_the_window_server_refuses_other_hosts_origins_and_missing_secrets(window):
    _, base, _ = window
    port = base.rsplit(":", 1)[1]
    rebinding = requests.get(base + "/", headers={"Host": f"attacker.example:{port}"}, timeout=5)
    assert rebinding.status_code == 403
    foreign = requests.post(
        base + "/api/v1/settings", json={}, headers={"Origin": "http://attacker.example"}, timeout=5
    )
    assert foreign.status_code == 403
    assert foreign.json()["error"]["code"] == "bad_origin"
    anonymous = requests.get(base + "/api/v1/reviews", timeout=5)
    assert anonymous.status_code == 401
    wrong = requests.get(base + "/?token=guess", timeout=5, allow_redirects=False)
    assert wrong.status_code == 401
    csp = requests.get(base + "/health", timeout=5).headers["Content-Security-Policy"]
    assert (
        "script-src 'self' 'unsafe-eval';" in csp
    )  # pywebview's bridge needs eval, nothing inline
    assert "unsafe-inline" not in csp.split("style-src")[0]


def test_serve_prints_the_url_line_and_answers_health(env, tmp_path):
    process = desktop(
        "--serve", "--port", "0", "--no-browser", "--data-dir", str(tmp_path), env=env
    )
    try:
        match = URL_LINE.match(process.stdout.readline().strip())
        assert match, "no URL line"
        assert requests.get(match.group(1) + "health", timeout=5).json()["status"] == "healthy"
        api = {"Authorization": f"Bearer {match.group(3)}"}
        assert requests.get(match.group(1) + "api/v1/reviews", headers=api, timeout=5).ok
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(10)
    assert process.returncode == 0


def test_with_no_display_it_serves_instead_of_opening_a_window(env, tmp_path):
    headless = {k: v for k, v in env.items() if k != "DISPLAY"}
    process = desktop("--data-dir", str(tmp_path), env=headless)
    try:
        assert URL_LINE.match(process.stdout.readline().strip())
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(10)


def test_a_crashed_instance_leaves_no_stale_lock(env, tmp_path):
    first = desktop("--serve", "--no-browser", "--data-dir", str(tmp_path), env=env)
    assert URL_LINE.match(first.stdout.readline().strip())
    first.send_signal(signal.SIGKILL)
    first.wait(10)
    assert (tmp_path / "desktop.instance.json").exists()  # left behind by the crash
    again = desktop("--serve", "--no-browser", "--data-dir", str(tmp_path), env=env)
    try:
        assert URL_LINE.match(again.stdout.readline().strip())
    finally:
        again.send_signal(signal.SIGTERM)
        again.wait(10)


def test_settings_saved_on_the_page_persist_across_launches(env, tmp_path):
    body = {
        "framework": "general",
        "ai_provider": "bedrock",
        "aws_profile": "review-team",
        "aws_region": "eu-west-1",
        "muted_rules": ["hedging"],
    }
    for launch in ("save", "read"):
        process = desktop("--serve", "--no-browser", "--data-dir", str(tmp_path), env=env)
        try:
            match = URL_LINE.match(process.stdout.readline().strip())
            browser = requests.Session()
            home = browser.get(match.group(0).split(" at ")[1], timeout=5)  # token → cookie
            assert home.url == match.group(1)
            page = browser.get(match.group(1) + "settings", timeout=5)
            csrf = re.search(r'name="csrf-token" content="([^"]+)"', page.text).group(1)
            if launch == "save":
                saved = browser.post(
                    match.group(1) + "api/v1/settings",
                    json=body,
                    headers={"X-CSRF-Token": csrf, "Origin": match.group(1).rstrip("/")},
                    timeout=5,
                )
                assert saved.status_code == 200, saved.text
            else:
                read = browser.get(match.group(1) + "api/v1/settings", timeout=5).json()
                assert read.items() >= body.items()
                assert 'value="hedging" checked' in page.text
        finally:
            process.send_signal(signal.SIGTERM)
            process.wait(10)
    assert json.loads((tmp_path / "settings.json").read_text())["aws_profile"] == "review-team"
