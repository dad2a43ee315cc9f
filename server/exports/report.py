"""A review as something to hand on: a printable HTML report, a CSV for spreadsheets, plain JSON.

All three are pure functions of a `ReviewState`, so the same review always exports the same bytes
(no clock, no randomness). Everything that came from a document or a reviewer is untrusted: the
HTML goes through Jinja2 with autoescape on, and CSV cells that a spreadsheet would read as a
formula are defused.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

import jinja2

from server.auth.identity import Actor
from server.frameworks.model import Framework
from server.model import FINDING_TYPES, RISKS, Finding, Section
from server.review import ReviewState

TEMPLATES = Path(__file__).parent / "templates"

CSV_COLUMNS = (
    "id",
    "section",
    "type",
    "risk",
    "confidence",
    "confidence_basis",
    "rule",
    "engine",
    "checkpoints",
    "title",
    "description",
    "edited_text",
    "suggestion",
    "questions",
    "quote",
    "paragraph",
    "start",
    "end",
    "decision",
    "decided_at",
    "decided_by",
    "decided_by_email",
    "custom",
    "carried_from_version",
)
# What Excel, LibreOffice and Google Sheets treat as the start of a formula.
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_DECISION_LABELS = {"accept": "accepted", "reject": "rejected"}


@dataclass(frozen=True)
class _FindingView:
    finding: Finding
    checkpoints: tuple[str, ...]  # display names
    decision: str  # accepted | rejected | pending
    decided_at: str
    decided_by: (
        str  # the reviewer's name, "" when nobody in particular (shared token, older reviews)
    )
    decided_by_email: str
    edited_text: str | None
    custom: bool
    carried_from_version: int | None  # the version where the decision was made, when not this one

    @property
    def confidence(self) -> str:
        shown = f"{round(self.finding.shown_confidence * 100)}%"
        basis = self.finding.confidence_basis
        return f"{shown} ({basis})" if basis else shown


@dataclass(frozen=True)
class _SectionView:
    title: str
    excluded: bool
    exclusion_reason: str
    findings: list[_FindingView] = field(default_factory=list)


def report_html(
    state: ReviewState, framework: Framework | None = None, *, include_rejected: bool = True
) -> str:
    """A self-contained page (inline CSS, no scripts, no external resources) that prints cleanly."""
    views = [_view(state, f, framework) for f in state.findings]
    omitted = sum(1 for v in views if v.decision == "rejected") if not include_rejected else 0
    if not include_rejected:
        views = [v for v in views if v.decision != "rejected"]
    document_level, sections = _group(state, views)
    return (
        _environment()
        .get_template("report.html")
        .render(
            title=state.document.title if state.document else state.filename or state.id,
            state=state,
            framework_name=framework.name if framework else state.framework,
            framework_version=state.framework_version or (framework.version if framework else ""),
            created=_when(state.created_at),
            completed=_when(state.completed_at),
            counts=state.counts(),
            finding_types=FINDING_TYPES,
            risks=RISKS,
            document_level=document_level,
            sections=sections,
            omitted=omitted,
            chat=[_chat_view(entry) for entry in state.chat],
        )
    )


def report_csv(state: ReviewState) -> str:
    """One row per finding, every cell safe to open in a spreadsheet."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=CSV_COLUMNS, lineterminator="\r\n")
    writer.writeheader()
    for finding in state.findings:
        view = _view(state, finding, None)
        span = finding.span
        row = {
            "id": finding.id,
            "section": _section_title(state, finding.section_id),
            "type": finding.type,
            "risk": finding.risk,
            "confidence": f"{finding.shown_confidence:.2f}",
            "confidence_basis": finding.confidence_basis,
            "rule": finding.rule,
            "engine": finding.engine,
            "checkpoints": ";".join(finding.checkpoints),
            "title": finding.title,
            "description": finding.description,
            "edited_text": view.edited_text or "",
            "suggestion": finding.suggestion,
            "questions": " | ".join(finding.questions),
            "quote": span.quote if span else "",
            "paragraph": span.paragraph if span else "",
            "start": span.start if span else "",
            "end": span.end if span else "",
            "decision": view.decision,
            "decided_at": view.decided_at,
            "decided_by": view.decided_by,
            "decided_by_email": view.decided_by_email,
            "custom": "yes" if view.custom else "no",
            "carried_from_version": view.carried_from_version or "",
        }
        writer.writerow({key: _cell(value) for key, value in row.items()})
    return out.getvalue()


