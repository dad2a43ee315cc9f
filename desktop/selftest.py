"""`aiprism-desktop --self-test`: open the real window and use it as a reviewer would.

The page must render without the token in its address, refuse a state-changing request without the
CSRF token and accept one with it, then review the built-in sample: the upload button goes through
desktop.js and the bridge's open dialog (answered by ScriptedDialogs), the findings must render, and
the Word export goes through the save dialog to a file. Then the window closes. Exit 0 when all of
that happened, 1 with the reason otherwise. One JSON line on stdout reports what was measured.
"""

from __future__ import annotations

import json
import logging
import sys
import tempfile
import threading
import time
import zipfile
from pathlib import Path

from desktop.bridge import ScriptedDialogs
from desktop.instance import SingleInstance
from desktop.local_server import LocalServer, exit_now
from desktop.open_file import first_url
from desktop.window import (
    DesktopWindow,
    allow_pywebview_scripts,
    has_display,
    prepare_environment,
    unavailable_reason,
)
from server.samples import messy_investigation_docx
from server.settings import Settings

log = logging.getLogger(__name__)

WATCHDOG_S = 150

PAGE_CHECK = """({
  path: location.pathname,
  query: location.search,
  upload_form: !!document.getElementById("upload-form"),
  csrf_meta: (document.querySelector('meta[name="csrf-token"]') || {}).content || "",
  session_cookie_visible: document.cookie.includes("aiprism_session"),
  bridge: !!(window.pywebview && window.pywebview.api && window.pywebview.api.open_document),
})"""

SECURITY_CHECK = """(async () => {
  const csrf = document.querySelector('meta[name="csrf-token"]').content;
  const json = {"Content-Type": "application/json", "Accept": "application/json"};
  const current = await (await fetch("/api/v1/settings")).json();
  const body = JSON.stringify({framework: current.framework});
  const without = await fetch("/api/v1/settings", {method: "POST", headers: json, body});
  const withToken = await fetch("/api/v1/settings", {
    method: "POST", headers: {...json, "X-CSRF-Token": csrf}, body});
  return {without_csrf: without.status, with_csrf: withToken.status,
          code: ((await without.json()).error || {}).code};
})()"""

REVIEW_RENDERED = (
    "/^\\/reviews\\/[^/]+$/.test(location.pathname) && "
    "document.querySelectorAll('.finding').length > 0"
)


class SelfTestFailed(Exception):
    pass


def run(data_dir: str | None, port: int, started: float, document: Path | None = None) -> int:
    """`document`: given on the command line (as the desktop entry does); the window must open on
    its new review first, then the usual checks follow."""
    prepare_environment()
    if not has_display():
        return _report({"reason": "no display: start Xvfb or set QT_QPA_PLATFORM=offscreen"})
    reason = unavailable_reason()
    if reason:
        return _report({"reason": f"the window cannot open here ({reason})"})
    watchdog = threading.Timer(WATCHDOG_S, _give_up)
    watchdog.daemon = True
    watchdog.start()
    with tempfile.TemporaryDirectory(
        prefix="aiprism-selftest-", ignore_cleanup_errors=True
    ) as temp:
        folder = Path(temp)
        data = Path(data_dir) if data_dir else folder / "data"
        instance = SingleInstance(data)
        if not instance.acquire():
            return _report({"reason": f"another AI-Prism is using the data folder {data}"})
        try:
            sample = folder / "investigation-sample.docx"
            sample.write_bytes(messy_investigation_docx())
            dialogs = ScriptedDialogs(sample, folder / "saved")
            local = LocalServer(Settings(data_dir=data, desktop=True), port)
            allow_pywebview_scripts(local.app)
            local.start()
            outcome: dict = {"server_ready_s": round(time.monotonic() - started, 3)}
            url, notice = first_url(local, document)
            if notice:
                return _report({**outcome, "reason": f"{document} was not opened: {notice}"})
            window = DesktopWindow(
                local, dialogs, title="AI-Prism self-test", started=started, url=url
            )
            opened = document.name if document else None
            window.run(lambda w: _drive(w, dialogs, outcome, started, opened))
            outcome["shutdown_clean"] = local.stop()
        finally:
            instance.close()
    watchdog.cancel()
    return _report(outcome)


