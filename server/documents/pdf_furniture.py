"""What an office suite draws around the text: margin line numbers, running headers and footers,
page numbers and footnotes.

Each is recognised by where it sits and how it repeats across pages, not by its words: line
numbers are a column of rising numbers left of the text, running lines recur at the same height
on most pages, and a footnote starts at the foot of the page with the number of a small raised
reference in the text above it.
"""

from __future__ import annotations

import itertools
import math
import re
from collections import Counter
from dataclasses import dataclass

from server.documents.pdf_lines import Line

_NUMBER = re.compile(r"^\d{1,5}$")
_PAGE_NUMBER = re.compile(
    r"^(?:(?:page|p\.|pg\.?)\s*)?\d{1,5}(?:\s*(?:of|/)\s*\d{1,5})?$|^[-–—]\s*\d{1,5}\s*[-–—]$",
    re.IGNORECASE,
)
_ROMAN_PAGE_NUMBER = re.compile(r"^(?=[ivxlc])(x[cl]|l?x{0,3})(i[xv]|v?i{0,3})$")
_PAGE_X_OF_Y = re.compile(r"^page\s+\d{1,5}\s+of\s+\d{1,5}$", re.IGNORECASE)
_MIN_MARGIN_NUMBERS = 3


@dataclass(frozen=True)
class Footnote:
    page: int
    lines: tuple[Line, ...]


# --- margin line numbers -------------------------------------------------------------------


def drop_margin_numbers(pages: list[list[Line]]) -> list[list[Line]]:
    """Remove Word's and LibreOffice's line numbers: bare numbers left of where the text starts,
    or just left of a column's line on the same baseline, rising down each column of each page (or
    starting again). Drawn apart or at the head of the line they number, either way."""
    left = _text_left_edge(pages)
    if left is None:
        return pages
    found = [_page_margin_numbers(lines, left) for lines in pages]
    numbers = [n for page in found for n, _ in page.values()]
    if len(numbers) < _MIN_MARGIN_NUMBERS:
        return pages
    restart = min(numbers)  # where numbering starts again on a new page or section
    steps: list[bool] = []
    for lines, page in zip(pages, found, strict=True):
        columns: dict[float, list[tuple[float, int]]] = {}
        for line in lines:
            if id(line) in page:
                number, column = page[id(line)]
                columns.setdefault(column, []).append((line.y, number))
        for column in columns.values():
            ordered = [n for _, n in sorted(column, reverse=True)]
            steps.extend(b > a or b == restart for a, b in itertools.pairwise(ordered))
    if steps.count(False) > 0.1 * len(steps):  # a column of figures, not a count of lines
        return pages
    kept: list[list[Line]] = []
    for lines, page in zip(pages, found, strict=True):
        out: list[Line] = []
        for line in lines:
            if id(line) not in page:
                out.append(line)
            elif line.text != line.first_piece():
                rest = line.without_first_piece()
                if rest is not None:
                    out.append(rest)
        kept.append(out)
    return kept


def _text_left_edge(pages: list[list[Line]]) -> float | None:
    """Where most text starts: the left edge lines are numbered against."""
    starts: Counter = Counter()
    for lines in pages:
        for line in lines:
            if not _NUMBER.match(line.text):
                numbered = _NUMBER.match(line.first_piece())
                text = (line.without_first_piece() if numbered else None) or line
                starts[round(text.x)] += len(text.text)
    return float(starts.most_common(1)[0][0]) if starts else None


def _page_margin_numbers(lines: list[Line], left: float) -> dict[int, tuple[int, float]]:
    """id(line) -> (its margin number, the x of the text column it numbers)."""
    found: dict[int, tuple[int, float]] = {}
    by_height: dict[int, list[Line]] = {}
    for line in lines:
        by_height.setdefault(round(line.y), []).append(line)
    for line in lines:
        first = line.first_piece()
        if not _NUMBER.match(first):
            continue
        if line.x <= left - 0.5 * line.size:
            found[id(line)] = (int(first), left)
        elif line.text == first:  # drawn on its own: a column's number sits just left of it
            near = [other for dy in (-1, 0, 1) for other in by_height.get(round(line.y) + dy, [])]
            beside = _text_beside(line, near)
            if beside is not None:
                found[id(line)] = (int(first), beside)
    return found


