"""Text lines of a PDF page, from the positioned text pypdf hands its visitor.

A line keeps its pieces (one per text-showing operation) with their positions, because what a
line means depends on where its parts sit: a number set apart before the text is a list label, a
piece at a column shared by several lines is a table cell, and a small raised number is a
footnote reference.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

_BOLD_FONT = re.compile(r"bold|black|heavy|demi(?![a-z])", re.IGNORECASE)
# 0x7F is the bullet of WinAnsiEncoding as several PDF writers (reportlab) use it.
_GLYPHS = str.maketrans(
    {"ﬀ": "ff", "ﬁ": "fi", "ﬂ": "fl", "ﬃ": "ffi", "ﬄ": "ffl", "ﬅ": "st", "ﬆ": "st", "\x7f": "•"}
)
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_MARKER = re.compile(r"^(?:\d{1,3}|[*†‡§¶]{1,3})$")

Fragment = tuple[str, list, list, object, float]


@dataclass(frozen=True)
class Piece:
    x: float
    y: float
    text: str
    size: float


@dataclass(frozen=True)
class Line:
    text: str
    page: int
    x: float
    y: float  # baseline, PDF user space (grows upwards)
    size: float  # font size as drawn on the page
    bold: bool
    pieces: tuple[Piece, ...] = ()
    markers: tuple[str, ...] = ()  # footnote references set small and raised, left out of text
    label: str = ""  # a raised number that starts the line: a footnote's own number

    def without_first_piece(self) -> Line | None:
        """The line less its first visible piece (a margin number or a list label)."""
        first_visible = next(n for n, p in enumerate(self.pieces) if p.text.strip())
        rest = self.pieces[first_visible + 1 :]
        text = clean("".join(p.text for p in rest))
        if not text:
            return None
        first = next(p for p in rest if p.text.strip())
        return Line(
            text, self.page, first.x, self.y, self.size, self.bold, rest, self.markers, self.label
        )

    def first_piece(self) -> str:
        return next((p.text.strip() for p in self.pieces if p.text.strip()), "")


@dataclass
class _LineBuilder:
    pieces: list[Piece] = field(default_factory=list)
    sizes: Counter = field(default_factory=Counter)
    bold_chars: int = 0
    plain_chars: int = 0

    @property
    def y(self) -> float:
        return self.pieces[0].y

    def add(self, piece: Piece, bold: bool) -> None:
        self.pieces.append(piece)
        visible = sum(1 for c in piece.text if not c.isspace())
        self.sizes[round(piece.size, 1)] += visible
        if bold:
            self.bold_chars += visible
        else:
            self.plain_chars += visible

    def size(self) -> float:
        return self.sizes.most_common(1)[0][0] if self.sizes else 0.0

    def line(self, page: int) -> Line | None:
        size = self.size()
        body = [p for p in self.pieces if p.text.strip() and p.size >= 0.8 * size]
        baseline = body[0].y if body else self.pieces[0].y
        kept: list[Piece] = []
        markers: list[str] = []
        label = ""
        for piece in self.pieces:
            raised = piece.size < 0.8 * size and piece.y - baseline > 0.15 * size
            if raised and _MARKER.match(piece.text.strip()):
                if not any(p.text.strip() for p in kept):
                    label = piece.text.strip()
                else:
                    markers.append(piece.text.strip())
            else:
                kept.append(piece)
        text = clean("".join(p.text for p in kept))
        if not text:
            return None
        first = next(p for p in kept if p.text.strip())
        bold = self.bold_chars > 0 and self.plain_chars == 0
        return Line(text, page, first.x, baseline, size, bold, tuple(kept), tuple(markers), label)


def page_lines(fragments: Iterable[Fragment], page: int) -> list[Line]:
    """Fragments in drawing order into lines: a new line wherever the baseline moves."""
    lines: list[Line] = []
    current: _LineBuilder | None = None
    fonts: dict[int, bool] = {}

    def close() -> None:
        nonlocal current
        if current is not None and current.pieces:
            line = current.line(page)
            if line is not None:
                lines.append(line)
        current = None

    for text, cm, tm, font, font_size in fragments:
        m = multiply(tm, cm)
        size = abs(float(font_size or 0) * math.hypot(m[2], m[3])) or float(font_size or 0)
        if id(font) not in fonts:
            fonts[id(font)] = is_bold(font)
        bold = fonts[id(font)]
        # A line ends where the baseline moves, not at a newline: some writers (reportlab) end
        # every drawn string with one, and pieces of one line then arrive as separate lines.
        for k, piece in enumerate(text.split("\n")):
            if not piece:
                continue
            y = m[5] - k * size * 1.2  # a rare multi-line fragment: later lines sit below
            if current is not None and abs(current.y - y) > 0.5 * max(size, current.size(), 1.0):
                close()
            if current is None:
                current = _LineBuilder()
            current.add(Piece(m[4], y, piece, size), bold)
    close()
    return lines


def multiply(a: list, b: list) -> list[float]:
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


def is_bold(font) -> bool:
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


def clean(text: str) -> str:
    text = _CONTROL.sub(" ", text.translate(_GLYPHS))
    return " ".join(text.split())
