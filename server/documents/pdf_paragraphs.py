"""PDF lines into paragraphs, table rows and headings: the blocks a .docx would have given.

Lines are merged into paragraphs by line spacing, indentation and short last lines; a paragraph
goes on over a page or column break when its sentence does. A list label set apart from its text
is decoration, as Word's automatic numbering is, and is dropped. Lines with pieces at columns that
several lines share are table rows, read cell by cell. Lines set clearly larger than the body text
get a heading level (1 for the largest); a title at the top of the first page in a size used
nowhere else is the document's title, not a section heading.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field

from server.documents.pdf_furniture import Footnote
from server.documents.pdf_lines import Line, Piece, clean
from server.documents.text import is_all_caps
from server.model import Block, SourceRef

# Symbol/Wingdings bullets arrive as private-use characters; a dash or star needs a space after.
_GLYPH_BULLET = re.compile(r"^(?:[•◦▪●○■‣∙·\uf000-\uf0ff]\s*|[-–*]\s+)(?=\S)")
_NUMBER_BULLET = re.compile(r"^(\d{1,3}[.)]|[a-z][.)]|\([a-z0-9]{1,4}\))\s+(?=\S)")
_LABEL = re.compile(
    r"^(?:[•◦▪●○■‣∙·\uf000-\uf0ff\-–*]|\d{1,3}(?:\.\d{1,3})*[.)]?|[a-zA-Z][.)]|\([a-z0-9]{1,4}\)"
    r"|[ivxlc]{1,6}[.)])$"
)
_ENDS_SENTENCE = (".", "!", "?", ":", ";")
_WORD = re.compile(r"[^\W\d_]+")
_HYPHEN_TAIL = re.compile(r"([^\W\d_]+)-$")
_WORD_CHARS = re.compile(r"\w")


class _Metrics:
    """Body size, heading sizes, usual line spacing and line length, from the whole document."""

    def __init__(self, pages: list[list[Line]]):
        weights: Counter = Counter()
        gaps: dict[float, Counter] = {}
        lengths: dict[float, list[int]] = {}
        for lines in pages:
            for prev, line in zip([None, *lines], lines, strict=False):
                key = size_key(line.size)
                weights[key] += len(line.text)
                lengths.setdefault(key, []).append(len(line.text))
                if prev is not None and size_key(prev.size) == key:
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
        return self._gaps.get(size_key(size), size * 1.2)

    def full_line(self, size: float) -> int:
        return self._lengths.get(size_key(size), 0)


def _most_common_smallest(counter: Counter) -> float:
    return min(counter, key=lambda gap: (-counter[gap], gap))


def size_key(size: float) -> float:
    return round(size * 2) / 2


@dataclass
class _Para:
    lines: list[Line]
    list_item: bool = False

    @property
    def first(self) -> Line:
        return self.lines[0]

    @property
    def last(self) -> Line:
        return self.lines[-1]


@dataclass
class _Row:
    """A table row: cells left to right, each the texts of its lines top to bottom."""

    page: int
    size: float
    y: float  # baseline of the row's lowest line so far
    cells: list[tuple[float, list[str]]] = field(default_factory=list)

    def takes(self, line: Line) -> bool:
        """A line that wraps inside one of the row's cells."""
        gap = self.y - line.y
        if abs(line.size - self.size) > 0.6 or not 0.2 * line.size < gap <= 1.3 * line.size:
            return False
        for x, texts in self.cells:
            if abs(line.x - x) <= 1.5:
                texts.append(line.text)
                self.y = line.y
                return True
        return False


