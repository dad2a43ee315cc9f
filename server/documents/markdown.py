"""Read Markdown into blocks with markdown-it-py (CommonMark plus tables).

Markup is stripped from the text (emphasis, links, images); code spans keep their text. Headings,
list items, table rows, block quotes and code blocks keep what they are in Block attributes, and
every block carries one SourceRef per source line it came from.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable, Iterator
from dataclasses import replace

from markdown_it import MarkdownIt
from markdown_it.token import Token

from server.documents import RawDocument
from server.documents.limits import Limits
from server.documents.text import (
    check_paragraph_sizes,
    decode_text,
    is_all_caps,
    join_parts,
    read_text,
    strip_controls,
    title_from,
)
from server.model import Block, SourceRef

_FRONT_MATTER_END = re.compile(r"^(---|\.\.\.)\s*$")
_FRONT_MATTER_TITLE = re.compile(r"^title\s*:\s*(.+?)\s*$", re.IGNORECASE)
_HTML_TAG = re.compile(r"<[^<>]*>")
_HTML_COMMENT = re.compile(r"<!--.*?-->", re.DOTALL)
_TOO_DEEP = "aiprism_nesting_too_deep"


def read_markdown(data: bytes, filename: str, limits: Limits) -> RawDocument:
    text = decode_text(data, filename)
    lines = [strip_controls(line) for line in text.split("\n")]
    front_title = _strip_front_matter(lines)
    env: dict = {}
    tokens = _parser().parse("\n".join(lines), env)
    if env.get(_TOO_DEEP):
        return replace(read_text(data, filename, limits), format="md")
    blocks = tuple(b for b in _blocks(tokens) if b.text.strip())
    check_paragraph_sizes(blocks, filename, limits)
    return RawDocument(
        title=front_title or title_from(blocks, filename), format="md", blocks=blocks
    )


def _parser() -> MarkdownIt:
    """CommonMark with tables, noting in `env` when lists or quotes nest past markdown-it's limit:
    it then drops the rest of the enclosing block without a word, so the file is read as plain
    text instead, which loses the structure but none of the words."""
    parser = MarkdownIt("commonmark").enable("table")
    tokenize = parser.block.tokenize

    def watched(state, start: int, end: int) -> None:
        if state.level >= state.md.options.maxNesting:
            state.env[_TOO_DEEP] = True
        tokenize(state, start, end)

    parser.block.tokenize = watched  # type: ignore[method-assign]
    return parser


def _strip_front_matter(lines: list[str]) -> str:
    """Blank out leading YAML front matter in place (line numbers stay); return its title."""
    if not lines or lines[0].strip() != "---":
        return ""
    for end in range(1, min(len(lines), 200)):
        if _FRONT_MATTER_END.match(lines[end]):
            title = ""
            for line in lines[1:end]:
                match = _FRONT_MATTER_TITLE.match(line)
                if match:
                    title = match.group(1).strip("'\"")
            for n in range(end + 1):
                lines[n] = ""
            return title
    return ""


def _blocks(tokens: list[Token]) -> Iterator[Block]:
    lists = 0  # depth of list nesting
    quotes = 0
    heading: int | None = None
    row: list[tuple[str, int, bool]] | None = None  # cells of the table row being read
    for token in tokens:
        kind = token.type
        if kind in ("bullet_list_open", "ordered_list_open"):
            lists += 1
        elif kind in ("bullet_list_close", "ordered_list_close"):
            lists -= 1
        elif kind == "blockquote_open":
            quotes += 1
        elif kind == "blockquote_close":
            quotes -= 1
        elif kind == "heading_open":
            heading = int(token.tag[1:])
        elif kind == "heading_close":
            heading = None
        elif kind == "tr_open":
            row = []
        elif kind == "tr_close" and row is not None:
            block = _table_row(row)
            row = None
            if block is not None:
                yield block
        elif kind == "inline" and token.map is not None:
            if row is not None:
                text, _, bold = _inline_text(token)
                row.append((text, token.map[0] + 1, bold))
                continue
            yield from _paragraph(token, heading, lists > 0, quotes > 0)
        elif kind in ("fence", "code_block") and token.map is not None:
            block = _code(token)
            if block is not None:
                yield block
        elif kind == "html_block" and token.map is not None:
            yield from _html(token)


def _paragraph(token: Token, heading: int | None, in_list: bool, in_quote: bool) -> Iterable[Block]:
    text, sources, bold = _inline_text(token)
    if not text:
        return
    yield Block(
        text=text,
        sources=sources,
        style="quote" if in_quote else "",
        heading_level=heading,
        bold=bold,
        all_caps=is_all_caps(text),
        list_item=in_list and heading is None,
    )


def _inline_text(token: Token) -> tuple[str, tuple[SourceRef, ...], bool]:
    """Plain text of an inline token, a SourceRef per source line, and whether it is all bold."""
    assert token.map is not None
    line = token.map[0] + 1
    parts: list[tuple[str, int]] = []
    current: list[str] = []
    strong = 0
    plain_chars = bold_chars = 0
    cursor = 0  # in token.content, just past the last code span found there

    def end_line() -> None:
        piece = " ".join("".join(current).split())
        if piece:
            parts.append((piece, line))
        current.clear()

    for child in token.children or ():
        kind = child.type
        if kind in ("softbreak", "hardbreak"):
            end_line()
            line += 1
        elif kind == "strong_open":
            strong += 1
        elif kind == "strong_close":
            strong -= 1
        elif kind in ("text", "code_inline"):
            pieces = [child.content]
            if kind == "code_inline":  # its newlines became spaces: find them in the source
                pieces, cursor = _code_span_lines(token.content, child, cursor)
            for n, piece in enumerate(pieces):
                if n:
                    end_line()
                    line += 1
                current.append(piece)
            visible = sum(1 for c in child.content if not c.isspace())
            if strong > 0:
                bold_chars += visible
            else:
                plain_chars += visible
        else:
            # Left out of the text but may span lines: an image (its alt text sits in its own
            # children) and raw inline HTML.
            breaks = sum(1 for c in child.children or () if c.type in ("softbreak", "hardbreak"))
            if kind == "html_inline":
                breaks = child.content.count("\n")
            if breaks:
                end_line()
                line += breaks
    end_line()
    text, sources = join_parts(parts)
    return text, sources, bold_chars > 0 and plain_chars == 0


def _code_span_lines(source: str, child: Token, cursor: int) -> tuple[list[str], int]:
    """A code span's text split at the source lines it spans, found in `source` after `cursor`."""
    if not child.markup:
        return [child.content], cursor
    body = r"[ \n]".join(re.escape(word) for word in child.content.split(" "))
    fence = re.escape(child.markup)
    match = re.compile(rf"{fence}([ \n]?{body}[ \n]?){fence}").search(source, cursor)
    if match is None:
        return [child.content], cursor
    return match.group(1).split("\n"), match.end()