def _drive(
    win: DesktopWindow,
    dialogs: ScriptedDialogs,
    outcome: dict,
    started: float,
    opened: str | None,
) -> None:
    window = win.window
    try:
        if not window.events.loaded.wait(30):
            raise SelfTestFailed("the page did not load within 30 s")
        loaded = win.loaded_at or time.monotonic()
        outcome["launch_to_window_s"] = round(loaded - started, 3)
        outcome["window_loaded_at"] = time.time() - (time.monotonic() - loaded)
        if opened:
            outcome["opened_document"] = _check_opened(window, opened)
            window.load_url(win.local.base_url + "/")
            _wait(window, "location.pathname === '/'", 20, "the home page")
        _wait(window, "document.documentElement.dataset.desktop === 'ready'", 20, "desktop.js")
        page = window.evaluate_js(PAGE_CHECK)
        _expect(page["path"] == "/" and page["query"] == "", f"token left in the URL: {page}")
        _expect(page["upload_form"], "the home page did not render its upload form")
        _expect(len(page["csrf_meta"]) >= 32, "the page carries no CSRF token")
        _expect(not page["session_cookie_visible"], "the session cookie is readable by scripts")
        _expect(page["bridge"], "the js_api bridge is missing")
        security = _evaluate_async(window, SECURITY_CHECK, 15)
        _expect(
            security.get("without_csrf") == 403 and security.get("code") == "csrf",
            f"a POST without the CSRF token was not refused: {security}",
        )
        _expect(security.get("with_csrf") == 200, f"a POST with the CSRF token failed: {security}")
        outcome["security"] = security

        begun = time.monotonic()
        window.evaluate_js("document.getElementById('file-input').click(); true")
        _wait(window, REVIEW_RENDERED, 90, "the findings of the sample review")
        outcome["review_s"] = round(time.monotonic() - begun, 3)
        outcome["findings_rendered"] = window.evaluate_js(
            "document.querySelectorAll('.finding').length"
        )
        outcome["review_path"] = window.evaluate_js("location.pathname")

        window.evaluate_js("document.getElementById('download-docx').click(); true")
        saved = _saved_file(dialogs, 30)
        with zipfile.ZipFile(saved) as docx:
            comments = (
                docx.read("word/comments.xml") if "word/comments.xml" in docx.namelist() else b""
            )
        _expect(b"<w:comment " in comments, f"the saved {saved.name} has no Word comments")
        outcome["saved"] = saved.name
        outcome["ok"] = True
    except SelfTestFailed as exc:
        outcome["reason"] = str(exc)
    except Exception as exc:
        log.exception("self-test step failed")
        outcome["reason"] = f"{type(exc).__name__}: {exc}"
    finally:
        outcome["closing_at"] = time.time()
        window.destroy()


def _check_opened(window, name: str) -> dict:
    """The window opened on the new review of the document it was given, its findings shown."""
    _wait(window, REVIEW_RENDERED, 90, f"the findings of the review of {name}")
    page = window.evaluate_js(
        "({path: location.pathname, query: location.search,"
        " findings: document.querySelectorAll('.finding').length,"
        f" named: document.body.textContent.includes({json.dumps(name)})}})"
    )
    _expect(page["query"] == "", f"token left in the URL: {page}")
    _expect(page["named"], f"the review page does not name {name}")
    return {"name": name, "path": page["path"], "findings": page["findings"]}


def _expect(condition: object, reason: str) -> None:
    if not condition:
        raise SelfTestFailed(reason)


def _wait(window, expression: str, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    last_error = ""
    while time.monotonic() < deadline:
        try:
            if window.evaluate_js(f"!!({expression})"):
                return
        except Exception as exc:  # the page is navigating; ask again
            last_error = f" (last error: {exc})"
        time.sleep(0.2)
    raise SelfTestFailed(f"timed out after {timeout:.0f} s waiting for {what}{last_error}")


def _evaluate_async(window, expression: str, timeout: float) -> dict:
    done = threading.Event()
    box: dict = {}

    def resolved(value) -> None:
        box["value"] = value
        done.set()

    window.evaluate_js(expression, resolved)
    if not done.wait(timeout):
        raise SelfTestFailed(f"no answer from the page within {timeout:.0f} s")
    value = box["value"]
    if not isinstance(value, dict):
        raise SelfTestFailed(f"unexpected answer from the page: {value!r}")
    return value


def _saved_file(dialogs: ScriptedDialogs, timeout: float) -> Path:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for path in dialogs.saved:
            if path.exists() and path.stat().st_size > 0:
                return path
        time.sleep(0.2)
    raise SelfTestFailed("the export was not saved through the save dialog")


def _report(outcome: dict) -> int:
    ok = bool(outcome.get("ok"))
    outcome = {"self_test": "passed" if ok else "failed", **outcome}
    print(json.dumps(outcome), flush=True)
    if not ok:
        print(f"self-test failed: {outcome.get('reason', 'unknown reason')}", file=sys.stderr)
    return 0 if ok else 1


def _give_up() -> None:
    _report({"reason": f"the self-test did not finish within {WATCHDOG_S} s"})
    exit_now(3)
