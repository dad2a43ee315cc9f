"""Reading .docx: text, formatting facts, locators, and refusal of broken or hostile packages."""

from __future__ import annotations

import io
import zipfile

import docx
import pytest
from docx.oxml import OxmlElement

from server.documents import read_raw
from server.documents.docx_text import body_paragraphs, paragraph_text
from server.errors import CorruptDocument, DocumentTooLarge, UnsupportedDocument
from server.samples import messy_investigation_docx


def saved(document) -> bytes:
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def test_every_block_maps_back_to_the_exact_source_paragraph_text():
    data = messy_investigation_docx()
    raw = read_raw(data, "messy.docx")
    source = body_paragraphs(docx.Document(io.BytesIO(data)).element.body)
    for block in raw.blocks:
        for ref in block.sources:
            assert paragraph_text(source[ref.ref]) == block.text[ref.start : ref.end]


def test_table_rows_become_one_block_with_cells_joined():
    raw = read_raw(messy_investigation_docx(), "messy.docx")
    rows = [b for b in raw.blocks if b.table_row]
    assert rows[1].text.startswith("2026-03-03 09:14 | First reversal")
    assert len(rows[1].sources) == 2


def test_headers_and_footers_are_not_read():
    texts = [b.text for b in read_raw(messy_investigation_docx(), "messy.docx").blocks]
    assert not any("CONFIDENTIAL" in t for t in texts)


def test_title_comes_from_the_title_style_when_properties_are_empty():
    raw = read_raw(messy_investigation_docx(), "messy.docx")
    assert raw.title.startswith("Investigation: Payment Reversal Abuse")


def test_bold_from_paragraph_style_and_caps_from_run_formatting_are_seen():
    document = docx.Document()
    document.styles["Normal"].font.bold = False
    strong = document.add_paragraph("Key facts", style="Intense Quote")
    strong.runs[0].bold = True
    caps = document.add_paragraph()
    caps.add_run("timeline").font.all_caps = True
    raw = read_raw(saved(document), "x.docx")
    assert raw.blocks[0].bold
    assert raw.blocks[1].all_caps


def test_hyperlink_text_is_part_of_the_paragraph():
    document = docx.Document()
    p = document.add_paragraph("See ")
    link = OxmlElement("w:hyperlink")
    run = OxmlElement("w:r")
    t = OxmlElement("w:t")
    t.text = "the runbook"
    run.append(t)
    link.append(run)
    p._p.append(link)
    p.add_run(" for details.")
    assert read_raw(saved(document), "x.docx").blocks[0].text == "See the runbook for details."


def test_list_paragraphs_are_list_items():
    document = docx.Document()
    document.add_paragraph("Suspend accounts", style="List Bullet")
    document.add_paragraph("Plain text.")
    assert [b.list_item for b in read_raw(saved(document), "x.docx").blocks] == [True, False]


def test_a_file_that_is_not_a_zip_is_refused_as_damaged():
    with pytest.raises(UnsupportedDocument, match="not a Word document"):
        read_raw(b"just some text", "report.docx")


def test_a_truncated_docx_is_refused_as_damaged():
    data = messy_investigation_docx()
    with pytest.raises(CorruptDocument, match="damaged"):
        read_raw(data[: len(data) // 2], "cut.docx")


def test_a_package_without_document_xml_is_refused():
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        z.writestr("[Content_Types].xml", "<Types/>")
    with pytest.raises(CorruptDocument, match=r"document\.xml"):
        read_raw(out.getvalue(), "empty.docx")


def _rewrite(data: bytes, replace: dict[str, bytes], add: dict[str, bytes] | None = None) -> bytes:
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for item in source.infolist():
            z.writestr(item, replace.get(item.filename, source.read(item.filename)))
        for name, content in (add or {}).items():
            z.writestr(name, content)
    return out.getvalue()


def test_entity_expansion_in_document_xml_is_refused():
    bomb = (
        b'<?xml version="1.0"?><!DOCTYPE w [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;">]>'
        b'<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">'
        b"<w:body><w:p><w:r><w:t>&b;</w:t></w:r></w:p></w:body></w:document>"
    )
    data = _rewrite(messy_investigation_docx(), {"word/document.xml": bomb})
    with pytest.raises(CorruptDocument, match="DOCTYPE"):
        read_raw(data, "bomb.docx")


def test_a_macro_enabled_package_renamed_docx_is_refused():
    data = _rewrite(messy_investigation_docx(), {}, add={"word/vbaProject.bin": b"\0" * 64})
    with pytest.raises(UnsupportedDocument, match="macros"):
        read_raw(data, "macro.docx")


def test_a_zip_bomb_is_refused_before_parsing():
    data = _rewrite(messy_investigation_docx(), {}, add={"word/media/huge.bin": b"\0" * 50_000_000})
    with pytest.raises(DocumentTooLarge, match="zip bomb"):
        read_raw(data, "bomb.docx")


def test_an_old_binary_word_file_gets_a_save_as_docx_message():
    with pytest.raises(UnsupportedDocument, match=r"\.doc"):
        read_raw(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 100, "old.doc")
