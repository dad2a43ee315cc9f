"""Is everything the framework expects there, and does each section say enough?"""

from __future__ import annotations

from collections.abc import Iterator

from server.engines.registry import CheckContext, Hit, document_check, section_check
from server.engines.text import word_count
from server.model import Section


@document_check("missing_section")
def missing_section(ctx: CheckContext) -> Iterator[Hit]:
    """Every expected section marked `required` must be present (matched by heading or alias)."""
    present = {s.kind for s in ctx.document.sections if not s.excluded}
    for expected in ctx.framework.sections:
        if expected.required and expected.id not in present and ctx.rule.applies_to(expected.id):
            yield Hit(section=None, values={"expected": expected.title}, key=expected.id)


@section_check("thin_section", min_words=25)
def thin_section(ctx: CheckContext, section: Section) -> Iterator[Hit]:
    """A section with no body, or fewer words than `min_words`, cannot meet its checkpoints."""
    words = word_count(section.text)
    if words < ctx.param("min_words"):
        yield Hit(section=section, values={"words": words, "min_words": ctx.param("min_words")})
