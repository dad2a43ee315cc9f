"""Ingest: bytes of a file in, a `Document` of sections out. One reader per format."""

from __future__ import annotations

import hashlib
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from server.documents.limits import DEFAULT_LIMITS, Deadline, Limits, megabytes
from server.errors import DocumentError, DocumentTooLarge, EmptyDocument, UnsupportedDocument
from server.frameworks.model import Framework
from server.model import Block, Document

SUPPORTED = (".docx", ".pdf", ".md", ".markdown", ".txt", ".text")


@dataclass(frozen=True)
class RawDocument:
    """What a reader returns: the blocks in reading order, before sections are known."""

    title: str
    format: str
    blocks: tuple[Block, ...]


def clean_filename(name: str) -> str:
    """A display-safe base name: no folders, control or bidi characters, bounded length.

    Uploaded names are only ever shown and used for download names, never as a path; this keeps
    '../', absolute paths, NUL and right-to-left tricks out of the UI and of Content-Disposition.
    """
    base = re.split(r"[\\/]", name or "")[-1]
    base = "".join(c for c in base if unicodedata.category(c)[0] != "C")
    base = base.strip().rstrip(".")
    base = f"document{base}" if base.startswith(".") or not base else base
    stem, dot, suffix = base.rpartition(".")
    if dot and len(suffix) <= 10:
        return f"{stem[:150]}.{suffix}" if stem else f"document.{suffix}"
    return base[:160]


def sniff_format(data: bytes, filename: str) -> str:
    """The format by content first, extension second: a renamed file is read for what it is."""
    suffix = Path(filename).suffix.lower()
    if data.startswith(b"%PDF-"):
        return "pdf"
    if data.startswith(b"PK\x03\x04") or data.startswith(b"PK\x05\x06"):
        if suffix in (".docx", ".docm", ".zip", ""):
            return "docx"
        if suffix in (".pdf", ".md", ".markdown", ".txt", ".text"):
            return "docx"
        raise UnsupportedDocument(
            f"'{filename}' is a zip-based file that AI-Prism cannot read; save it as .docx."
        )
    if data.startswith(b"\xd0\xcf\x11\xe0"):
        raise UnsupportedDocument(
            f"'{filename}' is an old binary Office file (.doc) or a password-protected document; "
            "remove the password and save it as .docx."
        )
    if suffix == ".docx":
        raise UnsupportedDocument(f"'{filename}' is named .docx but is not a Word document.")
    if suffix == ".pdf":
        raise UnsupportedDocument(f"'{filename}' is named .pdf but is not a PDF file.")
    if suffix in (".md", ".markdown"):
        return "md"
    if suffix in (".txt", ".text", ""):
        return "txt"
    raise UnsupportedDocument(
        f"'{filename}' has an unsupported type '{suffix}'; AI-Prism reads .docx, .pdf, .md and .txt."
    )


def read_raw(
    data: bytes, filename: str, limits: Limits = DEFAULT_LIMITS, deadline: Deadline | None = None
) -> RawDocument:
    """The blocks of a file, refused with a reviewer-readable DocumentError when it cannot be read
    or breaks a limit (docs/limits.md)."""
    _check_size(len(data), filename, limits)
    if not data.strip():
        raise EmptyDocument(f"'{filename}' is empty.")
    fmt = sniff_format(data, filename)
    if fmt == "pdf":
        from server.documents.pdf import read_pdf

        raw = read_pdf(data, filename, limits, deadline or Deadline(limits, filename))
    else:
        if fmt == "docx":
            from server.documents.docx import read_docx as reader
        elif fmt == "md":
            from server.documents.markdown import read_markdown as reader
        else:
            from server.documents.text import read_text as reader
        raw = reader(data, filename, limits)
    if not any(b.text.strip() for b in raw.blocks):
        raise EmptyDocument(f"'{filename}' contains no text to review.")
    if len(raw.blocks) > limits.max_paragraphs:
        raise DocumentTooLarge(
            f"'{filename}' has {len(raw.blocks):,} paragraphs; the limit is "
            f"{limits.max_paragraphs:,}. Split it and review the parts."
        )
    characters = sum(len(b.text) for b in raw.blocks)
    if characters > limits.max_characters:
        raise DocumentTooLarge(
            f"'{filename}' has {characters:,} characters of text; the limit is "
            f"{limits.max_characters:,}. Split it and review the parts."
        )
    return raw


def _check_size(size: int, filename: str, limits: Limits) -> None:
    if size > limits.max_bytes:
        raise DocumentTooLarge(
            f"'{filename}' is {megabytes(size)}; the limit is {megabytes(limits.max_bytes)}. "
            "Split the document or remove embedded media."
        )


def load_document(
    data: bytes,
    filename: str,
    framework: Framework,
    limits: Limits = DEFAULT_LIMITS,
    deadline: Deadline | None = None,
) -> Document:
    """Read a file's bytes and split it into sections matched to the framework.

    `deadline` is shared with the review that follows, so both count against one time limit;
    without one, reading alone gets the whole limit.
    """
    from server.documents.sections import build_document

    deadline = deadline or Deadline(limits, filename)
    raw = read_raw(data, filename, limits, deadline)
    document = build_document(raw, framework, sha256=hashlib.sha256(data).hexdigest())
    deadline.check("the end of reading")
    return document


def load_path(
    path: Path,
    framework: Framework,
    limits: Limits = DEFAULT_LIMITS,
    deadline: Deadline | None = None,
) -> Document:
    try:
        _check_size(path.stat().st_size, path.name, limits)
        data = path.read_bytes()
    except (OSError, ValueError) as exc:  # ValueError: a NUL in the path
        reason = getattr(exc, "strerror", None) or str(exc)
        raise DocumentError(f"cannot open '{path}': {reason}") from exc
    return load_document(data, path.name, framework, limits, deadline)
