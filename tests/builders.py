"""Build documents in code so every test input is visible in the test itself."""

from __future__ import annotations

import io
from collections.abc import Iterable
from datetime import date

from server.engines import offline
from server.frameworks import resolve
from server.frameworks.model import Framework
from server.model import Document, Paragraph, Section, SourceRef

AS_OF = date(2026, 11, 28)


def document(*sections: tuple, title: str = "Test write-up", fmt: str = "txt") -> Document:
    """sections: (title, kind, [paragraph texts]) or (title, kind, [texts], excluded_reason)."""
    built: list[Section] = []
    index = 0
    for n, spec in enumerate(sections, start=1):
        heading, kind, texts = spec[0], spec[1], spec[2]
        reason = spec[3] if len(spec) > 3 else ""
        paragraphs = []
        if heading:
            paragraphs.append(_para(index, heading, is_heading=True))
            index += 1
        for text in texts:
            paragraphs.append(_para(index, text))
            index += 1
        built.append(
            Section(
                id=f"s{n}",
                title=heading or "Opening",
                kind=kind,
                paragraphs=tuple(paragraphs),
                excluded=bool(reason),
                exclusion_reason=reason,
            )
        )
    return Document(title=title, format=fmt, sections=tuple(built))  # type: ignore[arg-type]


def _para(index: int, text: str, is_heading: bool = False) -> Paragraph:
    return Paragraph(index, text, (SourceRef(0, len(text), index + 1),), is_heading=is_heading)


def run_rule(doc: Document, rule_id: str, framework: str | Framework = "investigation", **params):
    """Findings of one rule of a pack (optionally with overridden params) on a document."""
    fw = resolve(framework) if isinstance(framework, str) else framework
    rule = fw.rule(rule_id)
    assert rule is not None, f"{fw.id} has no rule {rule_id}"
    from dataclasses import replace

    rule = replace(rule, params={**rule.params, **params}, enabled=True)
    only = replace(fw, rules=(rule,))
    return list(offline.review(doc, only, as_of=AS_OF).findings)


def run_check(
    doc: Document,
    check: str,
    sections: tuple[str, ...] = ("*",),
    message: str = "{quote}",
    **params,
):
    """Findings of one registered check, configured in code, on a document (no pack needed).

    `message` (used as title and description) lets a test see the values a check reports.
    """
    from server.frameworks.model import Rule

    rule = Rule(
        id=f"test_{check}",
        check=check,
        type="important",
        risk="medium",
        confidence=0.5,
        title=message,
        message=message,
        sections=sections,
        include_excluded=params.pop("include_excluded", False),
        params=params,
    )
    fw = _bare_framework(rule)
    return list(offline.review(doc, fw, as_of=AS_OF).findings)


def _bare_framework(rule) -> Framework:
    base = resolve("investigation")
    from dataclasses import replace

    return replace(base, rules=(rule,))


def docx_bytes(paragraphs: Iterable[tuple[str, str | None, bool]]) -> bytes:
    """A .docx from (text, style or None, bold) triples."""
    import docx

    d = docx.Document()
    for text, style, bold in paragraphs:
        p = d.add_paragraph(style=style)
        run = p.add_run(text)
        run.bold = bold or None
    out = io.BytesIO()
    d.save(out)
    return out.getvalue()