def blocks(pages: list[list[Line]], footnotes: list[Footnote]) -> Iterator[Block]:
    metrics = _Metrics(pages)
    vocabulary = {
        word.lower() for lines in pages for line in lines for word in _WORD.findall(line.text)
    }
    items: list[_Para | _Row] = []
    for lines in pages:
        page_items = _page_items(lines, metrics)
        if (
            items
            and page_items
            and isinstance(items[-1], _Para)
            and isinstance(page_items[0], _Para)
            and _continues(items[-1].last, page_items[0], metrics)
        ):
            items[-1].lines.extend(page_items.pop(0).lines)
        items.extend(page_items)
    title = _title_index(items, metrics)
    for n, item in enumerate(items):
        is_row = isinstance(item, _Row)
        block = _row_block(item) if is_row else _block(item, metrics, vocabulary, n == title)
        if block is not None:
            yield block
    for note in footnotes:
        block = _block(_Para(list(note.lines)), metrics, vocabulary, style="Footnote")
        if block is not None:
            yield block


def _page_items(lines: list[Line], metrics: _Metrics) -> list[_Para | _Row]:
    stops = _column_stops(lines)
    items: list[_Para | _Row] = []
    for line in lines:
        current = items[-1] if items else None
        cells = _cells(line, stops)
        if len(cells) > 1:
            items.append(_Row(line.page, line.size, line.y, cells))
            continue
        if isinstance(current, _Row) and current.takes(line):
            continue
        labelled = _without_label(line)
        if labelled is not None:
            items.append(_Para([labelled], list_item=True))
            continue
        if isinstance(current, _Para) and not _starts_new(current, line, metrics):
            current.lines.append(line)
            continue
        bullet = _GLYPH_BULLET.match(line.text) or _NUMBER_BULLET.match(line.text)
        items.append(_Para([line], list_item=bool(bullet)))
    return items


def _column_stops(lines: list[Line]) -> list[float]:
    """Where table columns start: pieces set well apart from the text before them, at an x that
    two or more lines of the page share."""
    seen: Counter = Counter()
    for line in lines:
        seen.update({round(p.x) for p in _set_apart(line) if len(_WORD_CHARS.findall(p.text)) >= 2})
    return [float(x) for x, count in seen.items() if count >= 2]


def _set_apart(line: Line) -> Iterator[Piece]:
    """Pieces that start well right of where the text before them can end.

    Glyph widths are not at hand, so the text before is given a generous 0.55 em a character: a
    word of justified or mixed-font text never starts an em past that, a table cell does."""
    end = None
    for piece in line.pieces:
        if end is not None and piece.x >= end + line.size and piece.x >= line.x + 3 * line.size:
            yield piece
        if piece.text.strip():
            end = piece.x + 0.55 * len(piece.text.rstrip()) * piece.size


def _cells(line: Line, stops: list[float]) -> list[tuple[float, list[str]]]:
    starts = {id(p) for p in _set_apart(line) if any(abs(p.x - s) <= 1 for s in stops)}
    cells: list[tuple[float, list[str]]] = [(line.x, [])]
    for piece in line.pieces:
        if id(piece) in starts and piece.x > cells[-1][0] + 1:
            cells.append((piece.x, []))
        cells[-1][1].append(piece.text)
    joined = [(x, clean("".join(texts))) for x, texts in cells]
    return [(x, [text]) for x, text in joined if text]


def _without_label(line: Line) -> Line | None:
    """The line without its list label, when the label stands apart from the text after it."""
    visible = [p for p in line.pieces if p.text.strip()]
    if len(visible) < 2 or not _LABEL.match(visible[0].text.strip()):
        return None
    if visible[1].x - visible[0].x < 0.9 * line.size:
        return None
    return line.without_first_piece()


def _starts_new(para: _Para, line: Line, metrics: _Metrics) -> bool:
    prev = para.last
    size = max(line.size, prev.size)
    if abs(line.size - prev.size) > max(0.6, 0.06 * size) or line.bold != prev.bold:
        return True
    gap = prev.y - line.y
    if gap <= 0.2 * size and line.x > prev.x + 4 * size:  # up and right: the next column
        return not _continues(prev, _Para([line]), metrics)
    if gap <= 0.2 * size or gap > metrics.gap(prev.size) * 1.35 + 0.5:
        return True  # a paragraph gap, or a jump up to the next column
    if _GLYPH_BULLET.match(line.text) or _NUMBER_BULLET.match(line.text):
        return True
    if para.list_item:
        if line.x < para.first.x - 0.5 * size:
            return True
    elif line.x > min(p.x for p in para.lines if abs(p.x - prev.x) < 3 * size) + 0.8 * size:
        return True  # an indented first line (against the column the paragraph is in)
    full = metrics.full_line(prev.size)
    return prev.text.endswith(_ENDS_SENTENCE) and full > 0 and len(prev.text) < 0.7 * full