def _text_beside(number: Line, lines: list[Line]) -> float | None:
    """The x of a text line on the number's baseline starting a little to its right."""
    for line in lines:
        if (
            line is not number
            and abs(line.y - number.y) < 0.2 * number.size
            and number.size * 0.5 < line.x - number.x <= 4 * number.size
            and not _NUMBER.match(line.text)
        ):
            return round(line.x)
    return None


# --- running headers and footers -----------------------------------------------------------


def drop_running_lines(pages: list[list[Line]]) -> list[list[Line]]:
    """Remove page headers/footers repeated on most pages, and bare page numbers at the edges."""
    edges = [_edge_lines(lines) for lines in pages]
    pages_with_text = sum(1 for lines in pages if lines)
    counts = Counter(key for edge in edges for key in {_running_key(line) for line in edge})
    needed = max(2, math.ceil(0.5 * pages_with_text))
    # Running lines are short; a long repeated line is more likely body text that recurs.
    repeated = {
        key for key, count in counts.items() if count >= needed and len(key[0].split()) <= 20
    }

    kept: list[list[Line]] = []
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


def _edge_lines(lines: list[Line]) -> list[Line]:
    """The lines on the two highest and the two lowest baselines of a page."""
    heights = sorted({round(line.y) for line in lines})
    edge = set(heights[:2]) | set(heights[-2:])
    return [line for line in lines if round(line.y) in edge]


def _running_key(line: Line) -> tuple[str, int, int, int]:
    """Same text, size and height on the page; a number tracking the page number is a wildcard."""
    offset = -1
    text = line.text.lower()
    for match in re.finditer(r"\d+", text):
        if 0 <= line.page - int(match.group()) <= 5:
            offset = line.page - int(match.group())
            text = text[: match.start()] + "#" + text[match.end() :]
            break
    return text, offset, round(line.size), round(line.y / 3)


# --- footnotes -----------------------------------------------------------------------------


def split_footnotes(pages: list[list[Line]]) -> tuple[list[list[Line]], list[Footnote]]:
    """Body lines of each page, and the footnotes at the page feet, in order."""
    bodies: list[list[Line]] = []
    notes: list[Footnote] = []
    for lines in pages:
        body, found = _page_footnotes(lines)
        bodies.append(body)
        notes.extend(found)
    return bodies, notes


def _page_footnotes(lines: list[Line]) -> tuple[list[Line], list[Footnote]]:
    references = {m for line in lines for m in line.markers}
    if not references:
        return lines, []
    lowest_reference = min(line.y for line in lines if line.markers)
    middle = (max(line.y for line in lines) + min(line.y for line in lines)) / 2
    start = next(
        (
            line
            for line in lines
            if line.y < min(lowest_reference, middle) and _footnote_number(line) in references
        ),
        None,
    )
    if start is None:
        return lines, []
    body = [line for line in lines if line.y > start.y]
    area = sorted((line for line in lines if line.y <= start.y), key=lambda line: -line.y)
    notes: list[list[Line]] = []
    for line in area:
        number = _footnote_number(line)
        if number in references:
            stripped = line if line.label else line.without_first_piece()
            notes.append([stripped] if stripped is not None else [])
        elif notes:
            notes[-1].append(line)
    footnotes = [Footnote(start.page, tuple(note)) for note in notes if note]
    return body, footnotes


def _footnote_number(line: Line) -> str:
    """The number a footnote line starts with: raised, or a piece of its own before the text."""
    if line.label:
        return line.label
    first = line.first_piece()
    return first if len(line.pieces) > 1 and _NUMBER.match(first) else ""
