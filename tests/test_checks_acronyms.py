"""The undefined-acronym check: an acronym used but spelled out nowhere in the document."""

from __future__ import annotations

from tests.builders import document, run_check


def quotes(*sections: tuple, **params) -> list[str]:
    return [f.span.quote for f in run_check(document(*sections), "undefined_acronym", **params)]


def test_undefined_acronym_is_flagged_once_at_first_use():
    doc = (
        ("Summary", "executive_summary", ["The ATO queue breached its SLA twice."]),
        ("Impact", "impact", ["ATO cases doubled."]),
    )
    assert quotes(*doc) == ["ATO", "SLA"]
    first = run_check(document(*doc), "undefined_acronym")[0]
    assert first.section_id == "s1"


def test_acronyms_defined_anywhere_in_the_document_are_not_flagged():
    doc = (
        ("Summary", "executive_summary", ["ATO losses grew and KYC checks lagged; the DOJ asked."]),
        ("Background", "background", ["Account takeover (ATO) rose in May."]),
        ("Impact", "impact", ["Know Your Customer KYC reviews were late.", "SLAs were missed."]),
        ("Glossary", "appendix", ["SLA – Service level agreement", "Department of Justice (DOJ)"]),
    )
    assert quotes(*doc) == []


def test_acronym_followed_by_its_expansion_is_defined():
    assert quotes(("Background", "background", ["KYC (know your customer) failed."])) == []


def test_bracketed_words_that_do_not_expand_it_do_not_define_it():
    assert quotes(("Background", "background", ["KYC (see appendix) failed."])) == ["KYC"]


def test_common_acronyms_emphasis_and_numerals_are_not_flagged():
    doc = (
        (
            "Background",
            "background",
            [
                "The CEO asked IT for a PDF by 5 PM UTC about P1 issues in Q3 and FY24.",
                "RC1: the EC2 host ran out of disk.",
                "PLEASE DO NOT DELETE THIS ROW.",
                "Phase II began; we must NOT reopen it.",
                "ESCALATION NOTES",
            ],
        ),
    )
    assert quotes(*doc) == []


def test_pack_can_allow_more_acronyms():
    doc = (("Background", "background", ["The ATO queue grew."]),)
    assert quotes(*doc, allow=["ATO"]) == []
