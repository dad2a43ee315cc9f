"""Read a .docx into blocks: body paragraphs and table rows in order, with the formatting that
section detection needs (style, outline level, bold, capitals, lists).

The package is opened by docx_package.py (python-docx where that leaves it to python-docx). The
container is checked before either touches it: zip bombs, DTDs (entity expansion and
external entities) and macro-enabled packages are refused with a message, not parsed.
"""

from __future__ import annotations

import io
import re
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from lxml import etree

from server.documents import RawDocument
from server.documents.docx_package import Package, open_package
from server.documents.docx_text import body_paragraphs, paragraph_runs, qn
from server.documents.limits import Limits, megabytes
from server.engines.compiled_patterns import regex
from server.errors import CorruptDocument, DocumentTooLarge, UnsupportedDocument
from server.model import Block, SourceRef

_MAIN_PART = "word/document.xml"
_MACRO_TYPE = "application/vnd.ms-word.document.macroEnabled"
_XML_PARTS = (".xml", ".rels")
_ENTITY_BOMB = ("amplification", "entity reference loop")  # libxml2's words for expansion
# What unpacking a damaged part raises: a bad CRC, a cut stream, or corrupt deflate data
_UNPACKING = (zipfile.BadZipFile, OSError, EOFError, zlib.error)
_MAX_PROLOGUE = 1_000_000  # bytes before the root element: Word writes about a hundred
_HEADING_STYLE = regex(r"^heading\s*(\d)$", re.IGNORECASE)
_TRUE = {None, "1", "true", "on"}
_BULLET = regex(r"^\s*[•◦▪●○■\-–*]\s+")
_LOWER_ASCII = regex("[a-z]")
# Tag names in Clark notation, resolved once: they are looked up for every paragraph and run.
_P, _TBL, _TR, _TC = qn("w:p"), qn("w:tbl"), qn("w:tr"), qn("w:tc")
_CONTAINERS = (qn("w:sdt"), qn("w:sdtContent"), qn("w:customXml"))
_VAL, _RPR, _RSTYLE = qn("w:val"), qn("w:rPr"), qn("w:rStyle")
_RUN_FLAGS = {tag: qn(tag) for tag in ("w:b", "w:caps")}
_PSTYLE_PATH = f"{qn('w:pPr')}/{qn('w:pStyle')}"
_NUMPR_PATH = f"{qn('w:pPr')}/{qn('w:numPr')}"
_OUTLINE_PATH = f"{qn('w:pPr')}/{qn('w:outlineLvl')}"


def read_docx(data: bytes, filename: str, limits: Limits) -> RawDocument:
    _check_container(data, filename, limits)
    package = open_package(data) or _open_with_python_docx(data, filename)
    styles = _StyleBook(package.styles)
    body = package.body
    ordinals = {p: n for n, p in enumerate(body_paragraphs(body))}
    blocks: list[Block] = []
    for block in _blocks(body, ordinals, styles, limits, filename):
        if block.text.strip():
            blocks.append(block)
        if len(blocks) > limits.max_paragraphs:  # stop now: the rest would only cost memory
            raise DocumentTooLarge(
                f"'{filename}' has more than {limits.max_paragraphs:,} paragraphs, the limit. "
                "Split it and review the parts."
            )
    title = package.title.strip() or _first_title(blocks, filename)
    return RawDocument(title=title, format="docx", blocks=tuple(blocks))


def _open_with_python_docx(data: bytes, filename: str) -> Package:
    """The package as python-docx opens it, for what `open_package` leaves to it: python-docx
    supplies missing parts its own way and names what is wrong."""
    import docx

    try:
        document = docx.Document(io.BytesIO(data))
    except Exception as exc:  # python-docx raises many types on broken packages
        broken = _first_broken_part(data, filename)
        if broken is not None:
            raise broken from exc
        raise CorruptDocument(
            f"'{filename}' could not be opened as a Word document ({type(exc).__name__}); "
            "open it in Word and save it again as .docx."
        ) from exc
    return Package(
        document.element.body, document.styles.element, document.core_properties.title or ""
    )


def _check_container(data: bytes, filename: str, limits: Limits) -> None:
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        members = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise CorruptDocument(
            f"'{filename}' is damaged (not a complete .docx package); "
            "open it in Word and save it again."
        ) from exc
    names = {m.filename for m in members}
    if _MAIN_PART not in names:
        raise CorruptDocument(f"'{filename}' has no document body (word/document.xml is missing).")
    total = 0
    for member in members:
        total += member.file_size
        ratio = member.file_size / max(member.compress_size, 1)
        if total > limits.max_unzipped_bytes or (
            member.file_size > 1_000_000 and ratio > limits.max_zip_ratio
        ):
            raise DocumentTooLarge(
                f"'{filename}' expands to far more data than a document holds (a 'zip bomb'); "
                "it was not opened."
            )
    xml = sum(m.file_size for m in members if m.filename.endswith(_XML_PARTS))
    if xml > limits.max_xml_bytes:  # parsed, every element costs memory: ~20 bytes per byte
        raise DocumentTooLarge(
            f"'{filename}' holds {megabytes(xml)} of Word XML; the limit is "
            f"{megabytes(limits.max_xml_bytes)}. Split it and review the parts."
        )
    if "word/vbaProject.bin" in names or _MACRO_TYPE.encode() in _read(
        archive, "[Content_Types].xml", filename
    ):
        raise UnsupportedDocument(
            f"'{filename}' contains macros (a .docm); save a copy as a plain .docx without macros."
        )
    for member in members:
        if member.filename.endswith(_XML_PARTS):
            _check_prologue(archive, member.filename, filename)


