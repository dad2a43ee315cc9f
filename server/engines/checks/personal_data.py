"""E-mail addresses, phone numbers and account-like numbers that should be masked before sharing.

Personal data travels with the document whether or not a paragraph is reviewed, so this check
reads every paragraph of a section, excluded e-mail threads and raw logs included (the pack runs
it with `include_excluded`), headings too. Dates, times, money and masked values are matched
first and dropped, so a timestamp or '$1,234,567.89' is never reported as an account number.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from server.engines.compiled_patterns import regex
from server.engines.registry import CheckContext, Hit, section_check
from server.model import Section, Span

_CURRENCY_CODES = ("USD", "EUR", "GBP", "JPY", "CAD", "AUD", "INR")
# Not personal data, consumed so their digits cannot start another match.
_SKIP = (
    r"(?P<skip>"
    r"[$£€¥]\s?\d[\d,.]*"
    rf"|\b(?:{'|'.join(_CURRENCY_CODES)})\s?\d[\d,.]*"
    r"|\b\d{4}-\d{1,2}-\d{1,2}(?:[T ]\d{1,2}:\d{2}(?::\d{2})?)?"
    r"|\b\d{1,2}:\d{2}(?::\d{2})?"
    r")"
)
_EMAIL = (
    r"(?P<email>(?<![\w.%+*-])[A-Za-z0-9][A-Za-z0-9._%+-]*@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*"
    r"\.[A-Za-z]{2,}\b)"
)
_PHONE = (
    r"(?P<phone>"
    r"(?<![\w+])\+\d{1,3}(?:[ .-]?\(\d{1,4}\)|[ .-]?\d{1,5}){1,6}(?![\w])"
    r"|(?<![\w(])(?:\(\d{3}\)[ .-]?|\d{3}[ .-])\d{3}[ .-]\d{4}(?!\w|[.,]\d)"
    r"|(?<![\w.,])0\d{2,4}[ -]?\d{3,4}[ -]?\d{3,4}(?!\w|[.,]\d)"
    r")"
)
# Digits grouped by single spaces or dashes; possessive so a decimal tail cannot be dropped.
_ACCOUNT = r"(?P<account>(?<![\w$£€¥.,/+-])\d++(?:[ -]\d++)*+(?!\w|[.,/:%]\d|%))"
_VALUE = regex("|".join((_SKIP, _EMAIL, _PHONE, _ACCOUNT)))
# Without an '@' no e-mail address can match, and every other value starts with a digit, a
# currency sign, '+', '(' or a currency code: a look-ahead on those characters lets the regex
# engine pass over the words in between at once instead of trying each alternative at each letter
# (several times faster on prose, same matches).
_CODE_INITIALS = "".join(sorted({code[0] for code in _CURRENCY_CODES}))
_NUMBER_VALUE = regex(rf"(?=[\d$£€¥+({_CODE_INITIALS}])(?:{_SKIP}|{_PHONE}|{_ACCOUNT})")
_KINDS = {"email": "e-mail address", "phone": "phone number", "account": "account-like number"}


@section_check("personal_data", kinds=list(_KINDS), min_account_digits=9)
def personal_data(ctx: CheckContext, section: Section) -> Iterator[Hit]:
    """One hit per value, quoting exactly the address or number.

    `kinds` (email, phone, account) lets a pack give each kind its own rule and confidence:
    an e-mail address is unmistakable, a long number only looks like an account.
    """
    kinds = set(ctx.param("kinds"))
    min_digits = ctx.param("min_account_digits")
    for paragraph in section.paragraphs:
        for kind, start, end in personal_values(paragraph.text, min_digits):
            if kind in kinds:
                yield Hit(section, Span.of(paragraph, start, end), {"kind": _KINDS[kind]})


def personal_values(text: str, min_account_digits: int = 9) -> Iterator[tuple[str, int, int]]:
    """(kind, start, end) of every e-mail address, phone or account-like number in `text`.

    Also what the AI engine masks before a document leaves the machine (server/engines/masking.py).
    """
    pattern = _VALUE if "@" in text else _NUMBER_VALUE
    for m in pattern.finditer(text):
        kind = _kind(m, min_account_digits)
        if kind is not None:
            yield kind, m.start(), m.end()


def _kind(m: re.Match[str], min_digits: int) -> str | None:
    kind = m.lastgroup
    if kind == "email":
        return kind
    if kind == "skip":  # money, dates and times: most matches in a write-up
        return None
    digits = sum(c.isdigit() for c in m.group())
    if kind == "phone" and 7 <= digits <= 15:
        return kind
    if kind in ("phone", "account") and digits >= min_digits and not _dates(m.group()):
        return "account"
    return None


_YEAR = regex(r"(?:19|20)\d\d")


def _dates(value: str) -> bool:
    """'20240115103000' (a timestamp without separators) or '2022 2023 2024' (a list of years)."""
    if all(_YEAR.fullmatch(group) for group in re.split(r"[ -]", value)):
        return True
    if not value.isdigit() or len(value) not in (8, 12, 14):
        return False
    year, month, day = int(value[:4]), int(value[4:6]), int(value[6:8])
    return 1900 <= year <= 2100 and 1 <= month <= 12 and 1 <= day <= 31
