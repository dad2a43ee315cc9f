"""Word choice a reviewer would query: vague amounts, hedges, hyperbole, chat, passives.

An investigation write-up is evidence for a decision; each of these weakens it in a way a reader
can point at, so every hit quotes the exact words. Term lists are plain words and phrases (not
regexes) so a pack author can extend them without knowing regular expressions.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from collections.abc import Iterator
from functools import lru_cache

from server.engines.compiled_patterns import regex
from server.engines.registry import CheckContext, Hit, section_check
from server.model import Paragraph, Section, Span

VAGUE_QUANTIFIERS = [
    "some", "several", "many", "a number of", "a few", "various", "numerous", "a lot of",
    "lots of", "significant", "significantly", "substantial", "substantially", "majority of",
    "minority of", "minimal", "a handful of", "multiple", "a large number", "a small number",
    "most",
]  # fmt: skip
HEDGES = [
    "might", "may have", "could have", "possibly", "probably", "perhaps", "it seems",
    "it appears", "appears to", "seems to", "we believe", "we think", "I think", "I believe",
    "likely", "unclear whether", "to some extent", "sort of", "kind of", "somewhat",
    "presumably", "arguably", "apparently",
]  # fmt: skip
HYPERBOLE = [
    "disaster", "disastrous", "catastrophic", "catastrophe", "nightmare", "unbelievable",
    "insane", "crazy", "huge", "massive", "totally", "completely", "absolutely", "extremely",
    "never seen before", "worst ever", "epic fail", "horrendous", "horrible", "terrible",
    "ridiculous", "shocking", "astronomical",
]  # fmt: skip
CHAT_ABBREVIATIONS = ["lol", "omg", "btw", "tbh", "imho", "wtf", "lmao", "rofl", "smh"]

_NEVER = regex(r"(?!x)x")


def _longest_first(phrase: str) -> tuple[int, str]:
    """Longest first; phrases of one length (which never match the same text differently) in
    a fixed order, so that the pattern is the same text in every run and its compiled form can
    be kept (server/engines/compiled_patterns.py)."""
    return -len(phrase), phrase


@lru_cache(maxsize=64)
def _phrases(terms: tuple[str, ...], lower_case: bool = False) -> re.Pattern[str]:
    """Whole-word alternation of phrases, longest first so a longer phrase is quoted whole.

    With `lower_case` the phrases are lower-cased and matched case-sensitively, for lower-cased
    ASCII text (see _term_spans).
    """
    phrases = sorted({t.strip() for t in terms if t.strip()}, key=_longest_first)
    if lower_case:
        phrases = sorted({p.lower() for p in phrases}, key=_longest_first)
    body = "|".join(r"\s+".join(re.escape(w) for w in p.split()) for p in phrases)
    flags = 0 if lower_case else re.IGNORECASE
    return regex(rf"(?<![\w'’-])(?:{body})(?![\w'’-])", flags) if body else _NEVER


def _term_spans(section: Section, terms: list[str]) -> Iterator[tuple[Paragraph, int, int]]:
    """(paragraph, start, end) of each term in the section body.

    Python's `re` is more than twice as fast matching lower-case text case-sensitively as matching
    mixed-case text case-insensitively. For ASCII text and terms the two find the same spans;
    elsewhere case-insensitive matching has look-alikes (the long 'ſ' matches 's'), so that text
    and those terms take the case-insensitive pattern.
    """
    key = tuple(terms)
    exact = _phrases(key)
    lowered = _phrases(key, lower_case=True) if all(t.isascii() for t in terms) else None
    for paragraph in section.body:
        text = paragraph.text
        fast = lowered is not None and text.isascii()
        pattern, subject = (lowered, text.lower()) if fast else (exact, text)
        for m in pattern.finditer(subject):  # type: ignore[union-attr]
            yield paragraph, m.start(), m.end()


# "some 40 accounts", "several (12) cases", "a significant 35% drop": the number is precise.
_NUMBER_NEXT = regex(r"\s*\(?\s*[~≈]?\s*[$£€]?\d")
# "the most severe", "at most": a superlative or a bound, not an amount.
_SUPERLATIVE_BEFORE = regex(r"(?:^|\W)(?:the|at)\s+$", re.IGNORECASE)


@section_check("vague_quantifier", terms=VAGUE_QUANTIFIERS)
def vague_quantifier(ctx: CheckContext, section: Section) -> Iterator[Hit]:
    """'Many customers' cannot be sized or checked; a count or a range can.

    A term followed by a number ("some 40 accounts", "several (12) cases") is left alone: the
    number says how many. "most" after "the" or "at" is a superlative or a bound, not an amount.
    """
    for paragraph, start, end in _term_spans(section, ctx.param("terms")):
        text = paragraph.text
        if _NUMBER_NEXT.match(text, end):
            continue
        before = text[max(0, start - 5) : start]
        if text[start:end].lower() == "most" and _SUPERLATIVE_BEFORE.search(before):
            continue
        yield Hit(section, Span.of(paragraph, start, end), {"term": text[start:end]})


@section_check("hedging", terms=HEDGES)
def hedging(ctx: CheckContext, section: Section) -> Iterator[Hit]:
    """A finding stated as 'probably' or 'it appears' leaves the reader unsure what was verified."""
    for paragraph, start, end in _term_spans(section, ctx.param("terms")):
        yield Hit(section, Span.of(paragraph, start, end), {"term": paragraph.text[start:end]})


@section_check("hyperbole", terms=HYPERBOLE)
def hyperbole(ctx: CheckContext, section: Section) -> Iterator[Hit]:
    """Emotive words ('disaster', 'massive') replace the measured impact a decision needs."""
    for paragraph, start, end in _term_spans(section, ctx.param("terms")):
        yield Hit(section, Span.of(paragraph, start, end), {"term": paragraph.text[start:end]})


# Status symbols (✅ ❌ ⚠ 🔴 🟢) are left alone: RAG tables use them on purpose. Faces, hands,
# hearts and party symbols are chat, not reporting.
_EMOJI = (
    "\u2639\u263a\u2764\U0001f389\U0001f38a\U0001f44a-\U0001f450\U0001f495-\U0001f49f"
    "\U0001f4a9\U0001f525\U0001f600-\U0001f64f\U0001f910-\U0001f92f\U0001f970-\U0001f97a"
    "\U0001f9d0\U0001fae0-\U0001faff"
)
_MARKS = (
    r"(?P<interrobang>[!?]*(?:\?!|!\?)[!?]*)"
    r"|(?P<exclamations>!{2,})"
    r"|(?P<exclamation>!(?!=))"
    # Four or more dots, unless they lead to a page number as in a table of contents.
    r"|(?P<ellipsis>(?<!\.)\.{4,}+(?![ \t]*\d+[ \t]*$))"
    r"|(?P<emoticon>(?<!\S)(?:[:;]-?[()DPp]|<3|xD|XD)(?!\w))"
    rf"|(?P<emoji>[{_EMOJI}]+)"
)
_KINDS = {
    "interrobang": "mixed ?! punctuation",
    "exclamations": "repeated exclamation marks",
    "exclamation": "an exclamation mark",
    "ellipsis": "a long ellipsis",
    "emoticon": "an emoticon",
    "emoji": "an emoji",
    "chat": "chat shorthand",
}


# In lower-cased ASCII text, every match of _MARKS contains one of these: '!' (the exclamation
# kinds), four dots, or the start of an emoticon. Emoji are never ASCII.
_MARK_HINTS = ("!", "....", "<3", "xd", *(eye + mouth for eye in ":;" for mouth in "-()dp"))


@lru_cache(maxsize=16)
def _informal_hints(chat: tuple[str, ...]) -> tuple[str, ...] | None:
    """Strings one of which lower-cased ASCII text must contain for the informal pattern to
    match: the mark hints and the chat words. None when a chat word is not ASCII: such a word
    may match look-alike letters case-insensitively, which no substring test can tell."""
    if not all(word.isascii() for word in chat):
        return None
    return _MARK_HINTS + tuple(word.lower() for word in chat if word.strip())


def _may_be_informal(text: str, hints: tuple[str, ...] | None) -> bool:
    """False when the informal pattern cannot match `text`, told by substring tests: most
    paragraphs hold none of the marks or chat words, and a regex pass costs far more. Text
    outside ASCII (emoji, look-alike letters) always gets the pattern."""
    if hints is None or not text.isascii():
        return True
    lowered = text.lower()
    return any(hint in lowered for hint in hints)


@lru_cache(maxsize=16)
def _informal(chat: tuple[str, ...]) -> re.Pattern[str]:
    words = "|".join(re.escape(w) for w in chat if w.strip())
    chat_group = rf"|(?P<chat>\b(?:{words})\b)" if words else ""
    return regex(_MARKS + chat_group, re.IGNORECASE)


@section_check(
    "informal_punctuation", allow_single_exclamation=False, chat_words=CHAT_ABBREVIATIONS
)
def informal_punctuation(ctx: CheckContext, section: Section) -> Iterator[Hit]:
    """'!!', '?!', emoji and 'lol' read as chat and undercut a report's neutrality.

    'FYI' is left out of the default chat words: it is ordinary business shorthand.
    """
    chat = tuple(ctx.param("chat_words"))
    pattern, hints = _informal(chat), _informal_hints(chat)
    allow_single = ctx.param("allow_single_exclamation")
    for paragraph in section.body:
        if not _may_be_informal(paragraph.text, hints):
            continue
        for m in pattern.finditer(paragraph.text):
            kind = m.lastgroup or ""
            if kind == "exclamation" and allow_single:
                continue
            yield Hit(section, Span.of(paragraph, m.start(), m.end()), {"kind": _KINDS[kind]})


_IRREGULAR = [
    "beaten", "begun", "bent", "bitten", "blown", "born", "borne", "bought", "bound",
    "broken", "brought", "built", "burnt", "caught", "chosen", "cut", "dealt", "done", "drawn",
    "driven", "eaten", "fallen", "fed", "felt", "forbidden", "forgiven", "forgotten", "found",
    "frozen", "given", "gotten", "grown", "held", "hidden", "hit", "hung", "hurt", "kept",
    "known", "laid", "led", "left", "lent", "let", "lit", "lost", "made", "meant", "met",
    "mistaken", "overridden", "overrun", "overseen", "overtaken", "overthrown", "overwritten",
    "paid", "proven", "put", "quit", "read", "rebuilt", "redone", "remade", "rerun", "reset",
    "resent", "rewritten", "ridden", "risen", "run", "said", "seen", "sent", "set", "sewn",
    "shaken", "shed", "shot", "shown", "shut", "slain", "sold", "sought", "spent", "split",
    "spoken", "spread", "stolen", "struck", "stuck", "sung", "sunk", "swept", "sworn", "taken",
    "taught", "thrown", "thought", "told", "torn", "undergone", "understood", "undertaken",
    "undone", "upheld", "upset", "withdrawn", "withheld", "won", "worn", "woven", "written"
]  # fmt: skip
IRREGULAR_PARTICIPLES = frozenset(_IRREGULAR)
# Words ending in -ed that are not participles.
_ED_WORDS = [
    "bed", "breed", "deed", "exceed", "feed", "fred", "greed", "hundred", "indeed",
    "kindred", "naked", "need", "proceed", "red", "sacred", "seed", "speed", "succeed", "wicked",
    "weed", "wretched", "rugged", "ragged", "embed"
]  # fmt: skip
_NOT_PARTICIPLES = frozenset(_ED_WORDS)
_AUX = regex(
    r"\b(?:am|is|are|was|were|be|been|being)"
    r"(?:\s+(?:not|never|also|already|then|still|just|now|later|since|[a-z]+ly)){0,2}"
    r"\s+(?P<participle>[a-z]+)\b",
    re.IGNORECASE,
)
_CLAUSE_END = regex(r"[.;:!?\n]|,\s+(?:and|but|so|which|while)\b")
_BY = regex(r"\bby\b", re.IGNORECASE)


def _is_participle(word: str) -> bool:
    word = word.lower()
    if word in IRREGULAR_PARTICIPLES:
        return True
    return len(word) > 3 and word.endswith("ed") and word not in _NOT_PARTICIPLES


@section_check("passive_voice", max_per_section=5)
def passive_voice(ctx: CheckContext, section: Section) -> Iterator[Hit]:
    """'The account was closed' hides who acted; an investigation must say who did what.

    A passive with its agent in the same clause ('was closed by the fraud team') is fine. The
    first `max_per_section` hits are reported so one passive-heavy section does not drown the rest.
    """
    remaining = ctx.param("max_per_section")
    for paragraph in section.body:
        if remaining <= 0:
            return
        text = paragraph.text
        ends = [m.start() for m in _CLAUSE_END.finditer(text)]
        agents = [m.start() for m in _BY.finditer(text)]
        for m in _AUX.finditer(text):
            if not _is_participle(m.group("participle")):
                continue
            clause_end = _next(ends, m.end(), len(text))
            if _next(agents, m.end(), len(text) + 1) < clause_end:
                continue
            yield Hit(section, Span.of(paragraph, m.start(), m.end()), {"verb": m.group()})
            remaining -= 1
            if remaining <= 0:
                return


def _next(positions: list[int], after: int, default: int) -> int:
    i = bisect_left(positions, after)
    return positions[i] if i < len(positions) else default
