"""Write findings back into the original .docx as real Word comments on the quoted words.

The reviewer's file is re-opened and only gains comments: runs are split where a quote starts or
ends mid-run (each piece keeps the run's formatting), and nothing else in the package changes.
Offsets come from the reader's `SourceRef`s and are checked against the file's own text before a
comment is placed, so a changed file gets paragraph-level comments rather than misplaced ones.
"""

from __future__ import annotations

import copy
import io
import logging
import re
import zipfile
from collections.abc import Mapping, Sequence
from hashlib import sha256

import docx
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.text.run import Run

from server.auth.identity import initials
from server.documents.docx_text import body_paragraphs, paragraph_runs, run_text
from server.errors import UnsupportedDocument
from server.model import Document, Finding, Paragraph, Span

log = logging.getLogger(__name__)

SIGNATURE = "AI-Prism"
NOT_DOCX = "Only .docx documents can be annotated; export the report instead"

_W_RPR = qn("w:rPr")
_XML_SPACE = qn("xml:space")
_MARKER_TAGS = (qn("w:commentRangeStart"), qn("w:commentRangeEnd"), qn("w:commentReference"))
_MARKER_IDS = re.compile(rb"<w:comment(?:RangeStart|RangeEnd|Reference)\b[^>]*?\bw:id=\"(\d+)\"")
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_MAX_ID = 2**31 - 1

# A w:r element and where its text sits in its paragraph's text: [start, end).
_Located = tuple[object, int, int]


def annotate_docx(
    source: bytes,
    document: Document,
    findings: Sequence[Finding],
    author: str = SIGNATURE,
    texts: Mapping[str, str] | None = None,
    authors: Mapping[str, str] | None = None,
) -> bytes:
    """The original .docx with one Word comment per finding, anchored on its quote.

    `texts` maps a finding id to the reviewer's edited wording, used instead of its description;
    `authors` maps it to the reviewer who accepted it, the comment's author (else `author`).
    """
    if document.format != "docx":
        raise UnsupportedDocument(f"{NOT_DOCX} (this document is a .{document.format}).")
    word = _open(source)
    if not findings:
        return source
    if document.sha256 and sha256(source).hexdigest() != document.sha256:
        log.warning(
            "annotating a file that differs from the one reviewed; every quote is re-checked "
            "and comments whose quote moved are placed on the whole paragraph"
        )
    annotator = _Annotator(word, document)
    for finding in findings:
        edited = texts.get(finding.id) if texts is not None else None
        by = (authors or {}).get(finding.id) or author
        annotator.add(finding, finding.description if edited is None else edited, by)
    out = io.BytesIO()
    word.save(out)
    return out.getvalue()


def comment_lines(finding: Finding, description: str, signature: str = SIGNATURE) -> list[str]:
    """The comment's paragraphs: a headline, then what a reader of the comment needs to act."""
    lines = [f"[{finding.type.upper()} · {finding.risk} risk] {finding.title}"]
    lines += [line for line in description.splitlines() if line.strip()]
    if finding.suggestion.strip():
        lines.append(f"Suggestion: {finding.suggestion.strip()}")
    questions = [q.strip() for q in finding.questions if q.strip()]
    if questions:
        lines.append("Questions:")
        lines += questions
    if finding.checkpoints:
        lines.append(f"Checkpoints: {', '.join(finding.checkpoints)}")
    basis = f" ({finding.confidence_basis})" if finding.confidence_basis else ""
    lines.append(
        f"Confidence: {finding.shown_confidence:.2f}{basis} · rule {finding.rule} · {signature}"
    )
    return [_NOT_XML.sub("", line) for line in lines]


def _open(source: bytes):
    try:
        with zipfile.ZipFile(io.BytesIO(source)) as archive:
            names = set(archive.namelist())
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise UnsupportedDocument(f"{NOT_DOCX} (the file is not a .docx package).") from exc
    if "word/document.xml" not in names:
        raise UnsupportedDocument(f"{NOT_DOCX} (the package has no Word document body).")
    try:
        return docx.Document(io.BytesIO(source))
    except Exception as exc:  # python-docx raises many types on foreign or broken packages
        raise UnsupportedDocument(f"{NOT_DOCX} ({exc}).") from exc


