"""The Markdown reader: a block per heading, paragraph, list-item paragraph, table row or code."""

from __future__ import annotations

import codecs
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from server.documents import read_raw
from server.documents.limits import DEFAULT_LIMITS, Limits
from server.documents.markdown import read_markdown
from server.errors import DocumentError, DocumentTooLarge, UnsupportedDocument

REPORT = """\
# Incident report

The payment service stopped accepting **card transactions** at 09:14 on 3 March after a
[configuration change](https://example.com/change/42) removed the `max_connections` limit.

Background
----------

**Owner and due date**

- Alert fired at 09:25
  and paged the on-call engineer
- Rollback completed at 10:40

  It took longer than expected.
  1. Nested step one

> Customers saw a generic *error* page.

| Action | Owner | Due |
|--------|:-----:|-----|
| Add **validation** | Bob | 2026-12-01 |

```sh
kubectl rollout undo deploy/payments

kubectl get pods
```

<!-- reviewers: ignore this comment -->

## ROOT CAUSE ##
A missing validation step.
"""


def read(text_or_bytes, name: str = "report.md", limits: Limits = DEFAULT_LIMITS):
    data = text_or_bytes.encode() if isinstance(text_or_bytes, str) else text_or_bytes
    return read_markdown(data, name, limits)


def texts(raw) -> list[str]:
    return [b.text for b in raw.blocks]


def assert_sources_on_lines(raw, source_text: str) -> None:
    """Every word at a SourceRef's offsets is on the source line it names (markup aside)."""
    lines = source_text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    for block in raw.blocks:
        assert block.sources, block
        for source in block.sources:
            segment = block.text[source.start : source.end]
            line = lines[source.ref - 1]
            missing = [w for w in re.findall(r"\w+", segment) if w not in line]
            assert segment and not missing, (segment, line)


def test_blocks_in_reading_order_with_markup_stripped():
    raw = read(REPORT)
    assert texts(raw) == [
        "Incident report",
        "The payment service stopped accepting card transactions at 09:14 on 3 March after a "
        "configuration change removed the max_connections limit.",
        "Background",
        "Owner and due date",
        "Alert fired at 09:25 and paged the on-call engineer",
        "Rollback completed at 10:40",
        "It took longer than expected.",
        "Nested step one",
        "Customers saw a generic error page.",
        "Action | Owner | Due",
        "Add validation | Bob | 2026-12-01",
        "kubectl rollout undo deploy/payments\n\nkubectl get pods",
        "ROOT CAUSE",
        "A missing validation step.",
    ]
    assert_sources_on_lines(raw, REPORT)


def test_headings_get_levels_from_hashes_and_underlines():
    raw = read(REPORT)
    assert [(b.text, b.heading_level) for b in raw.blocks if b.heading_level] == [
        ("Incident report", 1),
        ("Background", 2),
        ("ROOT CAUSE", 2),
    ]
    assert next(b for b in raw.blocks if b.text == "ROOT CAUSE").all_caps


def test_wrapped_paragraph_has_a_source_per_line():
    block = read(REPORT).blocks[1]
    assert [s.ref for s in block.sources] == [3, 4]
    assert block.text[block.sources[1].start : block.sources[1].end].startswith(
        "configuration change"
    )


def test_paragraph_entirely_bold_is_bold_and_mixed_is_not():
    raw = read(REPORT)
    bold = [b.text for b in raw.blocks if b.bold]
    assert bold == ["Owner and due date"]


def test_each_list_item_paragraph_is_a_list_item_block():
    raw = read(REPORT)
    items = [b for b in raw.blocks if b.list_item]
    assert [b.text for b in items] == [
        "Alert fired at 09:25 and paged the on-call engineer",
        "Rollback completed at 10:40",
        "It took longer than expected.",
        "Nested step one",
    ]
    assert [s.ref for s in items[0].sources] == [11, 12]


def test_table_rows_join_cells_and_keep_a_source_per_cell():
    raw = read(REPORT)
    rows = [b for b in raw.blocks if b.table_row]
    assert [b.text for b in rows] == ["Action | Owner | Due", "Add validation | Bob | 2026-12-01"]
    assert [rows[1].text[s.start : s.end] for s in rows[1].sources] == [
        "Add validation",
        "Bob",
        "2026-12-01",
    ]
    assert {s.ref for s in rows[1].sources} == {22}


