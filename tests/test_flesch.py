"""The readability scores are textstat 0.7.8's, to the last bit, without importing textstat."""

from __future__ import annotations

import io
import json
import random
import subprocess
import sys

import docx
import textstat
from hypothesis import given, settings
from hypothesis import strategies as st

from bench.core import SEED, build_docx
from server.engines import flesch
from server.samples import SHORT_WRITE_UP_MD, messy_investigation_docx

STOCK = """
import json, sys, textstat
texts = json.loads(sys.argv[1])
print(json.dumps([
    [textstat.syllable_count(t), textstat.flesch_reading_ease(t), textstat.flesch_kincaid_grade(t)]
    for t in texts
]))
"""


def _ours(text: str) -> list:
    syllables = flesch._syllables(word.lower() for word in flesch._words(text))
    return [syllables, *flesch.scores(text)]


def test_scores_are_the_ones_textstat_gives_on_written_text():
    texts = [
        SHORT_WRITE_UP_MD.replace("#", ""),
        "The reconciliation was indefensibly procrastinated. Refundz were xyzzyfied.",
        _text(docx.Document(io.BytesIO(messy_investigation_docx()))),
        "",
        "Don't re-run M-4821's £1,200 payout on 03/04/2026; Café owner Zoë O’Neill said “no”.",
        "RLS RLS rls 0134 0134 ab-cd ab-cd. X. Y z. " * 20,
        "!!! ... ??? ' '' 'tis we'd they'll it's",
        _text(build_docx(random.Random(SEED), parts=1)),
    ]
    stock = subprocess.run(  # a fresh interpreter: textstat reading the dictionary itself
        [sys.executable, "-c", STOCK, json.dumps(texts)],
        capture_output=True,
        text=True,
        check=True,
    )
    assert [_ours(t) for t in texts] == json.loads(stock.stdout)


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.sampled_from([*"abcdeiouy ABC'’-.!?,;:\n\t0123456789éß", "the ", "ly", "tion", "’s"]),
        max_size=200,
    ).map("".join)
)
def test_scores_are_the_ones_textstat_gives_on_any_text(text):
    stock = [
        textstat.syllable_count(text),
        textstat.flesch_reading_ease(text),
        textstat.flesch_kincaid_grade(text),
    ]
    assert _ours(text) == stock


def _text(document) -> str:
    return " ".join(p.text for p in document.paragraphs)
