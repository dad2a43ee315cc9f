"""The PDF reader: PDFs are drawn with reportlab in each test, so every input is visible here."""

from __future__ import annotations

import io
import re
from xml.sax.saxutils import escape

import pytest
from pypdf import PdfReader, PdfWriter
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen import canvas
from reportlab.platypus import PageBreak, Paragraph, SimpleDocTemplate

from server.documents import read_raw
from server.documents.limits import DEFAULT_LIMITS, Limits
from server.documents.pdf import read_pdf
from server.errors import (
    CorruptDocument,
    DocumentTooLarge,
    EncryptedDocument,
    NoTextLayer,
    ReviewTooSlow,
)

STYLES = {
    "h1": ParagraphStyle("h1", fontName="Helvetica-Bold", fontSize=16, leading=20, spaceAfter=8),
    "h2": ParagraphStyle("h2", fontName="Helvetica-Bold", fontSize=12, leading=15, spaceAfter=6),
    "p": ParagraphStyle("p", fontName="Helvetica", fontSize=10, leading=12, spaceAfter=8),
    "bold": ParagraphStyle(
        "bold", fontName="Helvetica-Bold", fontSize=10, leading=12, spaceAfter=8
    ),
    "bullet": ParagraphStyle(
        "bullet",
        fontName="Helvetica",
        fontSize=10,
        leading=12,
        spaceAfter=4,
        leftIndent=18,
        bulletIndent=6,
    ),
}

BODY = [
    "The payment service stopped accepting card transactions at 09:14 on 3 March after a "
    "configuration change removed the limit on database connections.",
    "Engineers on call noticed the alert eleven minutes later and began rolling back the change, "
    "which took longer than expected because the deployment tool was itself degraded.",
    "Customers who tried to pay during the outage saw a generic error page; about 1,204 orders "
    "were abandoned and 37 customers contacted support by telephone or e-mail.",
    "The root cause was a missing validation step in the release pipeline, which allowed an empty "
    "value to replace the connection limit without any reviewer noticing the difference.",
]


def story_pdf(items, title: str | None = None, header: bool = True, **doc_options) -> bytes:
    """A PDF from (style, text) items ("break" starts a page), with running header and footer."""
    buf = io.BytesIO()

    def running(c, doc):
        if header:
            c.saveState()
            c.setFont("Helvetica", 8)
            c.drawString(72, 800, "ACME Corp – Confidential")
            c.drawString(280, 30, f"Page {doc.page} of 3")
            c.restoreState()

    story = []
    for style, text in items:
        if style == "break":
            story.append(PageBreak())
        elif style == "bullet":
            story.append(Paragraph(escape(text), STYLES["bullet"], bulletText="•"))
        else:
            story.append(Paragraph(escape(text), STYLES[style]))
    doc = SimpleDocTemplate(buf, pagesize=A4, title=title or "", **doc_options)
    doc.build(story, onFirstPage=running, onLaterPages=running)
    return buf.getvalue()


def canvas_pdf(*pages: list[tuple[float, float, str, str, float]]) -> bytes:
    """A PDF drawn line by line: each page is a list of (x, y, text, font, size)."""
    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=A4)
    for lines in pages:
        for x, y, text, font, size in lines:
            c.setFont(font, size)
            c.drawString(x, y, text)
        c.showPage()
    c.save()
    return buf.getvalue()


def report_pdf() -> bytes:
    return story_pdf(
        [
            ("h1", "Incident report"),
            ("p", BODY[0]),
            ("h2", "Timeline"),
            ("p", BODY[1]),
            ("bullet", "Alert fired at 09:25"),
            ("bullet", "Rollback completed at 10:40"),
            ("break", ""),
            ("h2", "Impact"),
            ("p", BODY[2]),
            ("bold", "Owner and due date"),
            ("break", ""),
            ("h2", "Root cause"),
            ("p", BODY[3]),
        ]
    )