def _continues(last: Line, nxt: _Para, metrics: _Metrics) -> bool:
    """A sentence cut by a page or column break: no closing punctuation, goes on in lower case."""
    first = nxt.first
    return (
        size_key(last.size) not in metrics.levels
        and abs(last.size - first.size) <= 0.6
        and last.bold == first.bold
        and not last.text.endswith(_ENDS_SENTENCE)
        and first.text[:1].islower()
        and not nxt.list_item
    )


def _title_index(items: list[_Para | _Row], metrics: _Metrics) -> int | None:
    """The first paragraph, on page 1, in the largest size, when no other text has that size."""
    if not items or not isinstance(items[0], _Para):
        return None
    first = items[0]
    key = size_key(first.first.size)
    if first.first.page != 1 or metrics.levels.get(key) != 1:
        return None
    others = (line for item in items[1:] if isinstance(item, _Para) for line in item.lines)
    if any(size_key(line.size) == key for line in others):
        return None
    return 0


def _row_block(row: _Row) -> Block | None:
    texts = [" ".join(lines) for _, lines in row.cells]
    text = " | ".join(t for t in texts if t)
    if not text:
        return None
    return Block(
        text=text,
        sources=(SourceRef(0, len(text), row.page),),
        style="Table",
        table_row=True,
    )


def _block(
    para: _Para,
    metrics: _Metrics,
    vocabulary: set[str],
    title: bool = False,
    style: str = "",
) -> Block | None:
    texts = [line.text for line in para.lines]
    if para.list_item:
        texts[0] = _strip_bullet(texts[0])
    joins = [_join(texts[n - 1], texts[n], vocabulary) if n else "" for n in range(len(texts))]
    for n, join in enumerate(joins):
        if join == "drop hyphen":
            texts[n - 1] = texts[n - 1][:-1]
    pieces: list[str] = []
    sources: list[SourceRef] = []
    length = 0
    for n, (line, text) in enumerate(zip(para.lines, texts, strict=True)):
        if n + 1 < len(texts) and text.endswith("\u00ad"):
            text = text[:-1]  # a soft hyphen: the word goes on at the start of the next line
        if joins[n] == "space":
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
    level = metrics.levels.get(size_key(para.first.size))
    is_heading = level is not None and len(para.lines) <= 3 and len(text) <= 300
    return Block(
        text=text,
        sources=tuple(sources),
        style="Title" if title else style,
        heading_level=level if is_heading else None,
        bold=all(line.bold for line in para.lines),
        all_caps=is_all_caps(text),
        list_item=para.list_item and not is_heading,
    )


def _join(previous: str, text: str, vocabulary: set[str]) -> str:
    """How two lines of a paragraph meet: with a space, or without one inside a broken word.

    A hyphen at the line end is dropped only where the document has the whole word elsewhere:
    otherwise it may be a real one ("long-" + "term")."""
    if previous.endswith("\u00ad"):
        return "join"
    tail = _HYPHEN_TAIL.search(previous)
    if tail is None or not text[:1].islower():
        return "space"
    head = _WORD.match(text)
    if head is not None and (tail.group(1) + head.group()).lower() in vocabulary:
        return "drop hyphen"
    return "join"


def _strip_bullet(text: str) -> str:
    """Drop a bullet glyph (it is decoration); keep numbering typed into the text."""
    match = _GLYPH_BULLET.match(text)
    return text[match.end() :] if match else text