def _check_prologue(archive: zipfile.ZipFile, name: str, filename: str) -> None:
    """Refuse a part whose XML declares a DOCTYPE (entity expansion, external entities).

    Read by a non-resolving parser up to the root element, so a declaration hidden behind
    comments or written in UTF-16 is found as surely as a plain one.
    """
    parser = etree.XMLPullParser(
        events=("start",), resolve_entities=False, no_network=True, load_dtd=False
    )
    seen = 0
    try:
        with archive.open(name) as handle:
            while chunk := handle.read(4096):
                parser.feed(chunk)
                seen += len(chunk)
                for _, element in parser.read_events():
                    if element.getroottree().docinfo.doctype:
                        raise _doctype(filename)
                    return
                if seen > _MAX_PROLOGUE:
                    raise CorruptDocument(
                        f"'{filename}' has a part ({name}) that starts with over "
                        f"{_MAX_PROLOGUE:,} bytes of preamble, which Word never writes; it was "
                        "refused for safety."
                    )
    except etree.XMLSyntaxError as exc:
        raise _not_xml(filename, name, exc) from exc
    except _UNPACKING as exc:
        raise _damaged_part(filename, name) from exc
    # An empty part or one with no element: nothing declared; python-docx judges it if it reads it.


def _doctype(filename: str) -> CorruptDocument:
    return CorruptDocument(
        f"'{filename}' contains XML with a DOCTYPE declaration, which Word never writes; "
        "it was refused for safety."
    )


def _not_xml(filename: str, name: str, exc: etree.XMLSyntaxError) -> CorruptDocument:
    reason = str(exc.msg or exc).split(", line")[0]
    if any(sign in reason for sign in _ENTITY_BOMB):  # libxml2 stopped it before its DOCTYPE showed
        return _doctype(filename)
    return CorruptDocument(
        f"'{filename}' is damaged: its part {name} is not well-formed XML ({reason}); "
        "open it in Word and save it again."
    )


def _first_broken_part(data: bytes, filename: str) -> CorruptDocument | None:
    """Which part made python-docx fail, for a message that says more than an exception name."""
    archive = zipfile.ZipFile(io.BytesIO(data))
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
    for member in archive.infolist():
        if member.filename.endswith(_XML_PARTS):
            try:
                etree.fromstring(archive.read(member.filename), parser)
            except etree.XMLSyntaxError as exc:
                return _not_xml(filename, member.filename, exc)
            except _UNPACKING:
                return _damaged_part(filename, member.filename)
    return None


def _read(archive: zipfile.ZipFile, name: str, filename: str) -> bytes:
    try:
        with archive.open(name) as handle:
            return handle.read(1_000_000)
    except KeyError:
        return b""
    except _UNPACKING as exc:
        raise _damaged_part(filename, name) from exc


def _damaged_part(filename: str, name: str) -> CorruptDocument:
    return CorruptDocument(
        f"'{filename}' is damaged: its part {name} cannot be unpacked; download it again or "
        "open it in Word and save it again."
    )


def _blocks(
    body, ordinals: dict[int, int], styles: _StyleBook, limits: Limits, filename: str
) -> Iterator[Block]:
    for element in _walk(body):
        if element.tag == _P:
            yield _paragraph_block(element, ordinals, styles, limits, filename)
        else:
            yield from _table_blocks(element, ordinals, limits, filename)


def _walk(container) -> Iterator:
    """Top-level paragraphs and tables in order, looking through content controls."""
    for child in container:
        if child.tag in (_P, _TBL):
            yield child
        elif child.tag in _CONTAINERS:
            yield from _walk(child)


def _paragraph_block(p, ordinals, styles: _StyleBook, limits: Limits, filename: str) -> Block:
    runs = list(paragraph_runs(p))
    text = "".join(t for _, t in runs)
    _check_length(text, limits, filename)
    style = styles.get(_val(p.find(_PSTYLE_PATH)))
    outline = _outline_level(p)
    level = outline if outline is not None else style.heading_level
    visible = [(r, t) for r, t in runs if t.strip()]
    bold = bool(visible) and all(_run_flag(r, "w:b", styles, style) for r, _ in visible)
    caps = bool(visible) and all(_run_flag(r, "w:caps", styles, style) for r, _ in visible)
    all_caps = caps or _written_in_capitals(text)
    has_numbering = p.find(_NUMPR_PATH) is not None or style.numbered
    list_item = has_numbering or "list" in style.name.lower() or bool(_BULLET.match(text))
    return Block(
        text=text,
        sources=(SourceRef(0, len(text), ordinals[p]),),
        style=style.name,
        heading_level=level,
        bold=bold,
        all_caps=all_caps,
        list_item=list_item and level is None,
    )


