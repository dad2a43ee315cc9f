"""Read a plain-text file into blocks: paragraphs, headings, bullets and table rows, by line.

Plain text carries its structure in layout only, so the rules here are about lines: blank lines
separate paragraphs; a hard-wrapped paragraph is joined back into one block (a line is a wrap when
the next word would not have fitted on it); short heading-like lines, bullets, "Key: value" header
lines and table rows stay blocks of their own. Every block keeps one SourceRef per source line.
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from server.documents import RawDocument
from server.documents.limits import Limits
from server.errors import DocumentTooLarge, UnsupportedDocument
from server.model import Block, SourceRef

# Control characters (C0 but tab and newline, DEL, C1) and stray BOMs: never text, and a terminal
# would act on an escape sequence printed by `aiprism review`.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\ufeff]")
_BULLET = re.compile(
    r"^(?P<indent>\s*)(?P<marker>[-*+•·◦▪‣●○■–]|\d{1,3}[.)]|[a-zA-Z][)]|[a-z][.]|\(\w{1,4}\))"
    r"\s+(?P<text>\S.*)$"
)
_HASH_HEADING = re.compile(r"^\s{0,3}(#{1,6})\s+(\S.*)$")
_UNDERLINE = re.compile(r"^\s*(=+|-+)\s*$")
_RULE = re.compile(r"^\s*([-=*_~#+.·])(\s*\1){2,}\s*$")
_TABLE_RULE = re.compile(r"^[\s|+:=-]*$")
_FIELD = re.compile(r"^([A-Z][A-Za-z0-9/&() -]{0,30}):(\s+\S.*)?$")
_MAIL_HEADERS = {"from", "to", "cc", "bcc", "sent", "date", "subject", "reply-to", "importance"}
_UNWRAPPED_LINE = 100  # a file whose lines are often longer than this was not hard-wrapped


def decode_text(data: bytes, filename: str) -> str:
    """Text of a file in UTF-8 (with or without BOM), UTF-16/32 (BOM or NUL pattern) or cp1252.

    Newlines come back as "\\n"; binary data is refused.
    """
    encodings = _encodings(data)
    if encodings is None:
        raise _binary(filename)
    for encoding in encodings:
        try:
            text = data.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise UnsupportedDocument(
            f"'{filename}' is not in a text encoding AI-Prism recognises (UTF-8, UTF-16 or "
            "Windows-1252); save it as UTF-8 text and try again."
        )
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    bad = sum(1 for c in text if c == "\x7f" or (c < " " and c not in "\t\n\f\v"))
    if "\x00" in text or bad > max(8, len(text) // 50):
        raise _binary(filename)
    return text


def _encodings(data: bytes) -> list[str] | None:
    """Encodings to try in turn; None when the bytes are plainly not text."""
    boms = (
        (codecs.BOM_UTF32_LE, "utf-32"),
        (codecs.BOM_UTF32_BE, "utf-32"),
        (codecs.BOM_UTF8, "utf-8-sig"),
        (codecs.BOM_UTF16_LE, "utf-16"),
        (codecs.BOM_UTF16_BE, "utf-16"),
    )
    for bom, encoding in boms:
        if data.startswith(bom):
            return [encoding]
    utf16 = _bomless_utf16(data)
    if utf16:
        return [utf16]
    if b"\x00" in data[:8192]:
        return None
    return ["utf-8", "cp1252"]


def _binary(filename: str) -> UnsupportedDocument:
    return UnsupportedDocument(
        f"'{filename}' looks like a binary file, not text; AI-Prism reads .docx, .pdf, .md and "
        ".txt files."
    )


def _bomless_utf16(data: bytes) -> str | None:
    """UTF-16 without a BOM: ASCII text then has a NUL in every other byte."""
    sample = data[:4096]
    half = len(sample) // 2
    if half < 2 or len(data) % 2:
        return None
    even = sample[0::2].count(0)
    odd = sample[1::2].count(0)
    if odd > 0.3 * half and even < 0.05 * half:
        return "utf-16-le"
    if even > 0.3 * half and odd < 0.05 * half:
        return "utf-16-be"
    return None


def read_text(data: bytes, filename: str, limits: Limits) -> RawDocument:
    text = decode_text(data, filename)
    blocks = tuple(_blocks(text.split("\n")))
    check_paragraph_sizes(blocks, filename, limits)
    return RawDocument(title=title_from(blocks, filename), format="txt", blocks=blocks)


def strip_controls(line: str) -> str:
    return _CONTROL.sub("", line)


def check_paragraph_sizes(blocks: Iterable[Block], filename: str, limits: Limits) -> None:
    for block in blocks:
        if len(block.text) > limits.max_paragraph_chars:
            raise DocumentTooLarge(
                f"'{filename}' has a paragraph of {len(block.text):,} characters; the limit is "
                f"{limits.max_paragraph_chars:,}. Split it or remove pasted data."
            )


def is_all_caps(text: str) -> bool:
    """Written in capitals: at least three letters, all of them capitals (as the docx reader)."""
    letters = [c for c in text if c.isalpha()]
    return len(letters) >= 3 and all(c.isupper() for c in letters)


def title_from(blocks: tuple[Block, ...], filename: str) -> str:
    """The first heading, else the first non-empty line, else the file name without extension."""
    for block in blocks:
        if block.heading_level is not None and block.text.strip():
            return _shorten(block.text)
    for block in blocks:
        if block.text.strip():
            first = (
                block.text[block.sources[0].start : block.sources[0].end] if block.sources else ""
            )
            return _shorten(first or block.text)
    return Path(filename).stem


def _shorten(text: str, limit: int = 150) -> str:
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    return text[:limit].rsplit(" ", 1)[0] + "…"


@dataclass
class _Para:
    """A block being assembled from lines."""

    parts: list[tuple[str, int]] = field(default_factory=list)  # (stripped text, line number)
    list_item: bool = False
    continuation_indent: int = 0  # a list item's wrapped lines are indented at least this much

    def block(self) -> Block:
        text, sources = join_parts(self.parts)
        return Block(
            text=text, sources=sources, all_caps=is_all_caps(text), list_item=self.list_item
        )


def join_parts(
    parts: Iterable[tuple[str, int]], sep: str = " "
) -> tuple[str, tuple[SourceRef, ...]]:
    """Join pieces with `sep`; one SourceRef per piece, pointing at its offsets in the result."""
    pieces: list[str] = []
    sources: list[SourceRef] = []
    offset = 0
    for piece, ref in parts:
        if pieces:
            offset += len(sep)
        pieces.append(piece)
        sources.append(SourceRef(offset, offset + len(piece), ref))
        offset += len(piece)
    return sep.join(pieces), tuple(sources)


class _Layout:
    """What the file as a whole says about wrapping."""

    def __init__(self, lines: list[str]):
        lengths = sorted(len(line.strip()) for line in lines if line.strip())
        long_lines = sum(1 for n in lengths if n > _UNWRAPPED_LINE)
        wrapped = [n for n in lengths if n <= _UNWRAPPED_LINE]
        self.width = wrapped[int(len(wrapped) * 0.9)] if wrapped else 0
        self.hard_wrapped = self.width >= 40 and long_lines <= 0.2 * len(lengths)

    def continues(self, previous: str, line: str) -> bool:
        """True when `previous` ended only because the first word of `line` did not fit."""
        if not self.hard_wrapped:
            return False
        first_word = line.split(None, 1)[0]
        return len(previous) + 1 + len(first_word) > 0.85 * self.width


def _blocks(lines: list[str]) -> Iterable[Block]:
    lines = [strip_controls(line).rstrip() for line in lines]
    layout = _Layout(lines)
    current: _Para | None = None
    skip_next = False

    def flush() -> Iterable[Block]:
        nonlocal current
        if current is not None and current.parts:
            yield current.block()
        current = None

    for i, raw in enumerate(lines):
        number = i + 1
        if skip_next:
            skip_next = False
            continue
        line = raw.strip()
        nxt = lines[i + 1] if i + 1 < len(lines) else ""
        if not line:
            yield from flush()
            continue
        after_break = i == 0 or not lines[i - 1].strip() or bool(_RULE.match(lines[i - 1]))
        level = _setext_level(line, nxt) if after_break else None
        if level is not None:
            yield from flush()
            skip_next = True
            yield Block(
                line,
                (SourceRef(0, len(line), number),),
                heading_level=level,
                all_caps=is_all_caps(line),
            )
            continue
        if _RULE.match(line):
            yield from flush()
            continue
        hashed = _HASH_HEADING.match(raw)
        if hashed:
            yield from flush()
            text = _closing_hashes(hashed.group(2))
            yield Block(
                text,
                (SourceRef(0, len(text), number),),
                heading_level=len(hashed.group(1)),
                all_caps=is_all_caps(text),
            )
            continue
        bullet = _BULLET.match(raw)
        if bullet:
            yield from flush()
            current = _Para(
                [(bullet.group("text").strip(), number)],
                list_item=True,
                continuation_indent=len(bullet.group("indent")) + 1,
            )
            continue
        if _is_table_row(line):
            yield from flush()
            row = _table_row(line, number)
            if row is not None:
                yield row
            continue
        if _is_field(line, lines, i):
            yield from flush()
            yield Block(line, (SourceRef(0, len(line), number),), all_caps=is_all_caps(line))
            continue
        if current is not None and _joins(current, lines[i - 1].strip(), raw, nxt, layout):
            current.parts.append((line, number))
            continue
        yield from flush()
        current = _Para([(line, number)])
        if _stands_alone(line, layout):
            yield from flush()
    yield from flush()


def _closing_hashes(text: str) -> str:
    """'Findings ##' -> 'Findings' (the optional closing sequence of an ATX heading)."""
    stripped = text.rstrip("#")
    if stripped != text and (not stripped or stripped[-1].isspace()):
        return stripped.strip() or text.strip()
    return text.strip()


def _setext_level(line: str, underline: str) -> int | None:
    """A line underlined with === (level 1) or --- (level 2)."""
    match = _UNDERLINE.match(underline)
    if not match or len(match.group(1)) < 3 or _RULE.match(line) or _BULLET.match(line):
        return None
    if _is_table_row(line):
        return None
    return 1 if match.group(1)[0] == "=" else 2


def _joins(current: _Para, previous: str, raw: str, nxt: str, layout: _Layout) -> bool:
    line = raw.strip()
    indent = len(raw) - len(raw.lstrip())
    if current.list_item:
        return indent >= current.continuation_indent or layout.continues(previous, line)
    if not layout.continues(previous, line):
        return False
    if len(current.parts) == 1 and _heading_like(previous):
        return False
    # A short heading-like line after a finished sentence, with text under it, starts afresh.
    return not (previous.endswith((".", "!", "?", ":")) and _heading_like(line) and nxt.strip())


def _stands_alone(line: str, layout: _Layout) -> bool:
    """A line that ends its block at once: a capitals heading, or any line in unwrapped files."""
    if not layout.hard_wrapped:
        return True
    return is_all_caps(line) and len(line) <= 80


def _heading_like(line: str) -> bool:
    words = line.split()
    return (
        0 < len(words) <= 8
        and len(line) <= 60
        and not line.endswith((".", "!", "?", ";", ","))
        and (line[0].isupper() or line[0].isdigit())
    )


def _is_table_row(line: str) -> bool:
    if "\t" in line or line.count("|") >= 2:
        return True
    return len(line) > 1 and (line.startswith("|") or line.endswith("|"))


def _table_row(line: str, number: int) -> Block | None:
    """One row: cells split on "|" or tabs, joined with " | ", one SourceRef per cell."""
    if _TABLE_RULE.match(line):
        return None  # a |---|---| or +----+ separator
    split = line.strip().strip("|").split("|") if "|" in line else re.split(r"\t+", line)
    cells = [cell.strip() for cell in split]
    text, sources = join_parts(((cell, number) for cell in cells), sep=" | ")
    sources = tuple(s for s in sources if s.end > s.start)
    if not sources:
        return None
    return Block(text, sources, all_caps=is_all_caps(text), table_row=True)


def _is_field(line: str, lines: list[str], i: int) -> bool:
    """An e-mail header or one of several consecutive "Key: value" lines."""
    match = _FIELD.match(line)
    if not match:
        return False
    if match.group(1).lower() in _MAIL_HEADERS:
        return True
    neighbours = (lines[i - 1] if i > 0 else "", lines[i + 1] if i + 1 < len(lines) else "")
    return any(_FIELD.match(n.strip()) for n in neighbours)
