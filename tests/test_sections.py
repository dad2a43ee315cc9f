"""Section detection on documents written the way real write-ups are."""

from __future__ import annotations

import io

import docx
import pytest
from docx.oxml import OxmlElement
from docx.oxml.ns import qn

from server.documents import load_document
from server.frameworks import resolve
from server.samples import messy_investigation_docx
from tests.builders import docx_bytes

FRAMEWORK = resolve("investigation")
BODY = "This paragraph has enough ordinary words in it to count as real content for a section."


def sections_of(data: bytes, name: str = "doc.docx"):
    return load_document(data, name, FRAMEWORK).sections


def outline(data: bytes, name: str = "doc.docx") -> list[tuple[str, str, bool]]:
    return [(s.title, s.kind, s.excluded) for s in sections_of(data, name)]


def test_heading_styles_make_sections_matched_to_kinds():
    data = docx_bytes(
        [
            ("Executive Summary", "Heading 1", False),
            (BODY, None, False),
            ("Timeline", "Heading 1", False),
            (BODY, None, False),
        ]
    )
    assert outline(data) == [
        ("Executive Summary", "executive_summary", False),
        ("Timeline", "timeline", False),
    ]


def test_bold_normal_headings_with_trailing_spaces_and_numbering_are_found():
    data = docx_bytes(
        [
            ("Incident 4711", None, False),
            ("1. Executive Summary:   ", None, True),
            (BODY, None, False),
            ("B) Root Causes & Preventative Actions ", None, True),
            (BODY, None, False),
        ]
    )
    assert outline(data) == [
        ("Opening", "opening", False),
        ("1. Executive Summary", "executive_summary", False),
        ("B) Root Causes & Preventative Actions", "root_causes", False),
    ]


def test_all_caps_lines_are_headings():
    data = docx_bytes([("IMPACT", None, False), (BODY, None, False)])
    assert outline(data) == [("IMPACT", "impact", False)]


def test_plain_line_matching_an_alias_exactly_is_a_heading_but_a_sentence_is_not():
    data = docx_bytes(
        [
            ("Chronology:", None, False),
            ("The timeline below was rebuilt from logs and tickets by the team.", None, False),
        ]
    )
    result = sections_of(data)
    assert [(s.title, s.kind) for s in result] == [("Chronology", "timeline")]
    assert not result[0].paragraphs[1].is_heading


def test_unmatched_subheading_stays_inside_its_section():
    data = docx_bytes(
        [
            ("Resolving Actions", "Heading 1", False),
            ("Merchant accounts", "Heading 2", False),
            (BODY, None, False),
            ("Appendix", "Heading 1", False),
            (BODY, None, False),
        ]
    )
    result = sections_of(data)
    assert [s.kind for s in result] == ["resolving_actions", "appendix"]
    assert (
        result[0].paragraphs[1].is_heading and result[0].paragraphs[1].text == "Merchant accounts"
    )


def test_unmatched_top_level_heading_is_an_other_section():
    data = docx_bytes([("Budget outlook", "Heading 1", False), (BODY, None, False)])
    assert outline(data) == [("Budget outlook", "other", False)]


def test_outline_level_on_a_normal_paragraph_is_a_heading():
    document = docx.Document()
    p = document.add_paragraph("Background")
    ppr = p._p.get_or_add_pPr()
    level = OxmlElement("w:outlineLvl")
    level.set(qn("w:val"), "0")
    ppr.append(level)
    document.add_paragraph(BODY)
    out = io.BytesIO()
    document.save(out)
    assert outline(out.getvalue()) == [("Background", "background", False)]


def test_forwarded_email_thread_is_excluded_and_its_bold_lines_do_not_split_it():
    result = sections_of(messy_investigation_docx(), "messy.docx")
    thread = result[-1]
    assert thread.excluded and thread.exclusion_reason == "email thread"
    assert any(p.text == "Summary" for p in thread.paragraphs)
    assert sum(s.kind == "executive_summary" for s in result) == 1


