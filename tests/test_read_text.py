"""The plain-text reader: decoding, paragraphs from lines, and the attributes sections rely on."""

from __future__ import annotations

import codecs

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from server.documents import read_raw
from server.documents.limits import DEFAULT_LIMITS, Limits
from server.documents.text import decode_text, read_text
from server.errors import DocumentError, DocumentTooLarge, UnsupportedDocument

REPORT = """\
INCIDENT REPORT
===============

Summary
The payment service stopped accepting card transactions at 09:14 on 3
March after a configuration change removed the limit on database
connections. About 1,204 orders were abandoned.

Timeline
--------

- 09:14 alert fired in the monitoring system and paged the on-call engineer
  who was travelling at the time.
* 09:25 engineer acknowledged
• 10:40 rollback completed
1. First numbered step
a) a lettered step

From: Alice Smith <alice@example.com>
Subject: Re: outage

| Action | Owner | Due |
|--------|-------|-----|
| Add validation | Bob | 2026-12-01 |
Metric\tBefore\tAfter
Errors\t0.1%\t12%

ROOT CAUSE
A missing validation step in the release pipeline.
"""


def read(text_or_bytes, name: str = "report.txt", limits: Limits = DEFAULT_LIMITS):
    data = text_or_bytes.encode() if isinstance(text_or_bytes, str) else text_or_bytes
    return read_text(data, name, limits)


def assert_sources_on_lines(raw, source_text: str) -> None:
    """The text at every SourceRef's offsets is on the line that SourceRef names."""
    lines = source_text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    for block in raw.blocks:
        assert block.sources, block
        for source in block.sources:
            segment = block.text[source.start : source.end]
            assert segment, (block, source)
            assert segment in lines[source.ref - 1], (segment, lines[source.ref - 1])


def texts(raw) -> list[str]:
    return [b.text for b in raw.blocks]


def test_tidy_report_blocks_in_order():
    raw = read(REPORT)
    assert texts(raw) == [
        "INCIDENT REPORT",
        "Summary",
        "The payment service stopped accepting card transactions at 09:14 on 3 March after a "
        "configuration change removed the limit on database connections. About 1,204 orders were "
        "abandoned.",
        "Timeline",
        "09:14 alert fired in the monitoring system and paged the on-call engineer who was "
        "travelling at the time.",
        "09:25 engineer acknowledged",
        "10:40 rollback completed",
        "First numbered step",
        "a lettered step",
        "From: Alice Smith <alice@example.com>",
        "Subject: Re: outage",
        "Action | Owner | Due",
        "Add validation | Bob | 2026-12-01",
        "Metric | Before | After",
        "Errors | 0.1% | 12%",
        "ROOT CAUSE",
        "A missing validation step in the release pipeline.",
    ]
    assert_sources_on_lines(raw, REPORT)


def test_underlined_lines_are_headings():
    raw = read(REPORT)
    assert {b.text: b.heading_level for b in raw.blocks if b.heading_level} == {
        "INCIDENT REPORT": 1,
        "Timeline": 2,
    }


def test_wrapped_paragraph_keeps_one_source_per_line():
    raw = read(REPORT)
    block = raw.blocks[2]
    assert [s.ref for s in block.sources] == [5, 6, 7]
    assert block.text[block.sources[1].start : block.sources[1].end] == (
        "March after a configuration change removed the limit on database"
    )


def test_bullets_are_list_items_without_their_markers():
    raw = read(REPORT)
    items = [b for b in raw.blocks if b.list_item]
    assert len(items) == 5
    assert items[0].text.startswith("09:14 alert") and items[0].text.endswith("at the time.")
    assert [s.ref for s in items[0].sources] == [12, 13]


def test_capitals_and_header_lines_stand_alone():
    raw = read(REPORT)
    caps = [b.text for b in raw.blocks if b.all_caps]
    assert caps == ["INCIDENT REPORT", "ROOT CAUSE"]
    assert "Subject: Re: outage" in texts(raw)


def test_table_rows_join_cells_with_a_bar_and_skip_separators():
    raw = read(REPORT)
    rows = [b for b in raw.blocks if b.table_row]
    assert [b.text for b in rows] == [
        "Action | Owner | Due",
        "Add validation | Bob | 2026-12-01",
        "Metric | Before | After",
        "Errors | 0.1% | 12%",
    ]
    first = rows[0]
    assert [first.text[s.start : s.end] for s in first.sources] == ["Action", "Owner", "Due"]


def test_key_value_lines_next_to_each_other_are_separate_blocks():
    raw = read("Owner: Bob Jones\nDue: 1 December\nStatus: open\n")
    assert texts(raw) == ["Owner: Bob Jones", "Due: 1 December", "Status: open"]


def test_note_line_wrapping_into_a_paragraph_is_not_split():
    text = (
        "Note: the rollback took longer than expected because the deployment tool was\n"
        "itself degraded and had to be restarted twice before it accepted the change.\n"
    )
    assert len(read(text).blocks) == 1


def test_short_heading_line_above_a_paragraph_stands_alone():
    text = (
        "Background\n"
        "The service was migrated to the new cluster in January, and nobody\n"
        "reviewed the limits.\n"
    )
    assert texts(read(text)) == [
        "Background",
        "The service was migrated to the new cluster in January, and nobody reviewed the limits.",
    ]