def read(data: bytes, name: str = "report.pdf", limits: Limits = DEFAULT_LIMITS):
    return read_pdf(data, name, limits)


def words(text: str) -> list[str]:
    return re.findall(r"\w+", text)


def assert_sources_on_pages(data: bytes, raw) -> None:
    """Every SourceRef's text is on the page it names."""
    pages = [page.extract_text() for page in PdfReader(io.BytesIO(data)).pages]
    for block in raw.blocks:
        assert block.sources, block
        covered = 0
        for source in block.sources:
            segment = block.text[source.start : source.end]
            page_words = set(words(pages[source.ref - 1]))
            missing = [w for w in words(segment) if w not in page_words]
            assert not missing, (source, segment, missing)
            covered += source.end - source.start
        assert covered >= len(block.text.replace(" ", "")) * 0.9


def test_headings_get_levels_by_font_size_largest_first():
    raw = read(report_pdf())
    levels = {b.text: b.heading_level for b in raw.blocks if b.heading_level}
    assert levels == {"Incident report": 1, "Timeline": 2, "Impact": 2, "Root cause": 2}
    assert all(b.bold for b in raw.blocks if b.heading_level)


def test_body_paragraph_wrapped_over_lines_is_one_block():
    raw = read(report_pdf())
    texts = [b.text for b in raw.blocks]
    for paragraph in BODY:
        assert paragraph in texts
    assert all(b.heading_level is None and not b.bold for b in raw.blocks if b.text in BODY)


def test_blocks_come_in_reading_order():
    raw = read(report_pdf())
    texts = [b.text for b in raw.blocks]
    assert texts.index("Incident report") < texts.index(BODY[0]) < texts.index("Timeline")
    assert (
        texts.index("Impact")
        < texts.index(BODY[2])
        < texts.index("Root cause")
        < texts.index(BODY[3])
    )


def test_running_header_and_page_numbers_are_dropped():
    raw = read(report_pdf())
    joined = "\n".join(b.text for b in raw.blocks)
    assert "ACME Corp" not in joined
    assert "Page " not in joined


def test_header_on_a_single_page_is_kept():
    data = canvas_pdf(
        [(72, 800, "Draft for comment", "Helvetica", 8), (72, 700, BODY[0][:80], "Helvetica", 10)]
    )
    raw = read(data)
    assert "Draft for comment" in [b.text for b in raw.blocks]


def test_bare_page_numbers_at_page_foot_are_dropped():
    bodies = ["Alpha team wrote this page.", "Bravo team wrote page 2.", "Charlie wrote the last."]
    pages = [
        [(72, 700, text, "Helvetica", 10), (290, 30, str(n), "Helvetica", 9)]
        for n, text in enumerate(bodies, start=1)
    ]
    raw = read(canvas_pdf(*pages))
    assert [b.text for b in raw.blocks] == bodies


def test_heading_repeated_at_the_same_place_with_other_numbers_is_kept():
    pages = [
        [(72, 780, f"Step {n + 4}", "Helvetica-Bold", 12), (72, 700, body, "Helvetica", 10)]
        for n, body in enumerate(["Check the logs first.", "Then restart it.", "Tell the team."], 1)
    ]
    raw = read(canvas_pdf(*pages))
    assert [b.text for b in raw.blocks if b.heading_level] == ["Step 5", "Step 6", "Step 7"]


def test_sources_name_the_page_each_paragraph_is_on():
    data = report_pdf()
    raw = read(data)
    by_text = {b.text: b for b in raw.blocks}
    assert [s.ref for s in by_text["Incident report"].sources] == [1]
    assert [s.ref for s in by_text[BODY[2]].sources] == [2]
    assert [s.ref for s in by_text[BODY[3]].sources] == [3]
    assert_sources_on_pages(data, raw)


