"""Read a PDF's text layer into blocks with pypdf.

A PDF has no paragraphs, only glyphs placed on pages. Text is gathered into lines with their font
size and weight, running headers, footers and page numbers are dropped, and lines are merged into
paragraphs by line spacing, indentation and short last lines. Lines set clearly larger than the
body text get a heading level (1 for the largest). Each block carries one SourceRef per page.
"""

from __future__ import annotations

import io
import math
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

from pypdf import PasswordType, PdfReader
from pypdf.errors import DependencyError

from server.documents import RawDocument
from server.documents.limits import Deadline, Limits
from server.documents.text import check_paragraph_sizes, is_all_caps, title_from
from server.errors import (
    CorruptDocument,
    DocumentTooLarge,
    EncryptedDocument,
    NoTextLayer,
)
from server.model import Block, SourceRef

_BOLD_FONT = re.compile(r"bold|black|heavy|demi(?![a-z])", re.IGNORECASE)
# Symbol/Wingdings bullets arrive as private-use characters; a dash or star needs a space after.
_GLYPH_BULLET = re.compile(r"^(?:[•◦▪●○■‣∙·\uf000-\uf0ff]\s*|[-–*]\s+)(?=\S)")
_NUMBER_BULLET = re.compile(r"^(\d{1,3}[.)]|[a-z][.)]|\([a-z0-9]{1,4}\))\s+(?=\S)")
_PAGE_NUMBER = re.compile(
    r"^(?:(?:page|p\.|pg\.?)\s*)?\d{1,5}(?:\s*(?:of|/)\s*\d{1,5})?$|^[-–—]\s*\d{1,5}\s*[-–—]$",
    re.IGNORECASE,
)
_ROMAN_PAGE_NUMBER = re.compile(r"^(?=[ivxlc])(x[cl]|l?x{0,3})(i[xv]|v?i{0,3})$")
_PAGE_X_OF_Y = re.compile(r"^page\s+\d{1,5}\s+of\s+\d{1,5}$", re.IGNORECASE)
# 0x7F is the bullet of WinAnsiEncoding as several PDF writers (reportlab) use it.
_GLYPHS = str.maketrans(
    {"ﬀ": "ff", "ﬁ": "fi", "ﬂ": "fl", "ﬃ": "ffi", "ﬄ": "ffl", "ﬅ": "st", "ﬆ": "st", "\x7f": "•"}
)
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_JUNK_TITLES = {"", "untitled", "(anonymous)", "anonymous", "(unspecified)", "unknown", "title"}
_ENDS_SENTENCE = (".", "!", "?", ":", ";")


@dataclass(frozen=True)
class _Line:
    text: str
    page: int
    x: float
    y: float  # baseline, PDF user space (grows upwards)
    size: float  # font size as drawn on the page
    bold: bool


def read_pdf(
    data: bytes, filename: str, limits: Limits, deadline: Deadline | None = None
) -> RawDocument:
    deadline = deadline or Deadline(limits, filename)
    reader = _open(data, filename)
    pages = _pages(reader, filename, limits)
    lines_by_page: list[list[_Line]] = []
    for number, page in enumerate(pages, start=1):
        lines_by_page.append(_page_lines(page, number, filename))
        deadline.check(f"page {number}")  # pypdf cannot be interrupted inside a page
    if not any(line.text.strip() for page in lines_by_page for line in page):
        raise NoTextLayer(
            f"'{filename}' has no text layer (it looks scanned); run OCR on it or export the "
            "original as .docx."
        )
    lines_by_page = _drop_running_lines(lines_by_page)
    blocks = tuple(_blocks(lines_by_page))
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


# --- lines ---------------------------------------------------------------------------------


@dataclass
class _LineBuilder:
    x: float
    y: float
    pieces: list[str] = field(default_factory=list)
    sizes: Counter = field(default_factory=Counter)
    bold_chars: int = 0
    plain_chars: int = 0

    def add(self, text: str, size: float, bold: bool) -> None:
        self.pieces.append(text)
        visible = sum(1 for c in text if not c.isspace())
        self.sizes[round(size, 1)] += visible
        if bold:
            self.bold_chars += visible
        else:
            self.plain_chars += visible

    def size(self) -> float:
        return self.sizes.most_common(1)[0][0] if self.sizes else 0.0

    def line(self, page: int) -> _Line | None:
        text = _clean("".join(self.pieces))
        if not text:
            return None
        bold = self.bold_chars > 0 and self.plain_chars == 0
        return _Line(text, page, self.x, self.y, self.size(), bold)


def _page_lines(page, number: int, filename: str) -> list[_Line]:
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
    return _lines(fragments, number)


