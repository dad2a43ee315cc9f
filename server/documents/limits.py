"""Limits that keep one hostile or huge file from taking the process down.

Every limit has a default here, an `AIPRISM_MAX_*` environment variable read in one place
(`Limits.from_env`) and, for the CLI, a flag of the same name; docs/limits.md lists them all with
what a reviewer sees when one is hit (a test keeps that page and `SETTINGS` in step).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace

from server.errors import InvalidSetting, ReviewTooSlow

MB = 1024 * 1024


@dataclass(frozen=True)
class Limits:
    max_bytes: int = 50 * MB  # the file itself, as uploaded or on disk
    max_unzipped_bytes: int = 300 * MB  # sum of a .docx's members once decompressed
    max_zip_ratio: int = 200  # decompressed / compressed, per member: a zip bomb has thousands
    max_xml_bytes: int = 32 * MB  # a .docx's XML parts once decompressed: what gets parsed
    max_pages: int = 2_000  # PDF
    max_paragraphs: int = 50_000
    max_paragraph_chars: int = 200_000
    max_characters: int = 5_000_000  # the whole document's text: about 2,000 full pages
    max_seconds: float = 120.0  # reading and offline review of one document

    @classmethod
    def from_env(cls, environ: Mapping[str, str], base: Limits | None = None) -> Limits:
        """`base` (default: the defaults) with any AIPRISM_MAX_* variables applied."""
        changes = {
            s.field: s.parse(environ[s.env], s.env) for s in SETTINGS if environ.get(s.env, "")
        }
        return replace(base or cls(), **changes)


@dataclass(frozen=True)
class LimitSetting:
    """How one limit is set from outside: its variable, its CLI flag and its unit."""

    field: str
    env: str
    unit: str
    what: str
    scale: int = 1  # a value in `unit` times this is the field's value

    @property
    def flag(self) -> str:
        return "--" + self.env.removeprefix("AIPRISM_").lower().replace("_", "-")

    def parse(self, text: str, source: str) -> int | float:
        """A positive number in `unit`, as the field holds it; `source` names where it came from."""
        whole = isinstance(getattr(DEFAULT_LIMITS, self.field), int)
        try:
            value = float(text) if not whole else int(text)
        except ValueError:
            value = 0
        if value <= 0:
            kind = "whole number" if whole else "number"
            raise InvalidSetting(f"{source} must be a positive {kind} ({self.unit}), not {text!r}.")
        return value * self.scale

    def show(self, limits: Limits) -> str:
        """The limit in its unit, as docs/limits.md writes it: '50 MB', '2,000 pages'."""
        value = getattr(limits, self.field) / self.scale
        number = f"{int(value):,}" if value == int(value) else f"{value:g}"
        return f"{number} {self.unit}"


SETTINGS = (
    LimitSetting(
        "max_bytes", "AIPRISM_MAX_UPLOAD_MB", "MB", "size of the file, uploaded or on disk", MB
    ),
    LimitSetting(
        "max_unzipped_bytes", "AIPRISM_MAX_UNZIPPED_MB", "MB", "a .docx once unzipped", MB
    ),
    LimitSetting("max_xml_bytes", "AIPRISM_MAX_XML_MB", "MB", "the XML of a .docx", MB),
    LimitSetting("max_zip_ratio", "AIPRISM_MAX_ZIP_RATIO", "to 1", "compression of a .docx part"),
    LimitSetting("max_pages", "AIPRISM_MAX_PAGES", "pages", "pages of a PDF"),
    LimitSetting("max_paragraphs", "AIPRISM_MAX_PARAGRAPHS", "paragraphs", "paragraphs and rows"),
    LimitSetting(
        "max_paragraph_chars", "AIPRISM_MAX_PARAGRAPH_CHARS", "characters", "one paragraph"
    ),
    LimitSetting("max_characters", "AIPRISM_MAX_CHARACTERS", "characters", "the whole text"),
    LimitSetting("max_seconds", "AIPRISM_MAX_SECONDS", "seconds", "reading and review time"),
)

DEFAULT_LIMITS = Limits()


def megabytes(size: int) -> str:
    """A size the way the limits are written: '51.0 MB' for 51 × 1024 × 1024 bytes."""
    return f"{size / MB:.1f} MB"


class Deadline:
    """When one document's reading and review must be done by.

    Checked between steps (PDF pages, sections of the review): neither pypdf nor `re` can be
    stopped inside a step, and a thread cannot be killed, so a step that overruns is let finish
    and the document is then refused with `review_too_slow`.
    """

    def __init__(
        self, limits: Limits, filename: str, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.seconds = limits.max_seconds
        self.filename = filename
        self._clock = clock
        self._end = clock() + limits.max_seconds

    def check(self, where: str) -> None:
        if self._clock() > self._end:
            raise ReviewTooSlow(
                f"'{self.filename}' took more than {self.seconds:g} s to read and review "
                f"(stopped at {where}); split it into smaller documents, or raise the limit "
                "(AIPRISM_MAX_SECONDS)."
            )

    def watch(
        self, on_progress: Callable[[int, int, str], None] | None = None
    ) -> Callable[[int, int, str], None]:
        """A progress callback for `offline.review` that checks the deadline after each section
        (a review that has finished is kept, however long it took)."""

        def progress(done: int, total: int, what: str) -> None:
            if on_progress is not None:
                on_progress(done, total, what)
            if done < total:
                self.check(f"section {done} of {total - 1}")

        return progress