def test_sentence_cut_by_a_page_break_is_one_block_with_a_source_per_page():
    page1 = [
        (72, 700, "Heading", "Helvetica-Bold", 16),
        (
            72,
            660,
            "The service was restarted by the engineer on call, and the backlog",
            "Helvetica",
            10,
        ),
        (
            72,
            648,
            "of queued payments was then processed over the next forty minutes",
            "Helvetica",
            10,
        ),
    ]
    page2 = [(72, 780, "without further errors being reported by customers.", "Helvetica", 10)]
    data = canvas_pdf(page1, page2)
    raw = read(data)
    block = raw.blocks[-1]
    assert block.text.endswith("forty minutes without further errors being reported by customers.")
    assert [s.ref for s in block.sources] == [1, 2]
    assert block.text[block.sources[1].start : block.sources[1].end].startswith("without further")
    assert_sources_on_pages(data, raw)


def test_new_sentence_on_next_page_is_a_new_block():
    page1 = [(72, 660, "The first paragraph ends on this page.", "Helvetica", 10)]
    page2 = [(72, 780, "A second paragraph starts the next page.", "Helvetica", 10)]
    raw = read(canvas_pdf(page1, page2))
    assert [b.text for b in raw.blocks] == [
        "The first paragraph ends on this page.",
        "A second paragraph starts the next page.",
    ]


def test_bullets_are_list_items_without_the_bullet_glyph():
    raw = read(report_pdf())
    items = [b for b in raw.blocks if b.list_item]
    assert [b.text for b in items] == ["Alert fired at 09:25", "Rollback completed at 10:40"]


def test_bold_line_at_body_size_is_bold_but_not_a_heading():
    raw = read(report_pdf())
    block = next(b for b in raw.blocks if b.text == "Owner and due date")
    assert block.bold and block.heading_level is None


def test_all_capitals_line_is_marked():
    data = canvas_pdf(
        [
            (72, 700, "EXECUTIVE SUMMARY", "Helvetica", 10),
            (72, 670, "Nothing else to say here.", "Helvetica", 10),
        ]
    )
    raw = read(data)
    assert [b.all_caps for b in raw.blocks] == [True, False]


def test_indented_first_lines_separate_paragraphs_without_spacing():
    lines = [
        (90, 700, "First paragraph starts with an indented line and", "Helvetica", 10),
        (72, 688, "goes on here until it is done.", "Helvetica", 10),
        (90, 676, "Second paragraph is also indented at its start", "Helvetica", 10),
        (72, 664, "and finishes on this line.", "Helvetica", 10),
    ]
    raw = read(canvas_pdf(lines))
    assert [b.text for b in raw.blocks] == [
        "First paragraph starts with an indented line and goes on here until it is done.",
        "Second paragraph is also indented at its start and finishes on this line.",
    ]


def test_word_hyphenated_at_line_end_is_joined_without_a_space():
    lines = [
        (
            72,
            700,
            "The team agreed on a long-term plan to improve the monitoring of the plat-",
            "Helvetica",
            10,
        ),
        (72, 688, "form before the next release.", "Helvetica", 10),
    ]
    raw = read(canvas_pdf(lines))
    assert raw.blocks[0].text.endswith("monitoring of the plat-form before the next release.")


def test_metadata_title_is_used():
    raw = read(
        story_pdf([("h1", "Heading on the page"), ("p", BODY[0])], title="Payment outage review")
    )
    assert raw.title == "Payment outage review"


def test_placeholder_metadata_title_falls_back_to_first_heading():
    raw = read(
        story_pdf([("p", BODY[0]), ("h1", "Heading on the page"), ("p", BODY[1])], title="untitled")
    )
    assert raw.title == "Heading on the page"


def test_messy_text_quotes_pound_sign_long_paragraph_and_trailing_spaces():
    long_paragraph = " ".join(
        f"Sentence number {n} about the £250 “refund” policy." for n in range(60)
    )
    data = story_pdf(
        [("h1", "Refunds  "), ("p", long_paragraph), ("p", "Short one.   ")], header=False
    )
    raw = read(data)
    texts = [b.text for b in raw.blocks]
    assert texts == ["Refunds", long_paragraph, "Short one."]
    assert len({s.ref for s in raw.blocks[1].sources}) >= 1
    assert_sources_on_pages(data, raw)