def _lines(fragments: Iterable[tuple[str, list, list, object, float]], page: int) -> list[_Line]:
    lines: list[_Line] = []
    current: _LineBuilder | None = None
    fonts: dict[int, bool] = {}

    def close() -> None:
        nonlocal current
        if current is not None:
            line = current.line(page)
            if line is not None:
                lines.append(line)
        current = None

    for text, cm, tm, font, font_size in fragments:
        m = _multiply(tm, cm)
        size = abs(float(font_size or 0) * math.hypot(m[2], m[3])) or float(font_size or 0)
        if id(font) not in fonts:
            fonts[id(font)] = _is_bold(font)
        bold = fonts[id(font)]
        for k, piece in enumerate(text.split("\n")):
            if k > 0:
                close()
            if not piece:
                continue
            y = m[5] - k * size * 1.2  # a rare multi-line fragment: later lines sit below
            if current is not None and abs(current.y - y) > 0.5 * max(size, current.size(), 1.0):
                close()
            if current is None:
                current = _LineBuilder(m[4], y)
            current.add(piece, size, bold)
    close()
    return lines


def _multiply(a: list, b: list) -> list[float]:
    """Text matrix × current transformation matrix: text space to page space."""
    a0, a1, a2, a3, a4, a5 = (float(v) for v in a[:6])
    b0, b1, b2, b3, b4, b5 = (float(v) for v in b[:6])
    return [
        a0 * b0 + a1 * b2,
        a0 * b1 + a1 * b3,
        a2 * b0 + a3 * b2,
        a2 * b1 + a3 * b3,
        a4 * b0 + a5 * b2 + b4,
        a4 * b1 + a5 * b3 + b5,
    ]


def _is_bold(font) -> bool:
    try:
        if font is None:
            return False
        if _BOLD_FONT.search(str(font.get("/BaseFont", ""))):
            return True
        descriptor = font.get("/FontDescriptor")
        descriptor = descriptor.get_object() if descriptor is not None else None
        if descriptor is None:
            return False
        weight = descriptor.get("/FontWeight")
        flags = int(descriptor.get("/Flags", 0))
        return (weight is not None and float(weight) >= 600) or bool(flags & (1 << 18))
    except Exception:  # an odd font dictionary only costs the bold flag
        return False


def _clean(text: str) -> str:
    text = _CONTROL.sub(" ", text.translate(_GLYPHS))
    return " ".join(text.split())


# --- running headers and footers -----------------------------------------------------------


def _drop_running_lines(pages: list[list[_Line]]) -> list[list[_Line]]:
    """Remove page headers/footers repeated on most pages, and bare page numbers at the edges."""
    edges = [_edge_lines(lines) for lines in pages]
    pages_with_text = sum(1 for lines in pages if lines)
    counts = Counter(key for edge in edges for key in {_running_key(line) for line in edge})
    needed = max(2, math.ceil(0.5 * pages_with_text))
    # Running lines are short; a long repeated line is more likely body text that recurs.
    repeated = {
        key for key, count in counts.items() if count >= needed and len(key[0].split()) <= 20
    }

    kept: list[list[_Line]] = []
    for lines, edge in zip(pages, edges, strict=True):
        edge_ids = {id(line) for line in edge}
        kept.append(
            [
                line
                for line in lines
                if not _PAGE_X_OF_Y.match(line.text)
                and not (
                    id(line) in edge_ids
                    and (_running_key(line) in repeated or _is_page_number(line.text))
                )
            ]
        )
    return kept


def _is_page_number(text: str) -> bool:
    return bool(_PAGE_NUMBER.match(text) or _ROMAN_PAGE_NUMBER.match(text))


def _edge_lines(lines: list[_Line]) -> list[_Line]:
    """The lines on the two highest and the two lowest baselines of a page."""
    heights = sorted({round(line.y) for line in lines})
    edge = set(heights[:2]) | set(heights[-2:])
    return [line for line in lines if round(line.y) in edge]


def _running_key(line: _Line) -> tuple[str, int, int, int]:
    """Same text, size and height on the page; a number tracking the page number is a wildcard."""
    offset = -1
    text = line.text.lower()
    for match in re.finditer(r"\d+", text):
        if 0 <= line.page - int(match.group()) <= 5:
            offset = line.page - int(match.group())
            text = text[: match.start()] + "#" + text[match.end() :]
            break
    return text, offset, round(line.size), round(line.y / 3)


# --- paragraphs ----------------------------------------------------------------------------


class _Metrics:
    """Body size, heading sizes, usual line spacing and line length, from the whole document."""

    def __init__(self, pages: list[list[_Line]]):
        weights: Counter = Counter()
        gaps: dict[float, Counter] = {}
        lengths: dict[float, list[int]] = {}
        for lines in pages:
            for prev, line in zip([None, *lines], lines, strict=False):
                key = _size_key(line.size)
                weights[key] += len(line.text)
                lengths.setdefault(key, []).append(len(line.text))
                if prev is not None and _size_key(prev.size) == key:
                    gap = prev.y - line.y
                    # Wider is taken for a paragraph gap: a double-spaced file then gets a block
                    # per line, which is better than running separate paragraphs together.
                    if 0 < gap <= 1.75 * line.size:
                        gaps.setdefault(key, Counter())[round(gap, 1)] += 1
        self.body = weights.most_common(1)[0][0] if weights else 10.0
        self._gaps = {key: _most_common_smallest(counter) for key, counter in gaps.items()}
        self._lengths = {
            key: sorted(v)[int(len(v) * 0.8)] for key, v in lengths.items() if len(v) >= 4
        }
        larger = sorted(
            (key for key in weights if key >= self.body + max(1.0, 0.12 * self.body)), reverse=True
        )
        self.levels: dict[float, int] = {}
        level = 0
        previous: float | None = None
        for key in larger:
            if previous is None or previous - key > 0.6:
                level += 1
            self.levels[key] = min(level, 6)
            previous = key

    def gap(self, size: float) -> float:
        return self._gaps.get(_size_key(size), size * 1.2)

    def full_line(self, size: float) -> int:
        return self._lengths.get(_size_key(size), 0)


