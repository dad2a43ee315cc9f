"""Is the executive summary short, and does it say how things ended?"""

from __future__ import annotations

from collections.abc import Iterator

from server.engines.patterns import any_of
from server.engines.registry import CheckContext, Hit, section_check
from server.engines.text import word_count
from server.model import Section

OUTCOME_PATTERNS = [
    r"\b(?:resolved|mitigated|fixed|restored|closed|completed|recovered|rolled\s+back|reverted)\b",
    r"\broot\s+cause\s+(?:was|is|were|has\s+been)\b",
    r"\bwe\s+(?:found|concluded|determined|confirmed|identified|established)\b",
    r"\boutcomes?\b",
    r"\bresult(?:ed|s)?\b",
    r"\bdecisions?\b|\bdecided\b",
    r"\brecommend(?:s|ed|ation|ations)?\b",
    r"\bimpact(?:s|ed)?\b",
    r"\b\d[\d,.]*\s*(?:k\s+)?(?:customers|accounts|users|merchants|sellers|orders|transactions)\b",
    r"\bactions?\s+(?:were\s+|have\s+been\s+)?(?:taken|agreed)\b",
]


@section_check("summary_too_long", max_words=250)
def summary_too_long(ctx: CheckContext, section: Section) -> Iterator[Hit]:
    """A summary longer than `max_words` words is no longer a summary."""
    words, limit = word_count(section.text), ctx.param("max_words")
    if words > limit:
        yield Hit(section, None, {"words": words, "max_words": limit})


@section_check("summary_no_outcome", outcome_patterns=OUTCOME_PATTERNS)
def summary_no_outcome(ctx: CheckContext, section: Section) -> Iterator[Hit]:
    """A summary that never says how it ended: resolved, what was found, decided or affected.
    An empty section is left to the thin-section rule."""
    text = section.text
    if text.strip() and not any_of(ctx.param("outcome_patterns")).search(text):
        yield Hit(section, None)