def test_email_header_block_without_separator_starts_an_excluded_thread():
    data = docx_bytes(
        [
            ("Impact", None, True),
            (BODY, None, False),
            ("From: Sam Lee <sam@example.com>", None, False),
            ("Sent: 4 March 2026 10:00", None, False),
            ("To: Ops", None, False),
            ("Subject: FW: refunds", None, False),
            ("Please check these accounts today.", None, False),
        ]
    )
    assert outline(data) == [
        ("Impact", "impact", False),
        ("Forwarded e-mail thread", "other", True),
    ]


def test_a_heading_after_a_thread_ends_it_when_it_is_a_known_section():
    data = docx_bytes(
        [
            ("-----Original Message-----", None, False),
            ("From: a@example.com", None, False),
            ("To: b@example.com", None, False),
            ("Lessons Learned", "Heading 1", False),
            (BODY, None, False),
        ]
    )
    assert outline(data)[-1] == ("Lessons Learned", "lessons_learned", False)


def test_signature_lines_are_kept_but_excluded():
    data = docx_bytes(
        [
            ("Background", None, True),
            (BODY, None, False),
            ("Kind regards,", None, False),
            ("Jo Smith", None, False),
            ("Head of Trust", None, False),
        ]
    )
    section = sections_of(data)[0]
    assert [p.excluded for p in section.body] == [False]
    assert [p.text for p in section.paragraphs if p.excluded] == [
        "Kind regards,",
        "Jo Smith",
        "Head of Trust",
    ]


def test_raw_log_lines_are_excluded_but_timeline_entries_are_not():
    data = docx_bytes(
        [
            ("Timeline", None, True),
            ("2026-03-03 09:14 First reversal above the limit is paid out.", None, False),
            (
                "2026-03-03T09:14:01Z ERROR payout-svc limit check skipped merchant=M-1043",
                None,
                False,
            ),
            ("2026-03-03T09:14:02Z INFO payout-svc payout sent merchant=M-1043", None, False),
            ("2026-03-05 16:40 Finance reconciliation flags a negative balance.", None, False),
        ]
    )
    section = sections_of(data)[0]
    assert [p.excluded for p in section.paragraphs[1:]] == [False, True, True, False]


def test_a_section_named_as_an_exclusion_is_excluded():
    data = docx_bytes(
        [
            ("Impact", None, True),
            (BODY, None, False),
            ("Raw Logs", "Heading 1", False),
            ("x=1", None, False),
        ]
    )
    assert outline(data)[-1] == ("Raw Logs", "other", True)


def test_text_before_the_first_heading_is_the_opening_section():
    data = docx_bytes(
        [
            ("Prepared by Trust.", None, False),
            ("Background", "Heading 1", False),
            (BODY, None, False),
        ]
    )
    assert outline(data)[0] == ("Opening", "opening", False)


def test_list_items_are_not_headings_even_when_bold():
    data = docx_bytes(
        [
            ("Resolving Actions", None, True),
            ("Suspend the accounts", "List Bullet", True),
            (BODY, None, False),
        ]
    )
    result = sections_of(data)
    assert len(result) == 1 and result[0].paragraphs[1].list_item


def test_paragraph_indexes_are_global_and_sequential():
    result = sections_of(messy_investigation_docx(), "messy.docx")
    indexes = [p.index for s in result for p in s.paragraphs]
    assert indexes == list(range(len(indexes)))


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("Timeline of key events", "timeline"),
        ("Customer Impact Assessment", "impact"),
        ("5 Whys", "root_causes"),
        ("IV. Next Steps", "preventative_actions"),
    ],
)
def test_formatted_headings_match_by_contained_alias(text, kind):
    data = docx_bytes([(text, "Heading 1", False), (BODY, None, False)])
    assert outline(data)[0][1] == kind


def test_a_bold_title_naming_a_framework_section_is_the_opening_not_that_section():
    data = docx_bytes(
        [
            ("Investigation of the Timeline Outage", "Title", True),
            (BODY, None, False),
            ("Timeline", "Heading 1", False),
            (BODY, None, False),
        ]
    )
    assert outline(data) == [("Opening", "opening", False), ("Timeline", "timeline", False)]