def report_json(state: ReviewState) -> dict[str, Any]:
    """The review as plain data; keys always come out in the same order."""
    return {
        "review": {
            "id": state.id,
            "filename": state.filename,
            "framework": state.framework,
            "framework_version": state.framework_version,
            "status": state.status,
            "created_at": state.created_at,
            "completed_at": state.completed_at,
            "created_by": state.created_by,
            "completed_by": state.completed_by,
            "version": state.version,
            "parent_id": state.parent_id,
            "engines": list(state.engines),
            "ai_usage": state.ai_usage,  # which provider and model saw the document, and tokens
        },
        "document": state.document.to_dict() if state.document else None,
        "findings": [
            {**f.to_dict(), "decision": _decision_dict(state, f.id), "custom": f.id in state.custom}
            for f in state.findings
        ],
        "counts": state.counts(),
        "chat": [_chat_entry(entry) for entry in state.chat],
    }


@lru_cache(maxsize=1)
def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["when"] = _when
    return env


def _view(state: ReviewState, finding: Finding, framework: Framework | None) -> _FindingView:
    decision = state.decisions.get(finding.id) or {}
    by = Actor.from_dict(decision.get("by"))
    return _FindingView(
        finding=finding,
        checkpoints=tuple(_checkpoint_name(framework, c) for c in finding.checkpoints),
        decision=_DECISION_LABELS.get(decision.get("action", ""), "pending"),
        decided_at=decision.get("at") or "",
        decided_by=by.label if by else "",
        decided_by_email=by.email if by else "",
        edited_text=decision.get("text") or None,
        custom=finding.id in state.custom,
        carried_from_version=(decision.get("carried_from") or {}).get("version"),
    )


def _group(
    state: ReviewState, views: list[_FindingView]
) -> tuple[list[_FindingView], list[_SectionView]]:
    """Findings per section in document order; span-less ones first within each group.

    A finding whose section is unknown (no document, or a section id the document lacks) goes with
    the document-level ones rather than being dropped.
    """
    sections: tuple[Section, ...] = state.document.sections if state.document else ()
    by_section: dict[str, _SectionView] = {
        s.id: _SectionView(s.title, s.excluded, s.exclusion_reason) for s in sections
    }
    document_level: list[_FindingView] = []
    for view in sorted(views, key=_position):
        target = by_section.get(view.finding.section_id or "")
        (target.findings if target else document_level).append(view)
    return document_level, list(by_section.values())


def _position(view: _FindingView) -> tuple[int, int, int]:
    span = view.finding.span
    return (0, 0, 0) if span is None else (1, span.paragraph, span.start)


def _checkpoint_name(framework: Framework | None, checkpoint_id: str) -> str:
    checkpoint = framework.checkpoint(checkpoint_id) if framework else None
    return checkpoint.name if checkpoint else checkpoint_id


def _section_title(state: ReviewState, section_id: str | None) -> str:
    if not section_id:
        return ""
    section = state.document.section(section_id) if state.document else None
    return section.title if section else section_id


def _decision_dict(state: ReviewState, finding_id: str) -> dict[str, Any] | None:
    decision = state.decisions.get(finding_id)
    if not decision:
        return None
    return {
        "action": decision.get("action"),
        "text": decision.get("text"),
        "at": decision.get("at"),
        "by": decision.get("by"),
        "carried_from": decision.get("carried_from"),
    }


def _chat_entry(entry: dict[str, Any]) -> dict[str, Any]:
    known = ("at", "message", "answer", "citations", "engine")
    ordered = {key: entry.get(key) for key in known}
    ordered.update({key: entry[key] for key in sorted(entry) if key not in known})
    return ordered


def _chat_view(entry: dict[str, Any]) -> dict[str, Any]:
    sources = []
    for citation in entry.get("citations") or ():
        where = citation.get("section") or citation.get("section_id") or "whole document"
        if citation.get("paragraph") is not None:
            where += f" ¶{citation['paragraph']}"
        sources.append(where)
    return {
        "at": _when(entry.get("at")),
        "message": entry.get("message") or "",
        "answer": entry.get("answer") or "",
        "sources": sources,
    }


def _cell(value: object) -> str:
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_FORMULA_STARTS) else text


def _when(value: str | None) -> str:
    """'2026-11-28T09:05:12.345Z' → '2026-11-28 09:05 UTC'; anything unparseable is shown as is."""
    if not value:
        return ""
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return value
    if moment.utcoffset() is not None and not moment.utcoffset():
        return moment.strftime("%Y-%m-%d %H:%M UTC")
    return moment.strftime("%Y-%m-%d %H:%M") + (moment.strftime(" %z") if moment.tzinfo else "")
