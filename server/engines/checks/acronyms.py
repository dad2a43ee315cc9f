"""Acronyms a reader has to guess: used in the review but defined nowhere in the document.

Investigation write-ups travel to readers outside the team that wrote them ('ATO', 'KYC', 'P&L'
mean nothing to a new approver). An acronym counts as defined anywhere in the document, before
or after its first use, glossary included, in any of these forms:

    Account Takeover (ATO)        ATO (account takeover)        ATO – Account takeover
    Know Your Customer KYC        (the initials of the words just before it spell it)

Capitals used for emphasis are not acronyms: all-capital paragraphs and runs of three or more
capitalised words ('DO NOT DELETE') are skipped, and so are Roman numerals and labels or
identifiers ending in a digit ('P1', 'Q3', 'RC2').
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterator

from server.engines.compiled_patterns import regex
from server.engines.registry import CheckContext, Hit, document_check
from server.engines.text import WORD
from server.model import Paragraph, Section, Span

ALLOWED_ACRONYMS = [
    # Places, units, time, money
    "US", "USA", "UK", "EU", "UN", "UAE", "AM", "PM", "UTC", "GMT", "BST", "EST", "EDT", "PST",
    "PDT", "CET", "CEST", "ET", "PT", "USD", "EUR", "GBP", "JPY", "CAD", "AUD", "INR", "KB", "MB",
    "GB", "TB", "FY", "YTD", "QTD", "MTD", "YOY",
    # Roles and teams
    "CEO", "CFO", "CTO", "COO", "CIO", "CISO", "VP", "SVP", "EVP", "HR", "IT", "PR", "QA",
    # Everyday technology
    "ID", "OK", "PDF", "URL", "FAQ", "API", "AWS", "TV", "PC", "PIN", "SMS", "FYI", "ETA",
    "ASAP", "HTML", "HTTP", "HTTPS", "CSV", "XML", "JSON", "SQL", "UI", "UX", "IP", "USB",
    "CC", "BCC", "RE", "FW", "FWD", "NB", "PS", "AI", "ML", "OS",
    # Placeholders are reported by the placeholder check, not here
    "TBD", "TBC", "TBA", "TODO", "FIXME",
    # Capitals for emphasis
    "NOT", "NO", "DO", "ALL", "AND", "OR", "THE", "NEW", "NOTE", "ONLY", "NEVER", "MUST", "NONE",
    "YES", "IMPORTANT", "URGENT", "WARNING", "STOP", "ASK",
]  # fmt: skip

_ACRONYM = r"[A-Z](?:[A-Z0-9&]{0,4}[A-Z0-9])"
# The look-ahead repeats the first letter's class so `re` skips lower-case letters in one step
# instead of running the look-behind at each of them.
_CANDIDATE = regex(rf"(?=[A-Z])(?<![\w&-])(?P<acronym>{_ACRONYM})(?:s|'s|’s)?(?![\w&]|-\d)")
_Q = "[\"“”'‘’]?"
# "(ATO)": the words before the bracket are the definition, whatever their initials.
_BRACKETED = regex(rf"\(\s*{_Q}(?P<acronym>{_ACRONYM})s?{_Q}\s*\)")
# "ATO (account takeover)": the bracket holds words starting with the acronym's first letter.
_EXPANDED = regex(rf"\b(?P<acronym>{_ACRONYM})s?\s*\(\s*{_Q}(?P<first>[A-Za-z])[^()]*[a-z]")
# "ATO – Account takeover", "KYC: Know your customer", a glossary table row.
_GLOSSARY = regex(
    rf"^\s*{_Q}(?P<acronym>{_ACRONYM})s?{_Q}\s*(?:[:=\t|–—]|-\s)\s*{_Q}(?P<first>[A-Za-z])"
)
_SHOUTED = regex(r"\b[A-Z]{2,}(?:\s+[A-Z]{2,}\b){2,}")
_ROMAN = regex(r"M{0,3}(?:CM|CD|D?C{0,3})(?:XC|XL|L?X{0,3})(?:IX|IV|V?I{0,3})")
_SMALL_WORDS = frozenset({"of", "and", "the", "for", "to", "in", "on", "a", "an", "&"})


@document_check("undefined_acronym", allow=ALLOWED_ACRONYMS)
def undefined_acronym(ctx: CheckContext) -> Iterator[Hit]:
    """One hit per undefined acronym, at its first use in a reviewed paragraph."""
    allowed = frozenset(ctx.param("allow"))
    defined: set[str] = set()
    first_use: dict[str, tuple[Section, Span]] = {}
    for section in ctx.document.sections:
        reviewed = {p.index for p in section.body} if ctx.covers(section) else set()
        for paragraph in section.paragraphs:
            defined.update(_definitions(paragraph.text))
            for acronym, start, end in _uses(paragraph, allowed):
                if acronym in defined:
                    continue  # nothing this use could change
                if _spelled_before(paragraph.text, start, acronym):
                    defined.add(acronym)
                elif paragraph.index in reviewed and acronym not in first_use:
                    first_use[acronym] = (section, Span.of(paragraph, start, end))
    for acronym, (section, span) in first_use.items():
        if acronym not in defined:
            yield Hit(section, span, {"acronym": acronym})


def _definitions(text: str) -> Iterator[str]:
    # Both bracket forms need a '(': most paragraphs have none and skip two regex passes.
    bracketed = "(" in text
    if bracketed:
        for m in _BRACKETED.finditer(text):
            yield m.group("acronym")
    for pattern in (_EXPANDED, _GLOSSARY) if bracketed else (_GLOSSARY,):
        for m in pattern.finditer(text):
            if m.group("first").upper() == m.group("acronym")[0]:
                yield m.group("acronym")


def _uses(paragraph: Paragraph, allowed: frozenset[str]) -> Iterator[tuple[str, int, int]]:
    text = paragraph.text
    if text.upper() == text:
        return
    shouted: list[int] | None = None  # bounds of shouted runs, found once a candidate needs them
    for m in _CANDIDATE.finditer(text):
        acronym = m.group("acronym")
        if _ignored(acronym, allowed):
            continue
        if shouted is None:
            shouted = [i for run in _SHOUTED.finditer(text) for i in run.span()]
        if bisect_right(shouted, m.start()) % 2 == 1:  # inside a shouted run
            continue
        yield acronym, m.start("acronym"), m.end("acronym")


def _ignored(acronym: str, allowed: frozenset[str]) -> bool:
    return (
        acronym[-1].isdigit()
        or acronym in allowed
        or bool(_ROMAN.fullmatch(acronym))
        or set(acronym) == {"X"}
    )


def _spelled_before(text: str, start: int, acronym: str) -> bool:
    """'Know Your Customer KYC': the initials of the words just before spell the acronym."""
    letters = [c for c in acronym.lower() if c.isalpha()]
    before = WORD.findall(text[max(0, start - 30 * len(letters)) : start])
    if len(before) < len(letters):
        return False
    initials = [w[0].lower() for w in before[-len(letters) :]]
    content = [w[0].lower() for w in before if w.lower() not in _SMALL_WORDS][-len(letters) :]
    return letters in (initials, content)