def test_blockquote_and_code_block_are_styled():
    raw = read(REPORT)
    styles = {b.text: b.style for b in raw.blocks if b.style}
    assert styles == {
        "Customers saw a generic error page.": "quote",
        "kubectl rollout undo deploy/payments\n\nkubectl get pods": "code",
    }
    code = next(b for b in raw.blocks if b.style == "code")
    assert [s.ref for s in code.sources] == [25, 27]


def test_indented_code_block_is_code():
    raw = read("Text.\n\n    SELECT 1;\n    SELECT 2;\n")
    assert [(b.text, b.style) for b in raw.blocks] == [
        ("Text.", ""),
        ("SELECT 1;\nSELECT 2;", "code"),
    ]


def test_html_comments_are_dropped_and_tags_stripped():
    raw = read('<!-- hidden -->\n\n<div align="center">Shown &amp; kept</div>\n\nText.\n')
    assert texts(raw) == ["Shown & kept", "Text."]


def test_images_leave_no_text_behind():
    raw = read("![architecture diagram](diagram.png)\n\nSee the diagram ![icon](i.png) above.\n")
    assert texts(raw) == ["See the diagram above."]


def test_hard_breaks_and_escapes():
    raw = read("First line  \nsecond line\\\nthird \\*not emphasis\\*\n")
    block = raw.blocks[0]
    assert block.text == "First line second line third *not emphasis*"
    assert [s.ref for s in block.sources] == [1, 2, 3]


def test_front_matter_gives_the_title_and_is_not_text():
    raw = read('---\ntitle: "Payments outage"\nauthor: Alice\n---\n\n# Heading\n\nBody.\n')
    assert raw.title == "Payments outage"
    assert texts(raw) == ["Heading", "Body."]
    assert raw.blocks[0].sources[0].ref == 6


def test_title_is_first_heading_else_first_line():
    assert read(REPORT).title == "Incident report"
    assert read("Just a paragraph\nwrapped here.\n").title == "Just a paragraph"
    assert read("<!-- nothing -->\n", "empty-notes.md").title == "empty-notes"


def test_messy_input_bom_crlf_cp1252_trailing_spaces_tabs_and_a_long_line():
    long_line = "word " * 3000
    text = (
        "# Caf\u00e9 \u201creview\u201d   \r\n"
        "\r\n"
        "Cost was \u00a3250 \u2013 paid.   \r\n"
        "\r\n"
        f"{long_line}\r\n"
        "\r\n"
        "-\tTabbed bullet\r\n"
        "\r\n"
        "| a\t| b |\r\n|---|---|\r\n| 1 | 2 |\r\n"
    )
    for data in (codecs.BOM_UTF8 + text.encode(), text.encode("cp1252"), text.encode("utf-16")):
        raw = read(data)
        assert texts(raw) == [
            "Café “review”",
            "Cost was £250 – paid.",
            long_line.strip(),
            "Tabbed bullet",
            "a | b",
            "1 | 2",
        ]
        assert raw.blocks[3].list_item
        assert_sources_on_lines(raw, text)


def test_binary_file_named_md_is_refused():
    with pytest.raises(UnsupportedDocument):
        read(b"\x00\x01\x02\x03" * 100, "notes.md")


def test_paragraph_longer_than_the_limit_is_refused():
    with pytest.raises(DocumentTooLarge):
        read("word " * 50, limits=Limits(max_paragraph_chars=100))


def test_read_raw_dispatches_markdown():
    raw = read_raw(REPORT.encode(), "report.markdown")
    assert raw.format == "md" and raw.title == "Incident report"


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
    assert_sources_in_order_on_lines(raw, text)


def assert_sources_in_order_on_lines(raw, source_text: str) -> None:
    """Markup aside, the characters at each SourceRef appear in order on the line it names."""
    lines = source_text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    for block in raw.blocks:
        for source in block.sources:
            assert 0 <= source.start < source.end <= len(block.text)
            line = iter(lines[source.ref - 1])
            segment = block.text[source.start : source.end]
            assert all(c in line for c in segment if not c.isspace()), (segment, source.ref)