def test_embedded_font_ligatures_are_spelled_out_and_bold_is_read_from_the_font_name():
    pdfmetrics.registerFont(TTFont("Vera", "Vera.ttf"))  # ships with reportlab
    pdfmetrics.registerFont(TTFont("VeraBd", "VeraBd.ttf"))
    data = canvas_pdf(
        [
            (72, 740, "Findings", "VeraBd", 14),
            (72, 700, "The ﬁnal ﬂow chart “quoted” £5 – done.", "Vera", 10),
        ]
    )
    raw = read(data)
    assert [(b.text, b.bold, b.heading_level) for b in raw.blocks] == [
        ("Findings", True, 1),
        ("The final flow chart “quoted” £5 – done.", False, None),
    ]


def test_password_protected_pdf_is_refused_with_advice():
    buf = io.BytesIO()
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(report_pdf())))
    writer.encrypt(user_password="secret", owner_password="owner", algorithm="RC4-128")
    writer.write(buf)
    with pytest.raises(EncryptedDocument) as info:
        read(buf.getvalue(), "locked.pdf")
    assert info.value.message == (
        "'locked.pdf' is password-protected; open it, remove the password (print to PDF) and "
        "try again."
    )


def test_pdf_encrypted_by_reportlab_is_refused():
    data = story_pdf([("p", BODY[0])], encrypt="secret")
    with pytest.raises(EncryptedDocument):
        read(data, "locked.pdf")


def test_pdf_with_empty_user_password_is_read():
    buf = io.BytesIO()
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(report_pdf())))
    writer.encrypt(user_password="", owner_password="owner", algorithm="RC4-128")
    writer.write(buf)
    raw = read(buf.getvalue())
    assert BODY[0] in [b.text for b in raw.blocks]


def test_encryption_needing_a_missing_library_is_reported_as_locked(monkeypatch):
    from pypdf.errors import DependencyError

    buf = io.BytesIO()
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(report_pdf())))
    writer.encrypt(user_password="", owner_password="owner", algorithm="RC4-128")
    writer.write(buf)

    def needs_aes(self, password):
        raise DependencyError("cryptography>=3.1 is required for AES algorithm")

    monkeypatch.setattr(PdfReader, "decrypt", needs_aes)
    with pytest.raises(EncryptedDocument):
        read(buf.getvalue())


def test_scanned_pdf_without_text_layer_is_refused():
    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=A4)
    c.rect(72, 400, 300, 300, fill=1)
    c.showPage()
    c.save()
    with pytest.raises(NoTextLayer) as info:
        read(buf.getvalue(), "scan.pdf")
    assert info.value.message == (
        "'scan.pdf' has no text layer (it looks scanned); run OCR on it or export the original "
        "as .docx."
    )


