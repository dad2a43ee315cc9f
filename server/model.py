"""The plain values that flow from ingest to export.

Every step hands the next one of these frozen dataclasses; nothing reaches back into an earlier
step. `to_dict` methods give the JSON shape used by the CLI, the API and the stores.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from functools import cached_property
from typing import Literal

FindingType = Literal["critical", "important", "suggestion", "positive"]
Risk = Literal["high", "medium", "low"]
FINDING_TYPES: tuple[str, ...] = ("critical", "important", "suggestion", "positive")
RISKS: tuple[str, ...] = ("high", "medium", "low")
# Worst first: used to sort findings and to decide the CLI exit code.
SEVERITY_ORDER = {"critical": 0, "important": 1, "suggestion": 2, "positive": 3}


@dataclass(frozen=True)
class SourceRef:
    """Maps text offsets [start, end) of a paragraph back to one place in the source file.

    `ref` is the docx body paragraph ordinal (every `w:p` under `w:body`, in document order,
    table cells included), the PDF page number (1-based) or the md/txt line number (1-based).
    A table row is one paragraph made of several cells, so it carries one SourceRef per cell.
    For .docx, `text[start:end]` is the whole text of that `w:p`: readers never trim it, which is
    what lets the exporter turn a span back into run offsets.
    """

    start: int
    end: int
    ref: int


@dataclass(frozen=True)
class Block:
    """One paragraph as a reader found it, before sections are known."""

    text: str
    sources: tuple[SourceRef, ...]
    style: str = ""
    heading_level: int | None = None  # from a heading style, outline level, md '#', pdf font size
    bold: bool = False  # every visible character is bold
    all_caps: bool = False  # written or formatted in capitals
    list_item: bool = False
    table_row: bool = False


@dataclass(frozen=True)
class Paragraph:
    index: int  # position in the whole document, 0-based; what `Span.paragraph` points at
    text: str
    sources: tuple[SourceRef, ...]
    style: str = ""
    list_item: bool = False
    table_row: bool = False
    is_heading: bool = False
    excluded: bool = False  # e.g. a raw log block inside a section: kept but not reviewed

    def to_dict(self) -> dict:
        return {
            "index": self.index,
            "text": self.text,
            "style": self.style,
            "list_item": self.list_item,
            "table_row": self.table_row,
            "heading": self.is_heading,
            "excluded": self.excluded,
            "sources": [[r.start, r.end, r.ref] for r in self.sources],
        }

    @classmethod
    def from_dict(cls, data: dict) -> Paragraph:
        return cls(
            index=data["index"],
            text=data["text"],
            sources=tuple(SourceRef(*ref) for ref in data.get("sources", ())),
            style=data.get("style", ""),
            list_item=data.get("list_item", False),
            table_row=data.get("table_row", False),
            is_heading=data.get("heading", False),
            excluded=data.get("excluded", False),
        )


@dataclass(frozen=True)
class Section:
    id: str
    title: str
    kind: str  # an expected-section id of the framework, or "other"
    paragraphs: tuple[Paragraph, ...]  # the heading paragraph (if any) first
    excluded: bool = False
    exclusion_reason: str = ""  # "email thread", "signature", "raw log", or a framework exclusion

    @property
    def heading(self) -> Paragraph | None:
        if self.paragraphs and self.paragraphs[0].is_heading:
            return self.paragraphs[0]
        return None

    @cached_property
    def body(self) -> tuple[Paragraph, ...]:
        """The paragraphs under the heading that are up for review."""
        return tuple(p for p in self.paragraphs if not p.is_heading and not p.excluded)

    @cached_property
    def text(self) -> str:
        return "\n".join(p.text for p in self.body)

    def locate(self, quote: str) -> Span | None:
        """Where `quote` first appears in a paragraph that is not excluded (headings count: a
        reviewer may comment on one)."""
        for para in self.paragraphs:
            at = -1 if para.excluded else para.text.find(quote)
            if at >= 0:
                return Span.of(para, at, at + len(quote))
        return None

    def to_dict(self) -> dict:
        return {
            "id": self.id,
            "title": self.title,
            "kind": self.kind,
            "excluded": self.excluded,
            "exclusion_reason": self.exclusion_reason,
            "paragraphs": [p.to_dict() for p in self.paragraphs],
        }

    @classmethod
    def from_dict(cls, data: dict) -> Section:
        return cls(
            id=data["id"],
            title=data["title"],
            kind=data["kind"],
            paragraphs=tuple(Paragraph.from_dict(p) for p in data["paragraphs"]),
            excluded=data.get("excluded", False),
            exclusion_reason=data.get("exclusion_reason", ""),
        )


@dataclass(frozen=True)
class Document:
    title: str
    format: Literal["docx", "pdf", "md", "txt"]
    sections: tuple[Section, ...]
    sha256: str = ""

    @cached_property
    def paragraphs(self) -> tuple[Paragraph, ...]:
        return tuple(p for s in self.sections for p in s.paragraphs)

    def section(self, section_id: str) -> Section | None:
        return next((s for s in self.sections if s.id == section_id), None)

    def paragraph(self, index: int) -> Paragraph:
        return self.paragraphs[index]

    def sections_of_kind(self, *kinds: str) -> tuple[Section, ...]:
        return tuple(s for s in self.sections if s.kind in kinds and not s.excluded)

    @property
    def word_count(self) -> int:
        return sum(len(p.text.split()) for p in self.paragraphs)

    def to_dict(self) -> dict:
        return {
            "title": self.title,
            "format": self.format,
            "sections": [s.to_dict() for s in self.sections],
        }

    @classmethod
    def from_dict(cls, data: dict) -> Document:
        return cls(
            title=data["title"],
            format=data["format"],
            sections=tuple(Section.from_dict(s) for s in data["sections"]),
            sha256=data.get("sha256", ""),
        )


@dataclass(frozen=True)
class Span:
    """Exact text a finding is about: `quote == paragraph.text[start:end]`."""

    paragraph: int
    start: int
    end: int
    quote: str

    def to_dict(self) -> dict:
        return {
            "paragraph": self.paragraph,
            "start": self.start,
            "end": self.end,
            "quote": self.quote,
        }

    @classmethod
    def of(cls, paragraph: Paragraph, start: int, end: int) -> Span:
        return cls(paragraph.index, start, end, paragraph.text[start:end])


@dataclass(frozen=True)
class Learned:
    """A rule's confidence as reviewers' decisions have moved it, and what it rests on
    (server/learning.py)."""

    confidence: float
    accepted: int
    decided: int

    def to_dict(self) -> dict[str, float | int]:
        return {"confidence": self.confidence, "accepted": self.accepted, "decided": self.decided}

    @classmethod
    def from_dict(cls, data: dict) -> Learned:
        return cls(float(data["confidence"]), int(data["accepted"]), int(data["decided"]))


@dataclass(frozen=True)
class Finding:
    id: str
    engine: str
    rule: str
    type: FindingType
    checkpoints: tuple[str, ...]
    risk: Risk
    confidence: float
    title: str
    description: str
    suggestion: str
    questions: tuple[str, ...]
    section_id: str | None
    span: Span | None
    learned: Learned | None = None  # beside `confidence`, which stays the configured value

    @property
    def shown_confidence(self) -> float:
        """What the reviewer is shown: the learned confidence once the rule has decisions."""
        return self.learned.confidence if self.learned else self.confidence

    @property
    def confidence_basis(self) -> str:
        """On what the shown confidence rests, once it is learned: "90% configured · accepted 3 of 20"."""
        if not self.learned:
            return ""
        learned = self.learned
        return (
            f"{round(self.confidence * 100)}% configured · "
            f"accepted {learned.accepted} of {learned.decided}"
        )

    def to_dict(self) -> dict:
        data = {
            "id": self.id,
            "engine": self.engine,
            "rule": self.rule,
            "type": self.type,
            "checkpoints": list(self.checkpoints),
            "risk": self.risk,
            "confidence": self.confidence,
            "title": self.title,
            "description": self.description,
            "suggestion": self.suggestion,
            "questions": list(self.questions),
            "section_id": self.section_id,
            "span": self.span.to_dict() if self.span else None,
        }
        if self.learned:
            data["learned"] = self.learned.to_dict()
        return data

    @classmethod
    def from_dict(cls, data: dict) -> Finding:
        span, learned = data.get("span"), data.get("learned")
        return cls(
            id=data["id"],
            engine=data["engine"],
            rule=data["rule"],
            type=data["type"],
            checkpoints=tuple(data.get("checkpoints", ())),
            risk=data["risk"],
            confidence=float(data["confidence"]),
            title=data["title"],
            description=data.get("description", ""),
            suggestion=data.get("suggestion", ""),
            questions=tuple(data.get("questions", ())),
            section_id=data.get("section_id"),
            span=Span(**span) if span else None,
            learned=Learned.from_dict(learned) if learned else None,
        )


def finding_id(rule: str, section_id: str | None, span: Span | None, salt: str = "") -> str:
    """Stable id: the same rule on the same text of the same input always gives the same id."""
    where = f"{span.paragraph}:{span.start}:{span.end}:{span.quote}" if span else ""
    digest = hashlib.sha1(f"{rule}|{section_id}|{where}|{salt}".encode(), usedforsecurity=False)
    return "F" + digest.hexdigest()[:12]


@dataclass(frozen=True)
class ReviewResult:
    """What one engine run over one document produced."""

    document: Document
    framework_id: str
    framework_version: str
    findings: tuple[Finding, ...] = field(default_factory=tuple)

    def summary(self) -> dict:
        by_type = {t: 0 for t in FINDING_TYPES}
        by_risk = {r: 0 for r in RISKS}
        for f in self.findings:
            by_type[f.type] += 1
            by_risk[f.risk] += 1
        return {
            "findings": len(self.findings),
            "by_type": by_type,
            "by_risk": by_risk,
            "sections": len(self.document.sections),
            "sections_reviewed": sum(1 for s in self.document.sections if not s.excluded),
            "words": self.document.word_count,
        }
