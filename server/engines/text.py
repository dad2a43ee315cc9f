"""Sentence and word boundaries with character offsets, so every finding can quote exact text."""

from __future__ import annotations

from collections.abc import Iterator

from server.engines.compiled_patterns import regex

# A sentence ends at . ! or ? followed by space and an upper-case letter, digit or quote, or at
# the end of the paragraph. Common abbreviations do not end a sentence.
_ABBREVIATIONS = {
    "e.g",
    "i.e",
    "etc",
    "vs",
    "mr",
    "mrs",
    "ms",
    "dr",
    "no",
    "approx",
    "inc",
    "ltd",
    "st",
    "jr",
    "sr",
    "fig",
    "cf",
}
_BOUNDARY = regex(r"[.!?]+[\"')\]]*\s+(?=[A-Z0-9\"'(\[])")
WORD = regex(r"[A-Za-z][A-Za-z'’-]*[A-Za-z]|[A-Za-z]")


def sentences(text: str) -> Iterator[tuple[int, int]]:
    """Yield (start, end) of each sentence, trimmed of surrounding whitespace."""
    start = 0
    for match in _BOUNDARY.finditer(text):
        before = text[start : match.start()].rsplit(None, 1)
        last_word = before[-1].lower().rstrip(".") if before else ""
        if last_word in _ABBREVIATIONS or (len(last_word) == 1 and last_word.isalpha()):
            continue
        end = match.end()
        yield from _trimmed(text, start, end)
        start = end
    yield from _trimmed(text, start, len(text))


def _trimmed(text: str, start: int, end: int) -> Iterator[tuple[int, int]]:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    if end > start:
        yield start, end


def words(text: str) -> list[str]:
    return WORD.findall(text)


def word_count(text: str) -> int:
    return len(text.split())
