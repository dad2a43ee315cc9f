"""Passages pasted twice: the same sentence in two places means one copy was not rewritten.

Sentences are compared after folding case, punctuation and spacing, through a dictionary keyed
by the folded text, so the check stays linear in the length of the document.
"""

from __future__ import annotations

from collections.abc import Iterator

from server.engines.compiled_patterns import regex
from server.engines.registry import CheckContext, Hit, document_check
from server.engines.text import word_count
from server.model import Section, Span

_TOKEN = regex(r"\w+")


@document_check("repeated_passage", min_words=10, max_hits=25)
def repeated_passage(ctx: CheckContext) -> Iterator[Hit]:
    """A sentence of at least `min_words` words seen before: hit on each later copy.

    At most `max_hits` copies are reported: past that the document is templated, and a reviewer
    needs the pattern pointed out, not hundreds of identical findings.
    """
    min_words, budget = ctx.param("min_words"), ctx.param("max_hits")
    first_seen: dict[str, Section] = {}
    for section in ctx.sections():
        for paragraph in section.body:
            for start, end in ctx.sentences(paragraph):
                sentence = paragraph.text[start:end]
                if word_count(sentence) < min_words:
                    continue
                key = " ".join(_TOKEN.findall(sentence.lower()))
                first = first_seen.get(key)
                if first is None:
                    first_seen[key] = section
                    continue
                if budget <= 0:
                    return
                budget -= 1
                span = Span.of(paragraph, start, end)
                yield Hit(section, span, {"first_section": first.title})