def test_heading_after_a_finished_paragraph_without_blank_line_stands_alone():
    text = (
        "The service was migrated to the new cluster in January and nobody checked\n"
        "the connection limits that the old cluster had enforced for many years.\n"
        "Root cause\n"
        "A missing validation step in the release pipeline let an empty value through.\n"
    )
    assert texts(read(text))[1] == "Root cause"


def test_file_with_one_paragraph_per_line_is_not_joined():
    first = "The service was migrated to the new cluster in January. " * 4
    second = "Nobody checked the connection limits that the old cluster enforced. " * 4
    raw = read(f"{first.strip()}\n{second.strip()}\nThird line is short.\n")
    assert texts(raw) == [first.strip(), second.strip(), "Third line is short."]


def test_hash_headings_in_text_files_get_levels():
    raw = read("# Report\n\n## Findings ##\n\nText.\n")
    assert [(b.text, b.heading_level) for b in raw.blocks] == [
        ("Report", 1),
        ("Findings", 2),
        ("Text.", None),
    ]


def test_messy_input_crlf_trailing_spaces_tabs_and_a_very_long_line():
    long_line = "word " * 3000
    text = (
        "Summary   \r\n"
        "The outage lasted two hours   \r\n"
        "\r\n"
        f"{long_line}\r\n"
        "\r\n"
        "\tIndented paragraph starts with a tab.\r\n"
        "Old Mac line\rafter a bare CR\r\n"
    )
    raw = read(text)
    assert texts(raw)[0] == "Summary"
    assert texts(raw)[1] == "The outage lasted two hours"
    assert long_line.strip() in texts(raw)
    assert "Indented paragraph starts with a tab." in texts(raw)
    assert not any(t.endswith(" ") for t in texts(raw))
    assert_sources_on_lines(raw, text)


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ("Caf\u00e9 \u201cquoted\u201d \u00a3250".encode(), "Café “quoted” £250"),
        (codecs.BOM_UTF8 + "Caf\u00e9 \u00a3250".encode(), "Café £250"),
        ("Caf\u00e9 \u00a3250".encode("utf-16"), "Café £250"),
        (codecs.BOM_UTF16_BE + "Caf\u00e9 \u00a3250".encode("utf-16-be"), "Café £250"),
        ("Caf\u00e9 \u00a3250 total".encode("utf-16-le"), "Café £250 total"),
        ("Caf\u00e9 \u00a3250 total".encode("utf-16-be"), "Café £250 total"),
        (
            "Caf\u00e9 \u201cquoted\u201d \u00a3250 \u2013 done".encode("cp1252"),
            "Café “quoted” £250 – done",
        ),
        ("Caf\u00e9 \u00a3250".encode("utf-32"), "Café £250"),
    ],
    ids=["utf8", "utf8-bom", "utf16-bom", "utf16be-bom", "utf16le", "utf16be", "cp1252", "utf32"],
)
def test_encodings_are_decoded(data, expected):
    assert decode_text(data, "x.txt") == expected
    assert texts(read(data)) == [expected]


def test_binary_file_is_refused_with_a_clear_message():
    png = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 8
    with pytest.raises(UnsupportedDocument) as info:
        read(png, "photo.txt")
    assert info.value.message == (
        "'photo.txt' looks like a binary file, not text; AI-Prism reads .docx, .pdf, .md and "
        ".txt files."
    )


def test_bytes_in_no_known_encoding_are_refused():
    with pytest.raises(UnsupportedDocument, match="not in a text encoding AI-Prism recognises"):
        read(b"Total \x81\x8d\x8f\x90 here", "odd.txt")


def test_text_with_many_nul_bytes_is_binary():
    with pytest.raises(UnsupportedDocument, match="binary"):
        read(b"abc\x00\x00\x00\x01\x02def\x00ghi" * 50, "dump.txt")


def test_a_few_stray_control_characters_are_dropped():
    raw = read("Form\x0cfeed and a bell\x07 here.\n")
    assert texts(raw) == ["Formfeed and a bell here."]


def test_title_is_first_heading_else_first_line_else_file_name():
    assert read(REPORT).title == "INCIDENT REPORT"
    assert read("Plain first line.\n\nMore.\n").title == "Plain first line."
    assert read("-----\n", "notes-2026.txt").title == "notes-2026"


def test_paragraph_longer_than_the_limit_is_refused():
    with pytest.raises(DocumentTooLarge, match="characters; the limit is 100"):
        read("word " * 50, limits=Limits(max_paragraph_chars=100))


def test_read_raw_dispatches_txt():
    raw = read_raw(REPORT.encode(), "report.txt")
    assert raw.format == "txt" and raw.title == "INCIDENT REPORT"


FRAGMENTS = st.sampled_from(
    [
        "word",
        "Word",
        "ALL CAPS",
        "- ",
        "* ",
        "1. ",
        "a) ",
        "| ",
        "\t",
        "  ",
        " ",
        "\n",
        "\n\n",
        "\r\n",
        "===",
        "---",
        "# ",
        "**",
        "*",
        "`",
        "[x](y)",
        "From: a",
        "> ",
        "```",
        "    ",
        "£",
        "“",
        "<b>",
        "<!--",
        "-->",
        "\\",
        "&amp;",
        "![",
        "]",
        "(",
        ")",
        "_",
        "Key: value",
        ".",
        ",",
    ]
)


@settings(max_examples=400, deadline=None)
@given(st.lists(FRAGMENTS, max_size=40).map("".join))
def test_any_input_gives_sources_on_the_lines_they_name(text):
    try:
        raw = read(text)
    except DocumentError:
        return
    assert_sources_on_lines(raw, text)
