"""Split blocks into sections the way real write-ups are written.

Headings come from heading styles and outline levels, from short bold or all-capital lines, and
from lines that match a framework section's name or alias. Forwarded e-mail threads, signatures
and raw logs are kept but marked excluded. Each section gets the kind of the expected section its
heading matches, or `other`; text before the first heading is the `opening` section.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace

from server.documents import RawDocument
from server.documents.headings import HeadingMatcher
from server.engines.compiled_patterns import regex
from server.engines.regex_hints import required_literals
from server.frameworks.model import Framework
from server.model import Block, Document, Paragraph, Section

MAX_HEADING_WORDS = 14
_EMAIL_HEADER = regex(r"^\s*(from|sent|to|cc|bcc|subject|date)\s*:", re.IGNORECASE)
_EMAIL_SEPARATOR = regex(
    r"^\s*(-{2,}\s*)?(original message|original e-?mail|forwarded message|begin forwarded message)"
    r"\s*(-{2,})?\s*:?\s*$",
    re.IGNORECASE,
)
_ON_WROTE = regex(r"^On .{6,120} wrote:\s*$")
_SIGN_OFF = regex(
    r"^\s*(thanks|thank you|many thanks|regards|best|best regards|kind regards|warm regards|"
    r"cheers|sincerely|br)\s*[,.!]?\s*$",
    re.IGNORECASE,
)
_LOG_SHAPES = (
    r"(^\s*(\[?\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2})?\S*\]?|\[?\d{2}:\d{2}:\d{2}(\.\d+)?\]?)\s+"
    r"\[?(TRACE|DEBUG|INFO|NOTICE|WARN|WARNING|ERROR|ERR|FATAL|CRITICAL)\b)",
    r"Traceback \(most recent call last\)",
    r"^\s+at [\w.$]+\(.*\)\s*$",
    r"^\s*File \".+\", line \d+",
    r"(\b\w+=\S+\s+){3,}",
)
_LOG_LINE = regex("|".join(_LOG_SHAPES), re.MULTILINE)
# The shapes one by one, each with the literal text it cannot match without (a log level, '=',
# 'File "'...): most paragraphs are prose and are settled by substring tests, not regex passes.
_LOG_SHAPE_TESTS = tuple(
    (regex(shape, re.MULTILINE), required_literals(shape, re.MULTILINE)) for shape in _LOG_SHAPES
)
# A document's title belongs to its opening, whatever words it holds; footnotes are not headings.
_NEVER_HEADINGS = ("title", "subtitle", "footnote")
_CODE_STYLES = ("code", "html preformatted", "plain text", "macro text", "source")


@dataclass
class _Open:
    """A section being built."""

    title: str
    kind: str
    level: int
    paragraphs: list[Paragraph]
    excluded: bool = False
    reason: str = ""
    excluded_parts: set[str] = field(default_factory=set)  # why some paragraphs are left out


def build_document(raw: RawDocument, framework: Framework, sha256: str = "") -> Document:
    matcher = HeadingMatcher(framework)
    blocks = list(raw.blocks)
    left_out = {i: "signature" for i in _signature_indexes(blocks)}
    left_out.update({i: "raw log" for i in _log_block_indexes(blocks)})
    # A PDF's footnotes come last, kept apart: a .docx's are not read at all.
    left_out.update({i: "footnote" for i, b in enumerate(blocks) if b.style == "Footnote"})
    sections: list[_Open] = [_Open("Opening", "opening", 99, [])]
    in_thread = False

    for i, block in enumerate(blocks):
        current = sections[-1]
        if not in_thread and _starts_email_thread(blocks, i):
            in_thread = True
            title = (
                block.text.strip()
                if _EMAIL_SEPARATOR.match(block.text)
                else "Forwarded e-mail thread"
            )
            is_heading = bool(_EMAIL_SEPARATOR.match(block.text)) or bool(
                matcher.exclusion(block.text)
            )
            sections.append(_Open(title, "other", 0, [], excluded=True, reason="email thread"))
            sections[-1].paragraphs.append(_paragraph(block, i, is_heading=is_heading))
            continue
        heading = _heading(block, matcher)
        if heading is not None:
            kind, excluded_as, level, strong_match = heading
            if in_thread and not (
                strong_match and (block.heading_level or block.bold or block.all_caps)
            ):
                heading = None  # a bold line inside a forwarded e-mail is not a section of ours
            elif excluded_as or kind != "other" or level <= current.level:
                in_thread = False
                sections.append(
                    _Open(
                        _clean_title(block.text),
                        kind if not excluded_as else "other",
                        level,
                        [_paragraph(block, i, is_heading=True)],
                        excluded=bool(excluded_as),
                        reason=excluded_as or "",
                    )
                )
                continue
            else:
                current.paragraphs.append(_paragraph(block, i, is_heading=True))
                continue
        if i in left_out:
            current.excluded_parts.add(left_out[i])
        current.paragraphs.append(_paragraph(block, i, excluded=i in left_out))

    return Document(
        title=raw.title,
        format=raw.format,  # type: ignore[arg-type]
        sections=_finish(sections),
        sha256=sha256,
    )


def _heading(block: Block, matcher: HeadingMatcher) -> tuple[str, str | None, int, bool] | None:
    """(kind, exclusion reason, level, matched by name) if this block reads as a heading."""
    text = block.text.strip()
    words = len(text.split(None, MAX_HEADING_WORDS))  # counts up to one past the limit
    if not text or words > MAX_HEADING_WORDS or block.table_row or _EMAIL_HEADER.match(text):
        return None
    if block.style.lower() in _NEVER_HEADINGS:
        return None
    formatted = block.heading_level is not None or block.bold or block.all_caps
    if block.list_item and block.heading_level is None and not matcher.exact(text):
        return None
    exclusion = matcher.exclusion(text, loose=formatted)
    kind = matcher.kind(text, loose=formatted)
    if exclusion:
        return "other", exclusion, block.heading_level or 1, True
    if kind:
        return kind, None, block.heading_level or 1, True
    if block.heading_level is not None:
        return "other", None, block.heading_level, False
    ends_like_sentence = text.endswith((".", ",", ";")) and not text.endswith("..")
    if (
        (block.bold or block.all_caps)
        and not ends_like_sentence
        and sum(c.isalpha() for c in text) >= 3
    ):
        return "other", None, 9, False
    return None


def _starts_email_thread(blocks: list[Block], i: int) -> bool:
    text = blocks[i].text
    if _EMAIL_SEPARATOR.match(text) or _ON_WROTE.match(text.strip()):
        return True
    if not _EMAIL_HEADER.match(text):
        return False
    headers = {
        m.group(1).lower() for t in _window(blocks, i, 5) for m in [_EMAIL_HEADER.match(t)] if m
    }
    inline = {
        m.group(1).lower()
        for m in re.finditer(r"(?m)^\s*(from|sent|to|cc|subject|date)\s*:", text, re.I)
    }
    found = headers | inline
    return "from" in found and len(found & {"sent", "to", "subject", "date", "cc"}) >= 1


def _window(blocks: list[Block], i: int, size: int) -> list[str]:
    return [b.text for b in blocks[i : i + size]]


def _log_block_indexes(blocks: list[Block]) -> set[int]:
    """Raw logs: code-styled blocks, or two or more consecutive log-looking lines."""
    log_like = [b.style.lower() in _CODE_STYLES or _has_log_line(b.text) for b in blocks]
    found: set[int] = set()
    for i, flag in enumerate(log_like):
        if not flag:
            continue
        b = blocks[i]
        neighbours = (i > 0 and log_like[i - 1]) or (i + 1 < len(blocks) and log_like[i + 1])
        if neighbours or b.style.lower() in _CODE_STYLES or len(_LOG_LINE.findall(b.text)) >= 2:
            found.add(i)
    return found


def _has_log_line(text: str) -> bool:
    """`_LOG_LINE.search(text)`, with each shape tried only where its literal text occurs."""
    return any(needs.met_by(text, None) and shape.search(text) for shape, needs in _LOG_SHAPE_TESTS)


def _signature_indexes(blocks: list[Block]) -> set[int]:
    """A sign-off line and the short lines under it (name, title, phone)."""
    found: set[int] = set()
    for i, block in enumerate(blocks):
        if not _SIGN_OFF.match(block.text):
            continue
        found.add(i)
        for j in range(i + 1, min(i + 5, len(blocks))):
            nxt = blocks[j]
            if (
                nxt.heading_level is not None
                or len(nxt.text.split()) > 8
                or nxt.text.rstrip().endswith(".")
            ):
                break
            found.add(j)
    return found


def _paragraph(
    block: Block, index: int, is_heading: bool = False, excluded: bool = False
) -> Paragraph:
    return Paragraph(
        index=index,
        text=block.text,
        sources=block.sources,
        style=block.style,
        list_item=block.list_item,
        table_row=block.table_row,
        is_heading=is_heading,
        excluded=excluded,
    )


def _clean_title(text: str) -> str:
    return re.sub(r"[\s:]+$", "", text.strip()) or text.strip()


def _finish(sections: list[_Open]) -> tuple[Section, ...]:
    """Number paragraphs and sections; a section whose body is all left out is excluded whole."""
    out: list[Section] = []
    index = 0
    for n, s in enumerate(s for s in sections if s.paragraphs):
        paragraphs = []
        for p in s.paragraphs:
            # Each block became one paragraph numbered by its position, so this is the paragraph's
            # index already; `replace` (slow, ~1,000 calls per long document) only if it is not.
            paragraphs.append(p if p.index == index else replace(p, index=index))
            index += 1
        body = [p for p in paragraphs if not p.is_heading]
        excluded, reason = s.excluded, s.reason
        if not excluded and body and all(p.excluded for p in body):
            excluded, reason = True, ", ".join(sorted(s.excluded_parts))
        out.append(
            Section(
                id=f"s{n + 1}",
                title=s.title,
                kind=s.kind,
                paragraphs=tuple(paragraphs),
                excluded=excluded,
                exclusion_reason=reason,
            )
        )
    return tuple(out)
