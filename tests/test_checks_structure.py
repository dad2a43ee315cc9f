"""missing_section and thin_section: a hit and a miss each."""

from __future__ import annotations

from tests.builders import document, run_check

LONG = " ".join(["The merchant accounts were reviewed against the payout records."] * 5)


def test_missing_required_section_is_reported_without_a_span():
    doc = document(("Executive Summary", "executive_summary", [LONG]))
    findings = run_check(doc, "missing_section", message="{expected}")
    assert "Timeline" in {f.title for f in findings}
    assert all(f.span is None and f.section_id is None for f in findings)


def test_present_sections_are_not_reported_missing():
    doc = document(("Timeline of events", "timeline", [LONG]))
    assert "Timeline" not in {
        f.title for f in run_check(doc, "missing_section", message="{expected}")
    }


def test_a_combined_heading_covers_every_section_it_names():
    doc = document(("Root Causes and Preventative Actions", "root_causes", [LONG]))
    titles = {f.title for f in run_check(doc, "missing_section", message="{expected}")}
    assert "Preventative Actions" not in titles and "Root Causes" not in titles


def test_an_excluded_section_does_not_count_as_present():
    doc = document(("Timeline", "timeline", [LONG], "email thread"))
    assert "Timeline" in {f.title for f in run_check(doc, "missing_section", message="{expected}")}


def test_thin_section_is_reported_with_its_word_count():
    doc = document(("Impact", "impact", ["Some customers."]))
    findings = run_check(doc, "thin_section", message="{words}/{min_words}", min_words=25)
    assert [f.title for f in findings] == ["2/25"]


def test_a_section_with_enough_words_is_not_thin():
    doc = document(("Impact", "impact", [LONG]))
    assert run_check(doc, "thin_section", min_words=25) == []
