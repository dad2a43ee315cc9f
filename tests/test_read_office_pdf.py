"""PDFs exported by a real office suite read like the .docx they came from.

Each write-up of tests/office_write_ups.py (one layout feature turned on in each) is turned into a
PDF by LibreOffice Writer, headless, as a reviewer is often sent it; the PDF must then give the
same sections, nearly all the same paragraphs and about the same findings as the .docx, and every
finding's quote must be on the page its locator names.
"""

from __future__ import annotations

import io
import re

import pytest
from pypdf import PdfReader

from server.documents import load_document
from server.engines import offline
from server.frameworks import resolve
from tests.builders import AS_OF
from tests.office_write_ups import FEATURES, FOOTNOTES, TITLE, write_up

FRAMEWORK = resolve("investigation")


@pytest.fixture(scope="module")
def exported(office):
    """feature -> (.docx bytes, PDF bytes), every PDF made in one LibreOffice run."""
    documents = {feature: write_up(feature) for feature in FEATURES}
    pdfs = office.pdfs(documents)
    return {feature: (documents[feature], pdfs[feature]) for feature in FEATURES}


def read_both(exported, feature: str):
    docx_bytes, pdf_bytes = exported[feature]
    return (
        load_document(docx_bytes, f"{feature}.docx", FRAMEWORK),
        load_document(pdf_bytes, f"{feature}.pdf", FRAMEWORK),
    )


def page_texts(pdf_bytes: bytes) -> list[str]:
    return [page.extract_text() for page in PdfReader(io.BytesIO(pdf_bytes)).pages]


def normalised(text: str) -> str:
    return " ".join(text.split())


def words(text: str) -> list[str]:
    return re.findall(r"\w+", text)


@pytest.mark.parametrize("feature", FEATURES)
def test_pdf_has_the_sections_of_its_docx(exported, feature):
    from_docx, from_pdf = read_both(exported, feature)
    outline = [(s.kind, s.excluded) for s in from_docx.sections]
    assert [(s.kind, s.excluded) for s in from_pdf.sections] == outline
    assert [s.title for s in from_pdf.sections] == [s.title for s in from_docx.sections]


@pytest.mark.parametrize("feature", FEATURES)
def test_pdf_paragraphs_have_the_text_of_the_docx(exported, feature):
    from_docx, from_pdf = read_both(exported, feature)
    pdf_texts = {normalised(p.text) for p in from_pdf.paragraphs}
    missing = [p.text for p in from_docx.paragraphs if normalised(p.text) not in pdf_texts]
    assert len(missing) <= 0.05 * len(from_docx.paragraphs), missing
    docx_texts = {normalised(p.text) for p in from_docx.paragraphs}
    body = [p for p in from_pdf.paragraphs if p.style != "Footnote"]  # a .docx's are not read
    extra = [p.text for p in body if normalised(p.text) not in docx_texts]
    assert len(extra) <= 0.05 * len(body), extra


@pytest.mark.parametrize("feature", FEATURES)
def test_pdf_findings_are_those_of_the_docx_within_a_quarter(exported, feature):
    from_docx, from_pdf = read_both(exported, feature)
    docx_findings = offline.review(from_docx, FRAMEWORK, as_of=AS_OF).findings
    pdf_findings = offline.review(from_pdf, FRAMEWORK, as_of=AS_OF).findings
    assert docx_findings
    assert abs(len(pdf_findings) - len(docx_findings)) <= 0.25 * len(docx_findings), (
        sorted(f.rule for f in docx_findings),
        sorted(f.rule for f in pdf_findings),
    )


@pytest.mark.parametrize("feature", FEATURES)
def test_every_quote_is_on_the_page_its_locator_names(exported, feature):
    _, pdf_bytes = exported[feature]
    _, from_pdf = read_both(exported, feature)
    pages = [set(words(text)) for text in page_texts(pdf_bytes)]
    quoted = [f for f in offline.review(from_pdf, FRAMEWORK, as_of=AS_OF).findings if f.span]
    assert quoted
    for finding in quoted:
        span = finding.span
        paragraph = from_pdf.paragraph(span.paragraph)
        assert paragraph.text[span.start : span.end] == span.quote
        named = [s.ref for s in paragraph.sources if s.start < span.end and span.start < s.end]
        assert named, finding
        on_pages = set().union(*(pages[ref - 1] for ref in named))
        missing = [w for w in words(span.quote) if not on_page(w, on_pages)]
        assert not missing, (finding.rule, span.quote, named, missing)