def test_truncated_pdf_is_corrupt():
    data = report_pdf()
    with pytest.raises(CorruptDocument) as info:
        read(data[: len(data) // 2], "cut.pdf")
    assert "'cut.pdf' is damaged or incomplete" in info.value.message


def test_garbage_after_pdf_signature_is_corrupt():
    with pytest.raises(CorruptDocument):
        read(b"%PDF-1.7\n" + bytes(range(256)) * 20, "junk.pdf")


def test_more_pages_than_the_limit_is_refused():
    pages = [[(72, 700, f"Page {n} text.", "Helvetica", 10)] for n in range(3)]
    with pytest.raises(DocumentTooLarge) as info:
        read(canvas_pdf(*pages), "big.pdf", Limits(max_pages=2))
    assert "has 3 pages; the limit is 2" in info.value.message


def test_reading_stops_when_the_time_budget_is_spent():
    with pytest.raises(ReviewTooSlow):
        read(report_pdf(), limits=Limits(max_seconds=1e-9))


def test_paragraph_longer_than_the_limit_is_refused():
    with pytest.raises(DocumentTooLarge):
        read(story_pdf([("p", BODY[0])]), limits=Limits(max_paragraph_chars=50))


def test_read_raw_dispatches_pdf_by_content():
    raw = read_raw(report_pdf(), "renamed.txt")
    assert raw.format == "pdf"
    assert raw.title == "Incident report"


def test_heading_wrapped_over_two_lines_is_one_heading_block():
    heading = "Review of the payment service outage of 3 March and of the missing validation step"
    raw = read(story_pdf([("h1", heading), ("p", BODY[0]), ("p", BODY[1])], header=False))
    assert [(b.text, b.heading_level) for b in raw.blocks[:2]] == [(heading, 1), (BODY[0], None)]


def test_dash_bullets_are_list_items_but_a_negative_number_is_not():
    lines = [
        (72, 700, "- Restart the service", "Helvetica", 10),
        (72, 680, "-5% change in error rate was seen overnight.", "Helvetica", 10),
    ]
    raw = read(canvas_pdf(lines))
    assert [(b.text, b.list_item) for b in raw.blocks] == [
        ("Restart the service", True),
        ("-5% change in error rate was seen overnight.", False),
    ]


def test_aes_encrypted_pdf_with_an_empty_user_password_is_read():
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(report_pdf())))
    writer.encrypt(user_password="", owner_password="owner-secret", algorithm="AES-256")
    out = io.BytesIO()
    writer.write(out)
    assert read(out.getvalue()).blocks


# --- what office suites draw around the text -------------------------------------------------

LINES = [
    "The refunds service paid the same refund twice when the processor was slow to confirm",
    "a payment, because the queue delivered the request again after five seconds had passed",
    "and nobody had told the refunds team that the timeout was shortened during the move.",
]


def numbered_page(first: int, step: int = 1, top: float = 700, lines=LINES) -> list:
    """Body lines at x=72 with Word-style line numbers right-aligned in the left margin."""
    out = []
    for n, text in enumerate(lines):
        number = first + n * step
        y = top - 12 * n
        out.append((54 - 5 * len(str(number)), y, str(number), "Helvetica", 10))
        out.append((72, y, text, "Helvetica", 10))
    return out


def test_margin_line_numbers_are_dropped_by_position_and_rise():
    second = [line.replace(" the ", " this ") for line in LINES]
    raw = read(canvas_pdf(numbered_page(1), numbered_page(4, lines=second)))
    assert [b.text for b in raw.blocks] == [" ".join(LINES), " ".join(second)]


def test_margin_line_numbers_counted_by_five_restarting_per_page_are_dropped():
    pages = [
        [(44, 700 - 12 * 4, "5", "Helvetica", 10)]
        + [(72, 700 - 12 * n, f"Page {p} line {n + 1} runs on", "Helvetica", 10) for n in range(5)]
        for p in ("one", "two", "three")
    ]
    raw = read(canvas_pdf(*pages))
    assert [b.text.split(" line ")[0] for b in raw.blocks] == ["Page one", "Page two", "Page three"]
    assert "5 Page" not in " ".join(b.text for b in raw.blocks)


def test_numbers_in_the_margin_that_do_not_rise_down_the_page_are_kept():
    page = [
        (40, 700, "30", "Helvetica", 10),
        (72, 700, "Thirty refunds were paid twice on the first day.", "Helvetica", 10),
        (40, 680, "12", "Helvetica", 10),
        (72, 680, "Twelve more were paid twice on the second day.", "Helvetica", 10),
        (40, 660, "4", "Helvetica", 10),
        (72, 660, "Four were paid twice on the last day.", "Helvetica", 10),
    ]
    raw = read(canvas_pdf(page))
    text = " ".join(b.text for b in raw.blocks)
    assert all(number in text.split() for number in ("30", "12", "4"))