def _written_in_capitals(text: str) -> bool:
    """Three or more letters, every one a capital. Prose is settled at its first lower-case
    ASCII letter, without listing the letters of the whole paragraph."""
    if _LOWER_ASCII.search(text):
        return False
    letters = [c for c in text if c.isalpha()]
    return len(letters) >= 3 and all(c.isupper() for c in letters)


def _table_blocks(tbl, ordinals, limits: Limits, filename: str) -> Iterator[Block]:
    """One block per row: cells joined by ' | ', each cell paragraph mapped to its own w:p."""
    for tr in tbl.iter(_TR):
        if _nearest(tr, _TBL) is not tbl:
            continue  # rows of nested tables are read as part of their cell's text
        text, sources, previous = "", [], None
        for tc in tr.iter(_TC):
            if _nearest(tc, _TR) is not tr or tc is previous:
                continue
            previous = tc
            for p in tc.iter(_P):  # nested tables' paragraphs included, in order
                piece = "".join(t for _, t in paragraph_runs(p))
                if not piece.strip():
                    continue
                if text:
                    text += " | "
                sources.append(SourceRef(len(text), len(text) + len(piece), ordinals[p]))
                text += piece
        _check_length(text, limits, filename)
        if text.strip():
            yield Block(text=text, sources=tuple(sources), style="Table", table_row=True)


def _nearest(element, tag: str):
    parent = element.getparent()
    while parent is not None and parent.tag != tag:
        parent = parent.getparent()
    return parent


def _check_length(text: str, limits: Limits, filename: str) -> None:
    if len(text) > limits.max_paragraph_chars:
        raise DocumentTooLarge(
            f"'{filename}' has a paragraph of {len(text):,} characters; the limit is "
            f"{limits.max_paragraph_chars:,}. Split it or remove pasted data."
        )


def _outline_level(p) -> int | None:
    value = _val(p.find(_OUTLINE_PATH))
    if value is None or not value.isdigit() or int(value) >= 9:
        return None
    return int(value) + 1


def _val(element) -> str | None:
    return None if element is None else element.get(_VAL)


def _run_flag(r, tag: str, styles: _StyleBook, paragraph_style: _Style) -> bool:
    """Bold/caps as Word shows it: the run's own setting, else its character style, else the paragraph's."""
    rpr = r.find(_RPR)
    if rpr is not None:
        flag = rpr.find(_RUN_FLAGS[tag])
        if flag is not None:
            return _val(flag) in _TRUE
        char_style = _val(rpr.find(_RSTYLE))
        if char_style and tag in styles.get(char_style).flags:
            return True
    return tag in paragraph_style.flags


@dataclass(frozen=True)
class _Style:
    name: str = "Normal"
    heading_level: int | None = None
    flags: frozenset[str] = frozenset()  # "w:b" / "w:caps" set by the style or its parents
    numbered: bool = False


class _StyleBook:
    """Style facts resolved once, following basedOn chains, so each paragraph is a dict lookup."""

    def __init__(self, styles_element):
        self._raw = {}
        for s in styles_element.findall(qn("w:style")):
            self._raw[s.get(qn("w:styleId"))] = s
        self._default = next(
            (
                sid
                for sid, s in self._raw.items()
                if s.get(qn("w:default")) in ("1", "true") and s.get(qn("w:type")) == "paragraph"
            ),
            None,
        )
        self._cache: dict[str | None, _Style] = {}

    def get(self, style_id: str | None) -> _Style:
        if style_id not in self._cache:
            self._cache[style_id] = self._resolve(style_id or self._default, depth=0)
        return self._cache[style_id]

    def _resolve(self, style_id: str | None, depth: int) -> _Style:
        element = self._raw.get(style_id)
        if element is None or depth > 10:
            return _Style()
        parent = self._resolve(_val(element.find(qn("w:basedOn"))), depth + 1)
        name = _val(element.find(qn("w:name"))) or style_id or "Normal"
        level = parent.heading_level
        match = _HEADING_STYLE.match(name)
        outline = _val(element.find(f"{qn('w:pPr')}/{qn('w:outlineLvl')}"))
        if match:
            level = int(match.group(1))
        elif outline is not None and outline.isdigit() and int(outline) < 9:
            level = int(outline) + 1
        flags = set(parent.flags)
        rpr = element.find(qn("w:rPr"))
        for tag in ("w:b", "w:caps"):
            flag = rpr.find(qn(tag)) if rpr is not None else None
            if flag is not None:
                (flags.add if _val(flag) in _TRUE else flags.discard)(tag)
        numbered = parent.numbered or element.find(f"{qn('w:pPr')}/{qn('w:numPr')}") is not None
        return _Style(name, level, frozenset(flags), numbered)


def _first_title(blocks: list[Block], filename: str) -> str:
    for block in blocks[:5]:
        if block.style.lower() == "title" or (block.heading_level == 1 and len(block.text) < 150):
            return block.text.strip()
    return Path(filename).stem