def _most_common_smallest(counter: Counter) -> float:
    return min(counter, key=lambda gap: (-counter[gap], gap))


def _size_key(size: float) -> float:
    return round(size * 2) / 2


@dataclass
class _Para:
    lines: list[_Line]
    list_item: bool = False

    @property
    def first(self) -> _Line:
        return self.lines[0]

    @property
    def last(self) -> _Line:
        return self.lines[-1]


def _blocks(pages: list[list[_Line]]) -> Iterable[Block]:
    metrics = _Metrics(pages)
    paragraphs: list[_Para] = []
    for lines in pages:
        page_paragraphs: list[_Para] = []
        for line in lines:
            current = page_paragraphs[-1] if page_paragraphs else None
            if current is not None and not _starts_new(current, line, metrics):
                current.lines.append(line)
                continue
            bullet = _GLYPH_BULLET.match(line.text) or _NUMBER_BULLET.match(line.text)
            page_paragraphs.append(_Para([line], list_item=bool(bullet)))
        if (
            paragraphs
            and page_paragraphs
            and _continues_over_page(paragraphs[-1], page_paragraphs[0], metrics)
        ):
            paragraphs[-1].lines.extend(page_paragraphs.pop(0).lines)
        paragraphs.extend(page_paragraphs)
    for para in paragraphs:
        block = _block(para, metrics)
        if block is not None:
            yield block


def _starts_new(para: _Para, line: _Line, metrics: _Metrics) -> bool:
    prev = para.last
    size = max(line.size, prev.size)
    if abs(line.size - prev.size) > max(0.6, 0.06 * size) or line.bold != prev.bold:
        return True
    gap = prev.y - line.y
    if gap <= 0.2 * size or gap > metrics.gap(prev.size) * 1.35 + 0.5:
        return True  # a paragraph gap, or a jump up to the next column
    if _GLYPH_BULLET.match(line.text) or _NUMBER_BULLET.match(line.text):
        return True
    if para.list_item:
        if line.x < para.first.x - 0.5 * size:
            return True
    elif line.x > min(p.x for p in para.lines) + 0.8 * size:
        return True  # an indented first line
    full = metrics.full_line(prev.size)
    return prev.text.endswith(_ENDS_SENTENCE) and full > 0 and len(prev.text) < 0.7 * full


def _continues_over_page(para: _Para, nxt: _Para, metrics: _Metrics) -> bool:
    """A sentence cut by a page break: no closing punctuation, next page goes on in lower case."""
    last, first = para.last, nxt.first
    return (
        _size_key(last.size) not in metrics.levels
        and abs(last.size - first.size) <= 0.6
        and last.bold == first.bold
        and not last.text.endswith(_ENDS_SENTENCE)
        and first.text[:1].islower()
        and not nxt.list_item
    )


def _block(para: _Para, metrics: _Metrics) -> Block | None:
    texts = [line.text for line in para.lines]
    if para.list_item:
        texts[0] = _strip_bullet(texts[0])
    pieces: list[str] = []
    sources: list[SourceRef] = []
    length = 0
    for n, (line, text) in enumerate(zip(para.lines, texts, strict=True)):
        if n + 1 < len(texts) and text.endswith("\u00ad"):
            text = text[:-1]  # a soft hyphen: the word goes on at the start of the next line
        elif n > 0 and not _hyphenated(texts[n - 1], text):
            pieces.append(" ")
            length += 1
        start = length
        pieces.append(text)
        length += len(text)
        if sources and sources[-1].ref == line.page:
            sources[-1] = SourceRef(sources[-1].start, length, line.page)
        else:
            sources.append(SourceRef(start, length, line.page))
    text = "".join(pieces)
    if not text.strip():
        return None
    level = metrics.levels.get(_size_key(para.first.size))
    is_heading = level is not None and len(para.lines) <= 3 and len(text) <= 300
    return Block(
        text=text,
        sources=tuple(sources),
        heading_level=level if is_heading else None,
        bold=all(line.bold for line in para.lines),
        all_caps=is_all_caps(text),
        list_item=para.list_item and not is_heading,
    )


def _hyphenated(previous: str, text: str) -> bool:
    """A word broken across lines: joined without a space (the hyphen stays, it may be real)."""
    if previous.endswith("\u00ad"):
        return True
    return previous.endswith("-") and previous[-2:-1].isalpha() and text[:1].islower()


def _strip_bullet(text: str) -> str:
    """Drop a bullet glyph (it is decoration); keep numbering, which is part of the text."""
    match = _GLYPH_BULLET.match(text)
    return text[match.end() :] if match else text