class _Annotator:
    """Places comments on one opened file; the w:p index is built once for all findings."""

    def __init__(self, word, document: Document):
        self.word = word
        self.body = body_paragraphs(word.element.body)
        self.paragraphs = document.paragraphs
        self.sections = {s.id: s for s in document.sections}
        self.used = _used_comment_ids(word)
        self._title: Paragraph | None = None

    def add(self, finding: Finding, description: str, author: str) -> None:
        first, last = self._anchor(finding)
        author = _NOT_XML.sub("", author)
        comment = self.word.comments.add_comment(text="", author=author, initials=initials(author))
        comment_id = comment.comment_id
        if comment_id in self.used:
            # python-docx numbers from comments.xml alone; a stray marker may hold this id.
            comment_id = _fresh_id(self.used)
            comment._comment_elm.id = comment_id
        self.used.add(comment_id)
        lines = comment_lines(finding, description)
        comment.paragraphs[0].add_run(lines[0]).bold = True
        for line in lines[1:]:
            comment.add_paragraph(line)
        Run(first, self.word).mark_comment_range(Run(last, self.word), comment_id)

    def _anchor(self, finding: Finding) -> tuple[object, object]:
        span = finding.span
        if span is not None:
            exact = self._exact(finding, span)
            if exact is not None:
                return exact
            if 0 <= span.paragraph < len(self.paragraphs):
                whole = self._whole(self.paragraphs[span.paragraph])
                if whole is not None:
                    return whole
        section = self.sections.get(finding.section_id) if finding.section_id else None
        if section is not None:
            for paragraph in section.paragraphs:  # the heading first, when there is one
                whole = self._whole(paragraph)
                if whole is not None:
                    return whole
        return self._title_anchor()

    def _exact(self, finding: Finding, span: Span) -> tuple[object, object] | None:
        """The first and last run of exactly the quoted text, split out of their runs."""
        where = f"finding {finding.id} ({finding.rule}), paragraph {span.paragraph}"
        where += f" [{span.start}:{span.end}]"
        if not 0 <= span.paragraph < len(self.paragraphs):
            log.warning("%s: no such paragraph; the comment goes on its section", where)
            return None
        paragraph = self.paragraphs[span.paragraph]
        if span.end <= span.start or paragraph.text[span.start : span.end] != span.quote:
            log.warning(
                "%s: the quote is not at these offsets; commenting the whole paragraph", where
            )
            return None
        pieces = []
        for ref in paragraph.sources:
            lo, hi = max(span.start, ref.start), min(span.end, ref.end)
            if lo >= hi:
                continue
            if not 0 <= ref.ref < len(self.body):
                log.warning(
                    "%s: the file has no paragraph %d; commenting the whole paragraph",
                    where,
                    ref.ref,
                )
                return None
            p = self.body[ref.ref]
            found = "".join(text for _, text in paragraph_runs(p))[lo - ref.start : hi - ref.start]
            if found != span.quote[lo - span.start : hi - span.start]:
                log.warning(
                    "%s: the file's text differs from the quote; commenting the whole paragraph",
                    where,
                )
                return None
            pieces.append((p, lo - ref.start, hi - ref.start))
        if not pieces:
            log.warning(
                "%s: the quote covers no text of the file; commenting the whole paragraph", where
            )
            return None
        if len(pieces) == 1:
            return _cut(*pieces[0])
        return _cut(*pieces[0])[0], _cut(*pieces[-1])[1]

    def _whole(self, paragraph: Paragraph) -> tuple[object, object] | None:
        """First and last run with text across all of a paragraph's source w:p's."""
        located = [
            run
            for ref in paragraph.sources
            if 0 <= ref.ref < len(self.body)
            for run in _located_runs(self.body[ref.ref])
        ]
        if not located:
            return None
        return located[0][0], located[-1][0]

    def _title_anchor(self) -> tuple[object, object]:
        """The first non-empty paragraph: where a comment about the whole document belongs."""
        if self._title is not None:
            whole = self._whole(self._title)
            if whole is not None:
                return whole
        for paragraph in self.paragraphs:
            if paragraph.text.strip():
                whole = self._whole(paragraph)
                if whole is not None:
                    self._title = paragraph
                    return whole
        for p in self.body:  # the model does not match this file at all
            located = _located_runs(p)
            if located:
                return located[0][0], located[-1][0]
        raise UnsupportedDocument("The document has no text to attach comments to.")


def _used_comment_ids(word) -> set[int]:
    """Ids held by comments.xml and by any comment marker, stray ones included, in any part."""
    used = {comment.comment_id for comment in word.comments}
    for marker in word.element.body.iter(*_MARKER_TAGS):
        value = marker.get(qn("w:id"))
        if value is not None and value.isdigit():
            used.add(int(value))
    for part in word.part.package.iter_parts():
        if part is not word.part and part.content_type.endswith("+xml"):
            used.update(int(value) for value in _MARKER_IDS.findall(part.blob))
    return used


def _fresh_id(used: set[int]) -> int:
    candidate = max(used, default=-1) + 1
    if candidate <= _MAX_ID:
        return candidate
    return next(n for n in range(len(used) + 1) if n not in used)


def _located_runs(p) -> list[_Located]:
    located, position = [], 0
    for r, text in paragraph_runs(p):
        if text:
            located.append((r, position, position + len(text)))
            position += len(text)
    return located


def _cut(p, start: int, end: int) -> tuple[object, object]:
    """Split runs of `p` so that [start, end) of its text is whole runs; return first and last."""
    located = _located_runs(p)
    r, r_start, r_end = next(run for run in located if run[1] < end <= run[2])
    if end < r_end:
        _split(r, end - r_start)
    last = r
    r, r_start, _ = next(run for run in located if run[1] <= start < run[2])
    if start > r_start:
        right = _split(r, start - r_start)
        if last is r:
            last = right
        r = right
    return r, last


def _split(r, at: int):
    """Cut run `r` after `at` characters of its text: `r` keeps the left, a copy the right."""
    right = OxmlElement("w:r")
    for key, value in r.attrib.items():
        right.set(key, value)
    rpr = r.find(_W_RPR)
    if rpr is not None:
        right.append(copy.deepcopy(rpr))
    position = 0
    for child in list(r):
        if child.tag == _W_RPR:
            continue
        if position >= at:
            right.append(child)  # moves it
            continue
        length = len(run_text((child,)))
        if position + length <= at:
            position += length
            continue
        # Only a w:t holds more than one character.
        keep = at - position
        tail = OxmlElement("w:t")
        for key, value in child.attrib.items():
            tail.set(key, value)
        tail.text = child.text[keep:]
        child.text = child.text[:keep]
        for t in (child, tail):
            if t.text != t.text.strip():
                t.set(_XML_SPACE, "preserve")
        right.append(tail)
        position = at
    r.addnext(right)
    return right
