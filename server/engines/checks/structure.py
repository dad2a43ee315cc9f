"""Is everything the framework expects there, and does each section say enough?"""

from __future__ import annotations

from collections.abc import Iterator

from server.documents.headings import normalise
from server.engines.registry import CheckContext, Hit, document_check, section_check
from server.engines.text import word_count
from server.model import Section


@document_check("missing_section")
def missing_section(ctx: CheckContext) -> Iterator[Hit]:
    """Every expected section marked `required` must be present (matched by heading or alias).

    A combined heading ("Root Causes and Preventative Actions") covers every kind it names.
    """
    reviewed = [s for s in ctx.document.sections if not s.excluded]
    present = {s.kind for s in reviewed}
    titles = [f" {normalise(s.title)} " for s in reviewed if s.heading is not None]
    for expected in ctx.framework.sections:
        if not expected.required or expected.id in present or not ctx.rule.applies_to(expected.id):
            continue
        names = [normalise(n) for n in expected.names]
        if not any(f" {name} " in title for title in titles for name in names if name):
            yield Hit(section=None, values={"expected": expected.title}, key=expected.id)


@section_check("thin_section", min_words=25)
def thin_section(ctx: CheckContext, section: Section) -> Iterator[Hit]:
    """A section with no body, or fewer words than `min_words`, cannot meet its checkpoints."""
    words = word_count(section.text)
    if words < ctx.param("min_words"):
        yield Hit(section=section, values={"words": words, "min_words": ctx.param("min_words")})