def on_page(word: str, page_words: set[str]) -> bool:
    """On the page whole, or in two halves a line-end hyphen split it into."""
    return word in page_words or any(
        word[:n] in page_words and word[n:] in page_words for n in range(2, len(word) - 1)
    )


# --- each feature really is in its PDF, and is read as the .docx reads it -------------------


def test_margin_line_numbers_are_in_the_pdf_and_not_in_the_text(exported):
    for feature in (f for f in FEATURES if f.startswith("line_numbers")):
        _, pdf_bytes = exported[feature]
        first_page = page_texts(pdf_bytes)[0]
        step = 5 if "by_5" in feature else 1
        assert re.search(rf"(?m)^{step * 2}$", first_page), (feature, first_page[:300])
        _, from_pdf = read_both(exported, feature)
        assert not [p.text for p in from_pdf.paragraphs if re.fullmatch(r"[\d\s]+", p.text)]
        assert not [p.text for p in from_pdf.paragraphs if re.match(r"\d+ \d+ ", p.text)]


def test_running_header_and_page_n_of_m_footer_are_dropped(exported):
    _, pdf_bytes = exported["page_numbers"]
    texts = page_texts(pdf_bytes)
    assert len(texts) >= 2 and all("Page" in t and "CONFIDENTIAL" in t for t in texts)
    _, from_pdf = read_both(exported, "page_numbers")
    joined = "\n".join(p.text for p in from_pdf.paragraphs)
    assert "CONFIDENTIAL" not in joined and "Page 1 of" not in joined
    assert joined.count(TITLE) == 1  # the title on page 1, not the running header's copies


def test_title_block_is_the_opening(exported):
    _, from_pdf = read_both(exported, "title_block")
    opening = from_pdf.sections[0]
    assert opening.kind == "opening" and opening.title == "Opening"
    assert normalised(opening.paragraphs[0].text) == TITLE


def test_table_rows_are_read_cell_by_cell(exported):
    from_docx, from_pdf = read_both(exported, "table")
    docx_rows = [p.text for p in from_docx.paragraphs if p.table_row]
    pdf_rows = [p.text for p in from_pdf.paragraphs if p.table_row]
    assert len(docx_rows) == 6 and pdf_rows == docx_rows


def test_two_column_paragraphs_are_joined_across_the_column_break(exported):
    from_docx, from_pdf = read_both(exported, "two_columns")
    impact = next(s for s in from_pdf.sections if s.kind == "impact")
    assert [p.text for p in impact.body] == [
        p.text for s in from_docx.sections if s.kind == "impact" for p in s.body
    ]


def test_footnotes_are_kept_apart_from_the_body(exported):
    from_docx, from_pdf = read_both(exported, "footnotes")
    notes = [p for p in from_pdf.paragraphs if p.style == "Footnote"]
    assert sorted(p.text for p in notes) == sorted(FOOTNOTES)
    assert all(p.excluded for p in notes)
    body = [p.text for p in from_pdf.paragraphs if p.style != "Footnote"]
    assert body == [p.text for p in from_docx.paragraphs]


def test_hyphenation_is_undone_where_the_word_is_in_the_document_unbroken(exported):
    _, pdf_bytes = exported["hyphenation"]
    broken = re.findall(r"(\w+)-\n(\w+)", "\n".join(page_texts(pdf_bytes)))
    assert len(broken) >= 4, broken
    _, from_pdf = read_both(exported, "hyphenation")
    text = "\n".join(p.text for p in from_pdf.paragraphs)
    rejoined = 0
    for head, tail in broken:
        unbroken = len(re.findall(rf"\b{head + tail}\b", text, re.IGNORECASE))
        if f"{head}-{tail}" in text:
            assert unbroken == 0, (head, tail)  # the word is nowhere else: the hyphen may be real
        else:
            assert unbroken >= 2, (head, tail)  # rejoined, and found unbroken elsewhere too
            rejoined += 1
    assert rejoined >= 3


def test_heading_at_the_bottom_of_a_page_heads_the_next_page(exported):
    _, from_pdf = read_both(exported, "heading_at_page_bottom")
    impact = next(s for s in from_pdf.sections if s.kind == "impact")
    assert [s.ref for s in impact.heading.sources] == [1]
    assert [s.ref for s in impact.body[0].sources] == [2]
