"""Summary checks: short enough, and says how it ended."""

from __future__ import annotations

from tests.builders import document, run_check


def test_long_summary_is_flagged_with_its_word_count():
    doc = document(("Summary", "executive_summary", ["word " * 30]))
    findings = run_check(doc, "summary_too_long", max_words=20)
    assert len(findings) == 1 and findings[0].span is None


def test_short_summary_is_not_flagged():
    doc = document(("Summary", "executive_summary", ["Payments failed for two hours; resolved."]))
    assert run_check(doc, "summary_too_long") == []


def test_summary_without_an_outcome_is_flagged():
    doc = document(
        ("Summary", "executive_summary", ["On 5 March card payments started failing in the EU."])
    )
    assert len(run_check(doc, "summary_no_outcome")) == 1


def test_summary_with_an_outcome_is_not_flagged():
    for text in (
        "Card payments failed on 5 March; service was restored after a rollback.",
        "We concluded the certificate had expired.",
        "About 1,200 customers could not pay.",
    ):
        doc = document(("Summary", "executive_summary", [text]))
        assert run_check(doc, "summary_no_outcome") == [], text


def test_empty_summary_is_left_to_the_thin_section_rule():
    doc = document(("Summary", "executive_summary", []))
    assert run_check(doc, "summary_no_outcome") == []
