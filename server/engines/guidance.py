"""The team's own guidance for the AI engine: the framework pack's `ai_guidance` and an attached
guidelines document, joined and trimmed to a stated budget, sent with every section.

A guidelines document (.docx, .pdf, .md, .txt) is read by the same readers as the documents under
review and kept as text in the store's settings, per framework, so every instance sees it. The
budget keeps a long handbook from crowding the section out of a small model's context; when it
trims, the review says so.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from server.frameworks.model import Framework
from server.model import Document

MAX_STORED_CHARS = 200_000  # what is kept of an attached document; the budget trims further


def setting_key(framework_id: str) -> str:
    return f"guidelines:{framework_id}"


def attached(document: Document, filename: str) -> dict[str, Any]:
    """The stored form of a guidelines document: its text with headings, and where it came from."""
    parts = []
    for section in document.sections:
        if section.title:
            parts.append(section.title)
        parts.extend(p.text for p in section.paragraphs if p.text.strip() and not p.is_heading)
    text = "\n".join(parts).strip()[:MAX_STORED_CHARS]
    return {
        "filename": filename,
        "text": text,
        "chars": len(text),
        "attached_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }


def compose(framework: Framework, stored: dict | None, budget: int) -> tuple[str, str | None]:
    """(guidance text, notice or None): the pack's guidance first, then the attached document's."""
    parts = [framework.ai_guidance.strip()]
    if stored and stored.get("text"):
        parts.append(
            f"From the team's guidelines ({stored.get('filename', 'attached')}):\n{stored['text']}"
        )
    text = "\n\n".join(p for p in parts if p)
    if len(text) <= budget:
        return text, None
    cut = text[:budget]
    end = max(cut.rfind("\n"), cut.rfind(". ") + 1)
    trimmed = cut[:end] if end > budget // 2 else cut
    notice = (
        f"The team's guidance for the AI was trimmed to {len(trimmed):,} of {len(text):,} "
        f"characters (AIPRISM_AI_GUIDANCE_CHARS)."
    )
    return trimmed.rstrip(), notice
