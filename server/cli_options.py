"""Command-line options several `aiprism` commands share (kept apart so the commands import it,
not each other)."""

from __future__ import annotations

import argparse
import os


def add_data_dir(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--data-dir", help="user data folder (default: the platform's)")


def add_store(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--store",
        default=os.environ.get("AIPRISM_STORE_URL", ""),
        type=_store_url,
        metavar="URL",
        help="s3://bucket/prefix keeps reviews in S3, with AIPRISM_DYNAMODB_TABLE naming the "
        "table for history and statistics if set (default: SQLite in the data folder)",
    )


def _store_url(value: str) -> str:
    if value and not value.startswith("s3://"):
        raise argparse.ArgumentTypeError(f"{value!r} is not an s3://bucket/prefix URL")
    return value
