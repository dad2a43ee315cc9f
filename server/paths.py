"""Where user data lives: the platform's user data folder unless a folder is given."""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

APP_NAME = "ai-prism"


def data_dir(override: str | os.PathLike | None = None) -> Path:
    chosen = override or os.environ.get("AIPRISM_DATA_DIR")
    return Path(chosen) if chosen else Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))


def frameworks_dir(override: str | os.PathLike | None = None) -> Path:
    """User framework packs (*.toml); a pack here overrides a built-in one with the same id."""
    return data_dir(override) / "frameworks"


def reviews_db(folder: Path) -> Path:
    """The SQLite store of the desktop and `aiprism serve` in a data folder."""
    return folder / "reviews.sqlite3"
