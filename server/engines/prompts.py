"""What the AI engine tells the model: a system prompt and tool schemas built from the framework.

The framework is the only place that knows the domain, so everything domain-specific here comes
from its checkpoints (`good` and `guidance`). The system prompt is the same for every section of a
review; only the user message changes. Paragraphs are sent with their document-wide index so the
model can say where a quote came from.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from server.engines.providers.base import Tool
from server.frameworks.model import Framework
from server.model import FINDING_TYPES, RISKS, Document, Section
from server.review import ReviewState

FINDINGS_TOOL = "report_findings"
ANSWER_TOOL = "answer"
MAX_QUOTE_CHARS = 300
MAX_FINDINGS_PER_SECTION = 8
MAX_EXAMPLES = 4  # the team's past decisions shown with a section (server/learning.py)
MAX_EXAMPLES_CHARS = 1200


def review_system_prompt(
    framework: Framework,
    document: Document | None = None,
    guidance: str = "",
    compact: bool = False,
) -> str:
    """The same for every section of a document, so only the user turn changes per call.

    `compact` leaves out each checkpoint's review instructions (about half the prompt): local
    models run with small contexts (Ollama's default is 4,096 tokens) and read a prompt at some
    100 tokens a second on a laptop, so they get what good looks like and no more.
    """
    outline = ""
    if document is not None:
        titles = "\n".join(
            f"- {s.title}" + (" (not reviewed)" if s.excluded else "") for s in document.sections
        )
        outline = f'\nThe document "{document.title}" has these sections:\n{titles}\n'
    checkpoints = "\n\n".join(
        f'<checkpoint id="{c.id}" name="{c.name}">\n'
        f"What good looks like: {c.good}\n"
        + ("" if compact else f"How to review it: {c.guidance}\n")
        + "</checkpoint>"
        for c in framework.checkpoints
    )
    if guidance.strip():
        outline += (
            "\nThe team's own guidance for these reviews (follow it where it applies):\n"
            f"<guidance>\n{guidance.strip()}\n</guidance>\n"
        )
    return f"""\
You are a careful reviewer of written documents. You review one section at a time of a document \
judged against the framework "{framework.name}": {framework.description}

The framework's checkpoints:

{checkpoints}
{outline}
How to answer:
- Review only the section you are given. Other sections exist; do not report something as missing \
if it normally belongs in another section.
- Report each finding by calling the {FINDINGS_TOOL} tool once, with every finding in one list. If \
the section has no issue worth a reviewer's time, call it with an empty list. Report at most \
{MAX_FINDINGS_PER_SECTION} findings, the most important first.
- type: "critical" (the write-up is wrong or misleading without a fix), "important" (a reviewer \
would send it back), "suggestion" (would make it better), "positive" (a real strength worth keeping).
- risk: "high", "medium" or "low": how much harm the problem could do if left as it is.
- checkpoints: the ids of the checkpoints the finding is about, from the list above; an empty list \
if none fits.
- confidence: a number from 0 to 1: how sure you are that a careful human reviewer would agree.
- quote: when the finding is about specific words, copy them exactly, character for character, \
from one paragraph (at most {MAX_QUOTE_CHARS} characters, no ellipsis, without the paragraph \
tags) and give that paragraph's number in paragraph. Leave quote out when the finding is about \
something missing.
- Base every finding on the text. Do not invent facts, names, numbers or dates.
"""


def section_message(
    section: Section, framework: Framework, examples: Sequence[Mapping[str, Any]] = ()
) -> str:
    """The user turn for one section: its title, its kind, the team's past decisions on its
    checkpoints, and its reviewable paragraphs."""
    expected = framework.expected(section.kind)
    kind = expected.title if expected else "not one the framework expects"
    usual = [c.id for c in framework.checkpoints if section.kind in c.sections]
    lines = [
        f"Section title: {section.title}",
        f"Section kind: {kind}",
    ]
    if usual:
        lines.append(f"Checkpoints usually met in this kind of section: {', '.join(usual)}")
    lines.extend(_examples(examples, set(usual)))
    lines.append("")
    lines.append("<section>")
    lines.extend(f'<p n="{p.index}">{p.text}</p>' for p in section.body if p.text.strip())
    lines.append("</section>")
    lines.append("")
    lines.append(f"Review this section and call {FINDINGS_TOOL}.")
    return "\n".join(lines)


def _examples(examples: Sequence[Mapping[str, Any]], checkpoints: set[str]) -> list[str]:
    """Up to MAX_EXAMPLES of the team's decisions on these checkpoints, newest first (as given),
    within MAX_EXAMPLES_CHARS: what the reviewers kept and what they turned down."""
    lines: list[str] = []
    used = 0
    for e in examples:
        if len(lines) == MAX_EXAMPLES or not checkpoints.intersection(e.get("checkpoints") or ()):
            continue
        verdict = "accepted" if e["action"] == "accept" else "rejected"
        line = f"- {verdict}: [{e['type']}] {e['title']}"
        line += f' (quoting "{e["quote"]}")' if e.get("quote") else ""
        line += f' (the reviewer wrote instead: "{e["text"]}")' if e.get("text") else ""
        if used + len(line) > MAX_EXAMPLES_CHARS:
            break
        lines.append(line)
        used += len(line)
    if not lines:
        return []
    return [
        "The team's reviewers decided these findings in earlier reviews; report what they "
        "accept and leave out what they reject:",
        *lines,
    ]


def findings_schema(framework: Framework) -> dict[str, Any]:
    """JSON schema of the tool input: the Finding fields a model may fill in."""
    checkpoint = {"type": "string"}
    if framework.checkpoints:
        checkpoint["enum"] = [c.id for c in framework.checkpoints]  # type: ignore[assignment]
    finding = {
        "type": "object",
        "properties": {
            "title": {
                "type": "string",
                "maxLength": 150,
                "description": "One line a reviewer scans.",
            },
            "type": {"type": "string", "enum": list(FINDING_TYPES)},
            "risk": {"type": "string", "enum": list(RISKS)},
            "checkpoints": {"type": "array", "items": checkpoint, "maxItems": 5},
            "confidence": {"type": "number", "minimum": 0, "maximum": 1},
            "description": {
                "type": "string",
                "maxLength": 1000,
                "description": "What is wrong or good, and why.",
            },
            "suggestion": {
                "type": "string",
                "maxLength": 1000,
                "description": "How to fix it; may be empty.",
            },
            "questions": {
                "type": "array",
                "items": {"type": "string", "maxLength": 300},
                "maxItems": 5,
                "description": "Questions the author should answer.",
            },
            "quote": {
                "type": "string",
                "maxLength": MAX_QUOTE_CHARS,
                "description": "Exact text from one paragraph of the section.",
            },
            "paragraph": {
                "type": "integer",
                "description": "The n of the paragraph the quote comes from.",
            },
        },
        "required": ["title", "type", "risk", "checkpoints", "confidence", "description"],
    }
    return {
        "type": "object",
        # the bounds keep a small model, whose server enforces them as a grammar, from repeating
        # findings until it runs out of tokens; validation does not depend on them
        "properties": {
            "findings": {"type": "array", "items": finding, "maxItems": MAX_FINDINGS_PER_SECTION}
        },
        "required": ["findings"],
    }


def findings_tool(framework: Framework) -> Tool:
    return Tool(
        FINDINGS_TOOL,
        "Report the findings of the review of one section.",
        findings_schema(framework),
    )


ANSWER_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "answer": {"type": "string", "description": "The answer, in plain text."},
        "citations": {
            "type": "array",
            "items": {"type": "string"},
            "description": "Ids of the sections the answer relies on.",
        },
    },
    "required": ["answer", "citations"],
}


def answer_tool() -> Tool:
    return Tool(ANSWER_TOOL, "Answer the reviewer's question.", ANSWER_SCHEMA)


def chat_system_prompt(framework: Framework, document_context: str, findings_context: str) -> str:
    checkpoints = "\n".join(f"- {c.id} ({c.name}): {c.good}" for c in framework.checkpoints)
    return f"""\
You help a reviewer who is reviewing a document against the framework "{framework.name}". Answer \
the reviewer's questions about the document, its findings and the framework, briefly and plainly.

Answer only from the document, the findings and the framework below. If they do not say, answer \
that the document does not say; never guess facts, names, numbers or dates. Call the \
{ANSWER_TOOL} tool with your answer and the ids of the sections you relied on (the id attribute \
of each <section>).

The framework's checkpoints:
{checkpoints}

<document>
{document_context}
</document>

<findings>
{findings_context}
</findings>
"""


def document_context(document: Document, budget: int) -> str:
    """Sections with ids and text, cut to `budget` characters of text in document order."""
    parts = []
    left = budget
    for s in document.sections:
        attrs = f'id="{s.id}" title="{s.title}"'
        if s.excluded:
            attrs += f' excluded="{s.exclusion_reason or "not reviewed"}"'
        text = s.text
        if left <= 0:
            text = "[text left out: the document is longer than the context budget]"
        elif len(text) > left:
            text = text[:left] + " […]"
        left -= len(s.text)
        parts.append(f"<section {attrs}>\n{text}\n</section>")
    return "\n".join(parts)


def findings_context(state: ReviewState, limit: int = 200) -> str:
    lines = []
    for f in state.findings[:limit]:
        decision = (state.decision(f.id) or {}).get("action", "pending")
        where = f"section {f.section_id}" if f.section_id else "whole document"
        lines.append(
            f"- [{f.id}] {f.type}, {f.risk} risk, {where}, {decision}: {f.title} — "
            f"{f.description[:300]}"
        )
    if len(state.findings) > limit:
        lines.append(f"- …and {len(state.findings) - limit} more.")
    return "\n".join(lines) or "(no findings)"
