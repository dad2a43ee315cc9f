"""Speed-ups that must never change a match: regex hints, pattern sets and the checks' fast paths.

Each fast path is compared with the plain regex it replaces, on texts chosen to hit its edges:
case-insensitive look-alikes outside ASCII (the long 'ſ' matches 's', the Kelvin sign matches
'k'), patterns that switch case sensitivity inside, and texts with and without the hinted literals.
"""

from __future__ import annotations

import re

import pytest

from server.documents.sections import _LOG_LINE, _has_log_line
from server.engines.checks.placeholders import PLACEHOLDER_PATTERNS
from server.engines.patterns import any_of, pattern_set
from server.engines.regex_hints import first_class, lowered_if_ascii, required_literals
from tests.builders import document, run_check

TEXTS = [
    "",
    "Owner: X. Due: ??. Completed: X",
    "Case reference XX-XXX-XXXX, card 1234-XXXX, masked XXXX XXXX 1234.",
    "Status TBD; TODO: add owner; todo in prose; [insert name]; <add owner>; {{name}}; N/A?",
    "Lorem  ipsum dolor; LOREM IPSUM; loreM ipſum; lorem\nipsum",
    "Tbd by the Kelvin team: TBD, Ｔｂｄ, tḃd.",
    "Plain prose with nothing to find in it at all.",
    "2024-03-05 14:20:01 ERROR failed\nTraceback (most recent call last)\n  at a.b(C.java)",
    'File "x.py", line 3 and key=value other=thing third=3 ',
]
PATTERNS = [
    *PLACEHOLDER_PATTERNS,
    r"\bkelvin\b",
    r"(?-i:\bTBD\b)",
    r"(?:ab|cd)+x",
    r"a?b",
    r"(?i:root[ -]cause)",
    r"[^x]y",
    r"\d+\s*(?:k|m)?\s*(?:users?|accounts?)\b",
]


@pytest.mark.parametrize("pattern", PATTERNS)
def test_first_class_lookahead_finds_the_same_matches(pattern):
    first = first_class(pattern)
    if first is None:
        return
    plain = re.compile(pattern, re.IGNORECASE)
    guarded = re.compile(f"(?={first}){pattern}", re.IGNORECASE)
    for text in TEXTS:
        assert [m.span() for m in guarded.finditer(text)] == [
            m.span() for m in plain.finditer(text)
        ]


def test_first_class_of_common_shapes():
    assert first_class(r"(?<!\d)\bX+\b") == "[X]"
    assert first_class(r"\b(?:TBD|TODO)\b") == "[T]"
    assert first_class(r"\d+%") == r"[\d]"
    assert first_class(r"a?b") is None  # may start with 'a' or 'b': not worked out, no hint
    assert first_class(r"[^x]y") is None
    assert first_class(r"\b") is None  # matches the empty string


@pytest.mark.parametrize("pattern", PATTERNS)
def test_required_literals_never_rule_out_a_text_that_matches(pattern):
    compiled = re.compile(pattern, re.IGNORECASE)
    needs = required_literals(pattern)
    for text in TEXTS + [t.upper() for t in TEXTS]:
        if compiled.search(text):
            assert needs.met_by(text, lowered_if_ascii(text)), (pattern, text)


def test_required_literals_of_common_shapes():
    needs = required_literals(r"\blorem\s+ipsum\b")
    assert needs.met_by("LOREM IPSUM", "lorem ipsum")
    assert not needs.met_by("lorem only", "lorem only")
    case_sensitive = required_literals(r"(?-i:\bTODO\b)")
    assert not case_sensitive.met_by("todo", "todo")
    # Outside ASCII a case-insensitive literal may match a look-alike, so it counts as met.
    assert required_literals(r"\bsome\b").met_by("ſome", None)


def test_pattern_set_finds_what_the_full_alternation_finds():
    full = any_of(PLACEHOLDER_PATTERNS)
    subset = pattern_set(tuple(PLACEHOLDER_PATTERNS))
    for text in TEXTS:
        assert [m.span() for m in subset.finditer(text)] == [m.span() for m in full.finditer(text)]
        found, expected = subset.search(text), full.search(text)
        assert (found and found.span()) == (expected and expected.span())


def test_log_shapes_one_by_one_agree_with_the_combined_pattern():
    for text in TEXTS:
        assert _has_log_line(text) == bool(_LOG_LINE.search(text)), text


def quotes(check: str, *texts: str, **params) -> list[str]:
    doc = document(("Investigation", "investigation", list(texts)))
    return [f.span.quote for f in run_check(doc, check, **params)]


def test_term_lists_match_case_insensitively_outside_ascii_too():
    # 'ſ' (long s) matches 's' case-insensitively: such text takes the slower exact path.
    assert quotes("vague_quantifier", "ſeveral accounts and SEVERAL more") == ["ſeveral", "SEVERAL"]
    assert quotes("hedging", "We Believe it; we believe it.") == ["We Believe", "we believe"]


def test_informal_marks_are_found_whatever_the_case_and_script():
    text = "LOL that was close :-) xD <3 ... . but .... 🎉 Btw"
    found = quotes("informal_punctuation", text)
    assert found == ["LOL", ":-)", "xD", "<3", "....", "🎉", "Btw"]
    assert quotes("informal_punctuation", "A calm note: nothing; here.") == []


def test_personal_data_with_and_without_an_email_address():
    with_email = "Mail jane.doe@example.com or call +44 20 7946 0958; account 123456789."
    numbers_only = "Call +44 20 7946 0958 about account 123456789, not $1,234,567.89."
    assert quotes("personal_data", with_email) == [
        "jane.doe@example.com",
        "+44 20 7946 0958",
        "123456789",
    ]
    assert quotes("personal_data", numbers_only) == ["+44 20 7946 0958", "123456789"]
