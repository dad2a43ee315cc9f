"""`aiprism-desktop` (also `python -m desktop`): the workbench in its own window.

Starts Waitress on 127.0.0.1 in a thread, waits for /health, then opens a pywebview window on it;
the token in the first URL becomes an HttpOnly cookie and leaves the address bar. With no display,
or with --serve, it behaves like `aiprism serve`: prints the one URL line and serves.
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
import time
import webbrowser
from collections.abc import Sequence
from pathlib import Path
from typing import NoReturn

from server import __version__
from server.paths import data_dir as resolve_data_dir

log = logging.getLogger("desktop")


def main(argv: Sequence[str] | None = None) -> int:
    started = time.monotonic()
    args = _parser().parse_args(argv)
    from desktop import logs

    log_file = logs.setup(logging.INFO if args.serve else logging.WARNING)
    log.info("AI-Prism %s starting (log: %s)", __version__, log_file)
    if args.self_test:
        from desktop import selftest

        _exit_after_window(selftest.run(args.data_dir, args.port, started, args.document))

    from desktop.window import has_display, unavailable_reason

    window = not args.serve and has_display()
    if window:
        reason = unavailable_reason()
        if reason:
            log.warning("no window (%s); serving for the browser instead", reason)
            window = False
    from desktop.instance import SingleInstance
    from server.documents.limits import Limits
    from server.engines.ai_settings import ai_limits
    from server.errors import AIPrismError

    try:
        args.limits = Limits.from_env(os.environ)
        args.ai_limits = ai_limits(os.environ)
    except AIPrismError as exc:
        print(f"AI-Prism cannot start: {' '.join(exc.message.split())}", file=sys.stderr)
        return 2
    data = resolve_data_dir(args.data_dir)
    instance = SingleInstance(data)
    if not instance.acquire():
        return _already_running(instance, args.document)
    if not window:
        if args.document:
            opened = f"{args.document} was not opened; upload it on the page instead"
            print(f"AI-Prism has no window here: {opened}.", file=sys.stderr)
        try:
            return _run_serve(args, data, instance, browser=not args.no_browser and has_display())
        finally:
            instance.close()
    try:
        code = _run_window(args, data, instance, started)
    except Exception:
        log.exception("the desktop window failed")
        print(f"AI-Prism could not open its window; details are in {log_file}", file=sys.stderr)
        code = 1
    finally:
        instance.close()
    _exit_after_window(code)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="aiprism-desktop", description="AI-Prism in a window.")
    parser.add_argument("--version", action="version", version=f"aiprism-desktop {__version__}")
    parser.add_argument("--serve", action="store_true", help="no window: serve and print the URL")
    parser.add_argument("--port", type=int, default=0, help="0 (default) picks a free port")
    parser.add_argument("--no-browser", action="store_true", help="with --serve: do not open it")
    parser.add_argument("--data-dir", help="folder for reviews and settings")
    parser.add_argument("--self-test", action="store_true", help="check the window works; exit")
    parser.add_argument(
        "document",
        nargs="?",
        type=Path,
        help="a document to review at once (.docx, .pdf, .md or .txt); if AI-Prism is already "
        "running, it opens there",
    )
    return parser


def _already_running(instance, document: Path | None) -> int:
    if instance.ask_to_show(document.resolve() if document else None):
        what = f"open {document.name}" if document else "come to the front"
        print(f"AI-Prism is already running; it was asked to {what}.", file=sys.stderr)
        return 0
    print(
        f"AI-Prism is already running for {instance.folder} but did not answer; "
        "close it, or wait for it to finish starting.",
        file=sys.stderr,
    )
    return 1


def _run_window(args, data, instance, started: float) -> int:
    from desktop.local_server import LocalServer
    from desktop.open_file import first_url
    from desktop.window import DesktopWindow, allow_pywebview_scripts

    local = LocalServer(_settings(args, data, desktop=True), args.port)
    allow_pywebview_scripts(local.app)
    local.start()
    log.info("server ready at %s in %.2f s", local.base_url, time.monotonic() - started)
    url, notice = first_url(local, args.document)
    window = DesktopWindow(local, started=started, url=url, notice=notice)
    instance.listen(
        lambda document: window.open_document(document) if document else window.bring_forward()
    )
    signal.signal(signal.SIGTERM, lambda *_: window.close())  # log-out, kill: close like the user
    window.run()
    log.info("window closed; stopping")
    local.stop()
    return 0


def _exit_after_window(code: int) -> NoReturn:
    """End the process now: waiting on worker threads (an analysis still running resumes at the
    next launch, a dialog left open) or on Qt's teardown could keep it alive after the window."""
    from desktop.local_server import exit_now

    sys.stdout.flush()
    sys.stderr.flush()
    exit_now(code)


def _run_serve(args, data, instance, browser: bool) -> int:
    from desktop.local_server import LocalServer

    local = LocalServer(_settings(args, data, desktop=False), args.port)
    url = local.url

    def show(_document) -> None:
        if browser:
            webbrowser.open(url)

    instance.listen(show)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))  # waitress closes cleanly on SystemExit
    print(f"AI-Prism running at {url}", flush=True)
    if browser:
        webbrowser.open(url)
    try:
        local.server.run()
    except KeyboardInterrupt:
        pass
    finally:
        local.stop(timeout=10)
    return 0


def _settings(args, data, desktop: bool):
    """The workbench's settings: this data folder, and the AIPRISM_MAX_* and AIPRISM_AI_* limits
    read in main."""
    from server.settings import Settings

    return Settings(data_dir=data, desktop=desktop, limits=args.limits, ai_limits=args.ai_limits)
