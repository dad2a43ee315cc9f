"""The pywebview window on the local server: Qt (qtpy + PySide6) on Linux, the platform's own
webview on Windows and macOS. `webview.start()` runs once per process and owns the main thread.
"""

from __future__ import annotations

import json
import logging
import os
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

from desktop.bridge import Bridge, Dialogs, LocalApi, WindowDialogs
from desktop.local_server import LocalServer
from server.web import security

log = logging.getLogger(__name__)

GUI = "qt" if sys.platform.startswith("linux") else None
ICON = str(Path(security.__file__).parent / "static" / "favicon.svg")  # used by Qt only
QT_PLATFORMS_WITHOUT_X = ("offscreen", "minimal", "vnc", "eglfs", "linuxfb", "wayland")


def prepare_environment() -> None:
    """Set before webview (and so Qt) is imported: it reads these once."""
    if GUI != "qt":
        return
    os.environ.setdefault("QT_API", "pyside6")  # qtpy would otherwise prefer GPL PyQt if present
    if os.geteuid() == 0 and not os.environ.get("QTWEBENGINE_DISABLE_SANDBOX"):
        flags = os.environ.get("QTWEBENGINE_CHROMIUM_FLAGS", "")
        if "--no-sandbox" not in flags.split():
            # Chromium refuses to start its sandbox as root; the page is our own local server.
            os.environ["QTWEBENGINE_CHROMIUM_FLAGS"] = (flags + " --no-sandbox").strip()


def has_display() -> bool:
    if sys.platform in ("win32", "darwin"):
        return True
    if os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"):
        return True
    return os.environ.get("QT_QPA_PLATFORM", "").startswith(QT_PLATFORMS_WITHOUT_X)


def unavailable_reason() -> str | None:
    """Why no window can be opened here (the desktop extra missing, no Qt WebEngine), or None."""
    prepare_environment()
    try:
        import webview  # noqa: F401

        if GUI == "qt":
            from qtpy import QtWebEngineWidgets  # noqa: F401
    except Exception as exc:  # ImportError, or qtpy's own errors when no binding is found
        return f"{type(exc).__name__}: {exc}"
    return None


def allow_pywebview_scripts(app) -> None:
    """pywebview builds its js_api and runs evaluate_js with eval/new Function, which the app's
    CSP forbids; the window's pages allow 'unsafe-eval' (still no inline or foreign script).
    Registered after security.install, so it runs first and the security hook keeps it."""
    policy = security.CSP.replace("script-src 'self'", "script-src 'self' 'unsafe-eval'")

    @app.after_request
    def _window_csp(response):
        response.headers.setdefault("Content-Security-Policy", policy)
        return response


class DesktopWindow:
    def __init__(
        self,
        local: LocalServer,
        dialogs: Dialogs | None = None,
        title: str = "AI-Prism",
        started: float | None = None,
        url: str | None = None,
        notice: str | None = None,
    ):
        """`url`: the first page (default: home); `notice`: a message shown on it once loaded."""
        import webview

        for name in ("pywebview", "webview"):  # its own stderr handler would duplicate ours
            logger = logging.getLogger(name)
            logger.handlers.clear()
            logger.setLevel(logging.WARNING)
        self.local = local
        self.dialogs = dialogs or WindowDialogs()
        bridge = Bridge(
            LocalApi(local.base_url, local.settings.token),
            self.dialogs,
            local.settings.max_upload_mb,
            page_url=lambda: self.window.get_current_url(),
        )
        self.window = webview.create_window(
            title,
            url or local.url,
            js_api=bridge,
            width=1280,
            height=860,
            min_size=(720, 520),
            text_select=True,  # reviewers select text to add their own findings
        )
        if isinstance(self.dialogs, WindowDialogs):
            self.dialogs.window = self.window
        self.started = started if started is not None else time.monotonic()
        self.loaded_at: float | None = None
        self._notice = notice
        self._minimized = False
        self.window.events.loaded += self._loaded
        self.window.events.minimized += lambda: self._set_minimized(True)
        self.window.events.restored += lambda: self._set_minimized(False)
        self.window.events.maximized += lambda: self._set_minimized(False)

    def _loaded(self) -> None:
        if self.loaded_at is None:  # later loads are navigations within the app
            self.loaded_at = time.monotonic()
            log.info("window loaded %.2f s after launch", self.loaded_at - self.started)
            if self._notice:
                self.show_notice(self._notice)

    def _set_minimized(self, value: bool) -> None:
        self._minimized = value

    def run(self, driver: Callable[[DesktopWindow], None] | None = None) -> None:
        """Show the window and block until it is closed; `driver` runs in a thread meanwhile."""
        import webview

        webview.start(driver, (self,) if driver else None, gui=GUI, private_mode=True, icon=ICON)

    def open_document(self, document: Path) -> None:
        """Another launch was given a document (Open with AI-Prism while the app runs): review it
        here. Called in a worker thread; the page's cookie is already set, so no token."""
        from desktop.bridge import BridgeError
        from desktop.open_file import review_path

        try:
            self.window.load_url(self.local.base_url + review_path(self.local, document))
        except BridgeError as exc:
            self.window.load_url(self.local.base_url + "/")
            self.show_notice(str(exc))
        self.bring_forward()

    def show_notice(self, message: str) -> None:
        """Put `message` in the home page's error box (textContent: never markup), off the GUI
        thread, which must stay free to run the script."""

        def show() -> None:
            script = (
                "(() => { const box = document.getElementById('upload-error');"
                f" if (!box) return false; box.textContent = {json.dumps(message)};"
                " box.hidden = false; return true; })()"
            )
            for _ in range(50):  # the home page may still be loading
                try:
                    if self.window.evaluate_js(script):
                        return
                except Exception:  # navigating; ask again
                    log.debug("notice not shown yet", exc_info=True)
                time.sleep(0.2)
            log.warning("could not show the notice: %s", message)

        threading.Thread(target=show, name="notice", daemon=True).start()

    def bring_forward(self) -> None:
        if self._minimized:
            self.window.restore()
        self.window.show()
        self.window.on_top = True  # the portable way pywebview has to raise a window
        self.window.on_top = False

    def close(self) -> None:
        """Close from any thread (a signal handler included): the GUI loop ends, run() returns."""
        threading.Thread(target=self.window.destroy, name="close-window", daemon=True).start()
