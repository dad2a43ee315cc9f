"""Checks are small pure functions registered by name; framework packs configure them.

A section-scoped check is called once per section the rule applies to, so the engine can report
progress section by section; a document-scoped check sees the whole document once (missing
sections, dates across the timeline, root causes versus preventative actions, repeated passages).
Each check declares its parameters with defaults; the default's type is the parameter's type, and
the framework loader rejects unknown names and wrong types.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING, Any, Literal, TypeVar

from server.engines.text import sentences

if TYPE_CHECKING:
    from server.frameworks.model import Framework, Rule
    from server.model import Document, Paragraph, Section, Span

T = TypeVar("T")


@dataclass(frozen=True)
class Hit:
    """One thing a check found. `values` fill the rule's message template."""

    section: Section | None
    span: Span | None = None
    values: dict[str, Any] = field(default_factory=dict)
    key: str = ""  # disambiguates ids of span-less hits (e.g. which section is missing)


@dataclass(frozen=True)
class CheckContext:
    document: Document
    framework: Framework
    rule: Rule
    as_of: date  # "today" for future-date checks; fixed by the caller so output is reproducible
    # Work several rules of one review run share (root-cause labels read by three rules), keyed
    # by what it depends on. The engine passes one dict per run, so nothing outlives the document.
    shared: dict[Any, Any] = field(default_factory=dict, compare=False, repr=False)

    def param(self, name: str) -> Any:
        return self.rule.params.get(name, REGISTRY[self.rule.check].params[name])

    def sentences(self, paragraph: Paragraph) -> tuple[tuple[int, int], ...]:
        """(start, end) of each sentence of the paragraph (`engines.text.sentences`), split once
        per review run: the long-sentence and repeated-passage rules both read every paragraph."""
        text = paragraph.text
        return self.once(("sentences", paragraph.index, text), lambda: tuple(sentences(text)))

    def once(self, key: Any, compute: Callable[[], T]) -> T:
        """`compute()`, or what it returned for the same key earlier in this review run."""
        if key not in self.shared:
            self.shared[key] = compute()
        return self.shared[key]

    def sections(self) -> tuple[Section, ...]:
        """Sections this rule applies to, honouring kind filters and exclusion."""
        return tuple(s for s in self.document.sections if self.covers(s))

    def covers(self, section: Section) -> bool:
        return self.rule.applies_to(section.kind) and (
            self.rule.include_excluded or not section.excluded
        )


SectionCheck = Callable[[CheckContext, "Section"], Iterable[Hit]]
DocumentCheck = Callable[[CheckContext], Iterable[Hit]]


@dataclass(frozen=True)
class CheckSpec:
    name: str
    scope: Literal["section", "document"]
    function: Callable[..., Iterable[Hit]]
    params: dict[str, Any]
    doc: str


REGISTRY: dict[str, CheckSpec] = {}


def section_check(name: str, **params: Any) -> Callable[[SectionCheck], SectionCheck]:
    """Register a check called once per applicable section."""

    def register(function: SectionCheck) -> SectionCheck:
        _register(CheckSpec(name, "section", function, params, (function.__doc__ or "").strip()))
        return function

    return register


def document_check(name: str, **params: Any) -> Callable[[DocumentCheck], DocumentCheck]:
    """Register a check called once per document."""

    def register(function: DocumentCheck) -> DocumentCheck:
        _register(CheckSpec(name, "document", function, params, (function.__doc__ or "").strip()))
        return function

    return register


def _register(spec: CheckSpec) -> None:
    if spec.name in REGISTRY:
        raise ValueError(f"check {spec.name!r} registered twice")
    REGISTRY[spec.name] = spec


def get_check(name: str) -> CheckSpec:
    load_checks()
    return REGISTRY[name]


def load_checks() -> dict[str, CheckSpec]:
    """Import the check modules so their decorators run; idempotent."""
    import server.engines.checks  # noqa: F401

    return REGISTRY