def _table_row(cells: list[tuple[str, int, bool]]) -> Block | None:
    text, sources = join_parts(((cell, line) for cell, line, _ in cells), sep=" | ")
    sources = tuple(s for s in sources if s.end > s.start)
    if not sources:
        return None
    bold = all(b for cell, _, b in cells if cell)
    return Block(text, sources, bold=bold, all_caps=is_all_caps(text), table_row=True)


def _code(token: Token) -> Block | None:
    """One block per code block, its lines kept (newline-separated), one SourceRef per line."""
    assert token.map is not None
    first = token.map[0] + (2 if token.type == "fence" else 1)
    lines = token.content.rstrip("\n").split("\n")
    parts = [(line.rstrip(), first + n) for n, line in enumerate(lines)]
    while parts and not parts[0][0].strip():
        parts.pop(0)
    while parts and not parts[-1][0].strip():
        parts.pop()
    if not parts:
        return None
    text, sources = join_parts(parts, sep="\n")
    return Block(text, tuple(s for s in sources if s.end > s.start), style="code")


def _html(token: Token) -> Iterable[Block]:
    """Raw HTML: comments dropped, tags stripped, the remaining text kept by line."""
    assert token.map is not None
    content = _HTML_COMMENT.sub(lambda m: "\n" * m.group(0).count("\n"), token.content)
    parts = []
    for n, line in enumerate(content.split("\n")):
        piece = " ".join(html.unescape(_HTML_TAG.sub(" ", line)).split())
        if piece:
            parts.append((piece, token.map[0] + 1 + n))
    if parts:
        text, sources = join_parts(parts)
        yield Block(text, sources, all_caps=is_all_caps(text))
