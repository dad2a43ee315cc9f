"""The repeated-passage check: a sentence pasted into a second place."""

from __future__ import annotations

from dataclasses import replace

from server.engines import offline
from server.frameworks import resolve
from server.frameworks.model import Rule
from tests.builders import AS_OF, document, run_check

SENTENCE = "The seller changed the payout account two hours before the first disputed order."


def test_repeated_passage_is_flagged_on_the_later_copy():
    doc = document(
        ("Summary", "executive_summary", [SENTENCE]),
        ("Investigation", "investigation", ["We checked the logs. " + SENTENCE.upper()]),
    )
    findings = run_check(doc, "repeated_passage")
    assert [(f.section_id, f.span.quote) for f in findings] == [("s2", SENTENCE.upper())]


def test_repeated_passage_names_the_section_of_the_first_copy():
    rule = Rule(
        id="rp", check="repeated_passage", type="suggestion", risk="low", confidence=0.9,
        title="{quote}", message="First seen in {first_section}",
    )  # fmt: skip
    framework = replace(resolve("investigation"), rules=(rule,))
    doc = document(
        ("Summary", "executive_summary", [SENTENCE]),
        ("Impact", "impact", [SENTENCE.replace(",", "")]),
    )
    findings = offline.review(doc, framework, as_of=AS_OF).findings
    assert [f.description for f in findings] == ["First seen in Summary"]


def test_short_or_different_sentences_are_not_repeats():
    doc = document(
        ("Summary", "executive_summary", ["No action needed.", SENTENCE]),
        ("Impact", "impact", ["No action needed.", SENTENCE.replace("two", "three")]),
    )
    assert run_check(doc, "repeated_passage") == []


def test_repeated_passages_are_capped_at_max_hits():
    from tests.builders import document, run_check

    sentence = (
        "The merchant payouts were stopped after the reconciliation flagged the negative balance."
    )
    doc = document(("Investigation", "investigation", [sentence] * 10))
    assert len(run_check(doc, "repeated_passage", max_hits=3)) == 3