def test_footnote_reference_is_left_out_and_the_footnote_comes_last_apart():
    page = [
        (72, 700, "The retry setting was raised without a review.", "Helvetica", 10),
        (300, 704, "1", "Helvetica", 6),
        (72, 660, "Nobody noticed until the next morning.", "Helvetica", 10),
        (72, 80, "1", "Helvetica", 6),
        (78, 76, "It lives in the queue's configuration file.", "Helvetica", 8),
    ]
    raw = read(canvas_pdf(page))
    assert [(b.text, b.style) for b in raw.blocks] == [
        ("The retry setting was raised without a review.", ""),
        ("Nobody noticed until the next morning.", ""),
        ("It lives in the queue's configuration file.", "Footnote"),
    ]


def test_hyphen_at_a_line_end_is_dropped_where_the_word_is_elsewhere_unbroken():
    lines = [
        (72, 700, "The team agreed on a long-term plan to improve the monitoring of the plat-", 10),
        (72, 688, "form before the next release, and to tell everyone with a long-", 10),
        (72, 676, "term stake in the platform.", 10),
    ]
    raw = read(canvas_pdf([(x, y, t, "Helvetica", s) for x, y, t, s in lines]))
    assert raw.blocks[0].text == (
        "The team agreed on a long-term plan to improve the monitoring of the platform before "
        "the next release, and to tell everyone with a long-term stake in the platform."
    )


def test_cells_at_columns_shared_by_several_lines_are_table_rows():
    rows = [
        (700, "When", "What happened"),
        (686, "3 March 08:12", "The retry setting is raised from one"),
        (674, "", "to three."),
        (660, "4 March 10:30", "Refunds are paused."),
    ]
    page = [(72, 740, "The events in order, as the logs show them.", "Helvetica", 10)]
    for y, left, right in rows:
        if left:
            page.append((72, y, left, "Helvetica", 10))
        page.append((250, y, right, "Helvetica", 10))
    raw = read(canvas_pdf(page))
    assert [(b.text, b.table_row) for b in raw.blocks[1:]] == [
        ("When | What happened", True),
        ("3 March 08:12 | The retry setting is raised from one to three.", True),
        ("4 March 10:30 | Refunds are paused.", True),
    ]


def test_list_number_set_apart_from_its_text_is_a_label_not_text():
    page = [
        (72, 700, "1.", "Helvetica", 10),
        (90, 700, "Add queue settings to the change approval process.", "Helvetica", 10),
        (72, 686, "2.", "Helvetica", 10),
        (90, 686, "Alert when a refund is paid twice.", "Helvetica", 10),
        (72, 660, "3. Typed numbering stays part of the text.", "Helvetica", 10),
    ]
    raw = read(canvas_pdf(page))
    assert [(b.text, b.list_item) for b in raw.blocks] == [
        ("Add queue settings to the change approval process.", True),
        ("Alert when a refund is paid twice.", True),
        ("3. Typed numbering stays part of the text.", True),
    ]


def test_sentence_cut_by_a_column_break_is_one_paragraph():
    page = [
        (72, 700, "The finance team had to hold the monthly", "Helvetica", 10),
        (72, 688, "close for two days while the payments", "Helvetica", 10),
        (310, 700, "were traced, and fees of $1,200 were paid.", "Helvetica", 10),
        (310, 676, "A new paragraph starts in the same column.", "Helvetica", 10),
    ]
    raw = read(canvas_pdf(page))
    assert [b.text for b in raw.blocks] == [
        "The finance team had to hold the monthly close for two days while the payments were "
        "traced, and fees of $1,200 were paid.",
        "A new paragraph starts in the same column.",
    ]


def test_a_title_in_a_size_used_nowhere_else_is_the_documents_title():
    items = [("h1", "Payment outage review"), ("h2", "Timeline"), ("p", BODY[0])]
    raw = read(story_pdf(items, header=False))
    assert [(b.text, b.style) for b in raw.blocks[:2]] == [
        ("Payment outage review", "Title"),
        ("Timeline", ""),
    ]
