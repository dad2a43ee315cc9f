"""Limits that keep one hostile or huge file from taking the process down. All configurable."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Limits:
    max_bytes: int = 50 * 1024 * 1024  # the uploaded file itself
    max_unzipped_bytes: int = 300 * 1024 * 1024  # sum of a .docx's members once decompressed
    max_zip_ratio: int = 200  # decompressed / compressed, per member: a zip bomb has thousands
    max_pages: int = 2_000  # PDF
    max_paragraphs: int = 50_000
    max_paragraph_chars: int = 200_000


DEFAULT_LIMITS = Limits()
