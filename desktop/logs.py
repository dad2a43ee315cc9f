"""Logging for the desktop app: a rotating file in the user log folder, warnings also on stderr."""

from __future__ import annotations

import logging
import logging.handlers
import sys
from pathlib import Path

import platformdirs

from server.paths import APP_NAME

FILE_NAME = "ai-prism.log"
FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def log_dir() -> Path:
    return Path(platformdirs.user_log_dir(APP_NAME, appauthor=False))


def setup(stderr_level: int = logging.WARNING) -> Path:
    """Send everything at INFO and above to the log file; returns its path."""
    folder = log_dir()
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / FILE_NAME
    to_file = logging.handlers.RotatingFileHandler(
        path, maxBytes=1_000_000, backupCount=3, encoding="utf-8"
    )
    to_file.setFormatter(logging.Formatter(FORMAT))
    to_stderr = logging.StreamHandler(sys.stderr)
    to_stderr.setFormatter(logging.Formatter(FORMAT))
    to_stderr.setLevel(stderr_level)
    root = logging.getLogger()
    root.setLevel(logging.INFO)
    root.handlers[:] = [to_file, to_stderr]
    logging.getLogger("waitress").setLevel(logging.WARNING)
    logging.getLogger("pywebview").setLevel(logging.WARNING)
    logging.captureWarnings(True)
    return path
