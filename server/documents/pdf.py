"""Read a PDF's text layer into blocks with pypdf.

A PDF has no paragraphs, only glyphs placed on pages. Text is gathered into lines with their
positions, font size and weight (pdf_lines); what the office suite drew around the text, margin
line numbers, running headers and footers, page numbers and footnotes, is taken out by position
and repetition (pdf_furniture); the rest is merged into paragraphs, table rows and headings
(pdf_paragraphs), footnotes last. Each block carries one SourceRef per page.
"""

from __future__ import annotations

import io
import re

from pypdf import PasswordType, PdfReader
from pypdf.errors import DependencyError

from server.documents import RawDocument
from server.documents.limits import Deadline, Limits
from server.documents.pdf_furniture import drop_margin_numbers, drop_running_lines, split_footnotes
from server.documents.pdf_lines import Line, page_lines
from server.documents.pdf_paragraphs import blocks as paragraph_blocks
from server.documents.text import check_paragraph_sizes, title_from
from server.errors import (
    CorruptDocument,
    DocumentTooLarge,
    EncryptedDocument,
    NoTextLayer,
)

_JUNK_TITLES = {"", "untitled", "(anonymous)", "anonymous", "(unspecified)", "unknown", "title"}


def read_pdf(
    data: bytes, filename: str, limits: Limits, deadline: Deadline | None = None
) -> RawDocument:
    deadline = deadline or Deadline(limits, filename)
    reader = _open(data, filename)
    pages = _pages(reader, filename, limits)
    lines_by_page: list[list[Line]] = []
    for number, page in enumerate(pages, start=1):
        lines_by_page.append(_page_lines(page, number, filename))
        deadline.check(f"page {number}")  # pypdf cannot be interrupted inside a page
    if not any(line.text.strip() for page in lines_by_page for line in page):
        raise NoTextLayer(
            f"'{filename}' has no text layer (it looks scanned); run OCR on it or export the "
            "original as .docx."
        )
    lines_by_page = drop_running_lines(drop_margin_numbers(lines_by_page))
    body, footnotes = split_footnotes(lines_by_page)
    blocks = tuple(paragraph_blocks(body, footnotes))
    check_paragraph_sizes(blocks, filename, limits)
    title = _metadata_title(reader) or title_from(blocks, filename)
    return RawDocument(title=title, format="pdf", blocks=blocks)


def _open(data: bytes, filename: str) -> PdfReader:
    try:
        reader = PdfReader(io.BytesIO(data), strict=False)
        encrypted = reader.is_encrypted
    except Exception as exc:  # pypdf raises many types on damaged files
        raise _corrupt(filename, exc) from exc
    if not encrypted:
        return reader
    locked = EncryptedDocument(
        f"'{filename}' is password-protected; open it, remove the password (print to PDF) and "
        "try again."
    )
    try:
        opened = reader.decrypt("")
    except DependencyError as exc:  # AES without the optional `cryptography` package
        raise locked from exc
    except Exception as exc:
        raise _corrupt(filename, exc) from exc
    if opened == PasswordType.NOT_DECRYPTED:
        raise locked
    return reader


def _corrupt(filename: str, exc: BaseException) -> CorruptDocument:
    return CorruptDocument(
        f"'{filename}' is damaged or incomplete and cannot be read as a PDF "
        f"({type(exc).__name__}); download it again or re-export it from the original."
    )


def _pages(reader: PdfReader, filename: str, limits: Limits) -> list:
    too_many = (
        "'{name}' has {count:,} pages; the limit is {limit:,}. Split it and review the parts."
    )
    try:
        declared = int(reader.trailer["/Root"]["/Pages"]["/Count"])  # cheap: no tree walk yet
    except Exception:  # a missing or odd count is checked after the walk below
        declared = 0
    if declared > limits.max_pages:
        raise DocumentTooLarge(
            too_many.format(name=filename, count=declared, limit=limits.max_pages)
        )
    try:
        pages = list(reader.pages)
    except Exception as exc:
        raise _corrupt(filename, exc) from exc
    if len(pages) > limits.max_pages:
        raise DocumentTooLarge(
            too_many.format(name=filename, count=len(pages), limit=limits.max_pages)
        )
    if not pages:
        raise CorruptDocument(f"'{filename}' has no pages; re-export it from the original.")
    return pages


def _metadata_title(reader: PdfReader) -> str:
    try:
        title = str((reader.metadata or {}).get("/Title") or "")
    except Exception:  # a broken info dictionary only costs the title
        return ""
    title = " ".join(title.split())
    if title.lower() in _JUNK_TITLES or title.lower().startswith("microsoft word -"):
        return ""
    if re.search(r"\.(docx?|pdf|odt|rtf|txt|pptx?|xlsx?)$", title, re.IGNORECASE):
        return ""
    return title


def _page_lines(page, number: int, filename: str) -> list[Line]:
    fragments: list[tuple[str, list, list, object, float]] = []

    def visit(text, cm, tm, font, size) -> None:
        if text:
            fragments.append((text, list(cm), list(tm), font, size))

    try:
        page.extract_text(visitor_text=visit)
    except Exception as exc:  # pypdf raises many types on damaged content streams
        raise CorruptDocument(
            f"'{filename}' is damaged: page {number} cannot be read ({type(exc).__name__}); "
            "re-export it from the original."
        ) from exc
    return page_lines(fragments, number)
