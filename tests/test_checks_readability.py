"""Readability checks: sentences past a word limit and sections with a low Flesch score."""

from __future__ import annotations

from dataclasses import replace

from server.engines import offline
from server.frameworks import resolve
from server.frameworks.model import Rule
from tests.builders import AS_OF, document, run_check

LONG = (
    "The seller, who had opened the account in March with documents that were later found to be "
    "altered, moved the payouts to a new bank account, raised the listing limit and then shipped "
    "empty parcels to forty buyers in two days."
)
DENSE = (
    "Comprehensive organisational investigation methodologies necessitate considerable "
    "interdepartmental coordination, notwithstanding institutional documentation requirements "
    "and jurisdictional regulatory considerations affecting international operational "
    "accountability."
)
PLAIN = "The team found the bug. They fixed it the same day. No one lost money. We told the seller."


def described(check: str, message: str, doc, **params) -> list[str]:
    rule = Rule(
        id="r", check=check, type="suggestion", risk="low", confidence=0.5,
        title=message, message=message, params=params,
    )  # fmt: skip
    framework = replace(resolve("investigation"), rules=(rule,))
    return [f.description for f in offline.review(doc, framework, as_of=AS_OF).findings]


def test_long_sentence_is_flagged_with_its_word_count():
    doc = document(("Background", "background", ["Short opener. " + LONG + " Short closer."]))
    findings = run_check(doc, "long_sentence")
    assert [f.span.quote for f in findings] == [LONG]
    assert described("long_sentence", "{words}/{max_words}", doc) == ["41/35"]


def test_sentences_within_the_limit_are_not_long():
    doc = document(("Background", "background", [LONG]))
    assert run_check(doc, "long_sentence", max_words=50) == []


def test_hard_to_read_section_is_flagged_with_its_score():
    doc = document(("Investigation", "investigation", [DENSE] * 5))
    findings = run_check(doc, "readability")
    assert len(findings) == 1 and findings[0].span is None
    [message] = described("readability", "{score}|{grade}|{words}", doc)
    score, grade, words = message.split("|")
    assert float(score) < 0 and float(grade) > 20 and words == "100"


def test_plain_section_is_not_flagged_as_hard_to_read():
    doc = document(("Investigation", "investigation", [PLAIN] * 6))
    assert run_check(doc, "readability") == []


def test_short_sections_are_not_scored():
    doc = document(("Investigation", "investigation", [DENSE]))
    assert run_check(doc, "readability") == []
