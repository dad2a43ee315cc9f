"""Broken and hostile files, built in code: what a reviewer's e-mail and shared drives deliver.

Each `Case` says what AI-Prism does with it: refuse it with an error code (the CLI exits 2 with one
line, the API answers 4xx JSON), or read it like any other document. Nothing binary is committed;
every builder is a few lines that show exactly what is wrong with the file.
"""

from __future__ import annotations

import io
import struct
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache

import docx
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from pypdf import PdfWriter
from reportlab.lib.pagesizes import A4
from reportlab.pdfgen import canvas

from server.samples import messy_investigation_docx

SCRIPT = "<script>alert(1)</script>"
IMG = "<img src=x onerror=alert(2)>"
MB = 1024 * 1024
W_NS = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"


@dataclass(frozen=True)
class Case:
    kind: str
    filename: str
    build: Callable[[], bytes]
    code: str | None  # the error code it is refused with; None: it is read and reviewed
    http_status: int | None = None  # when the API answers differently from the code's class
    http_code: str | None = None

    @property
    def refused(self) -> bool:
        return self.code is not None


# --- .docx -----------------------------------------------------------------------------------


def plain_docx(*paragraphs: str, heading: str = "Executive Summary") -> bytes:
    document = docx.Document()
    document.add_heading(heading, 1)
    for text in paragraphs:
        document.add_paragraph(text)
    return _save(document)


def _save(document) -> bytes:
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def rewrite_zip(
    data: bytes,
    replace: dict[str, bytes] | None = None,
    add: dict[str, bytes] | None = None,
    drop: tuple[str, ...] = (),
) -> bytes:
    """A copy of a zip package with some members replaced, added or left out."""
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for item in source.infolist():
            if item.filename not in drop:
                z.writestr(item, (replace or {}).get(item.filename, source.read(item.filename)))
        for name, content in (add or {}).items():
            z.writestr(name, content)
    return out.getvalue()


def _document_xml(body: str, prologue: str = "") -> bytes:
    return (
        f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>{prologue}'
        f'<w:document xmlns:w="{W_NS}"><w:body>{body}</w:body></w:document>'
    ).encode()


def _para_xml(text: str) -> str:
    return f'<w:p><w:r><w:t xml:space="preserve">{text}</w:t></w:r></w:p>'


def billion_laughs_docx() -> bytes:
    entities = '<!ENTITY lol "lol">' + "".join(
        f'<!ENTITY lol{n} "{f"&lol{n - 1};" * 10 if n > 1 else "&lol;" * 10}">'
        for n in range(1, 10)
    )
    xml = _document_xml(_para_xml("&lol9;"), prologue=f"<!DOCTYPE w:document [{entities}]>")
    return rewrite_zip(plain_docx("x"), {"word/document.xml": xml})


def external_entity_docx() -> bytes:
    xml = _document_xml(
        _para_xml("Owner: &xxe;"),
        prologue='<!DOCTYPE w:document [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>',
    )
    return rewrite_zip(plain_docx("x"), {"word/document.xml": xml})


def hidden_doctype_docx() -> bytes:
    """A DOCTYPE behind 64 KB of comments, and the part in UTF-16: past a naive byte search."""
    prologue = "<!--" + " padding " * 8000 + "-->"
    prologue += '<!DOCTYPE w:document [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
    xml = _document_xml(_para_xml("Owner: &xxe;"), prologue=prologue).decode()
    xml = xml.replace('encoding="UTF-8"', 'encoding="UTF-16"')
    return rewrite_zip(plain_docx("x"), {"word/document.xml": xml.encode("utf-16")})


def zip_bomb_docx() -> bytes:
    """20 MB of zeros squeezed into ~20 KB: a ratio of ~1000."""
    return rewrite_zip(plain_docx("x"), add={"word/media/image1.png": bytes(20 * MB)})


def lying_zip_docx() -> bytes:
    """word/document.xml claims to be 1 KB and inflates to 30 MB: the header lies."""
    data = rewrite_zip(
        plain_docx("x"), {"word/document.xml": _document_xml(_para_xml("a" * 30 * MB))}
    )
    return _patch_sizes(data, "word/document.xml", 1024)


def _patch_sizes(data: bytes, name: str, size: int) -> bytes:
    """Overwrite the uncompressed size of `name` in its local and central headers."""
    raw = bytearray(data)
    encoded = name.encode()
    local = raw.find(b"PK\x03\x04")
    while local != -1:
        name_len = struct.unpack_from("<H", raw, local + 26)[0]
        if raw[local + 30 : local + 30 + name_len] == encoded:
            struct.pack_into("<I", raw, local + 22, size)
        local = raw.find(b"PK\x03\x04", local + 4)
    central = raw.find(b"PK\x01\x02")
    while central != -1:
        name_len = struct.unpack_from("<H", raw, central + 28)[0]
        if raw[central + 46 : central + 46 + name_len] == encoded:
            struct.pack_into("<I", raw, central + 24, size)
        central = raw.find(b"PK\x01\x02", central + 4)
    return bytes(raw)


def macro_docx() -> bytes:
    return rewrite_zip(plain_docx("x"), add={"word/vbaProject.bin": b"\xcc" * 512})


def macro_content_type_docx() -> bytes:
    data = plain_docx("x")
    types = zipfile.ZipFile(io.BytesIO(data)).read("[Content_Types].xml")
    types = types.replace(
        b"application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml",
        b"application/vnd.ms-word.document.macroEnabled.main+xml",
    )
    return rewrite_zip(data, {"[Content_Types].xml": types})


def no_body_docx() -> bytes:
    return rewrite_zip(plain_docx("x"), drop=("word/document.xml",))


def truncated_docx() -> bytes:
    data = messy_investigation_docx()
    return data[: len(data) // 2]


def unknown_comment_ids_docx() -> bytes:
    """Comment markers whose ids comments.xml does not have (another tool left them behind)."""
    document = docx.Document()
    document.add_heading("Executive Summary", 1)
    paragraph = document.add_paragraph("The refund check was skipped for migrated merchants.")
    start, end = OxmlElement("w:commentRangeStart"), OxmlElement("w:commentRangeEnd")
    start.set(qn("w:id"), "9999")
    end.set(qn("w:id"), "9999")
    paragraph._p.insert(0, start)
    paragraph._p.append(end)
    reference = OxmlElement("w:r")
    marker = OxmlElement("w:commentReference")
    marker.set(qn("w:id"), "9999")
    reference.append(marker)
    paragraph._p.append(reference)
    return _save(document)


def malformed_comments_docx() -> bytes:
    data = messy_investigation_docx()
    names = zipfile.ZipFile(io.BytesIO(data)).namelist()
    assert "word/comments.xml" in names
    broken = f'<w:comments xmlns:w="{W_NS}"><w:comment w:id="0"><w:p>unclosed'.encode()
    return rewrite_zip(data, {"word/comments.xml": broken})


def _tiny_runs_docx(count: int) -> bytes:
    """One paragraph of `count` one-character runs, each with its own formatting."""
    runs = "".join(
        f'<w:r><w:rPr><w:sz w:val="{n % 97}"/></w:rPr><w:t>{"ab "[n % 3]}</w:t></w:r>'
        for n in range(count)
    )
    xml = _document_xml(_para_xml("Executive Summary") + f"<w:p>{runs}</w:p>")
    return rewrite_zip(plain_docx("x"), {"word/document.xml": xml})


def many_runs_docx() -> bytes:
    """One paragraph of 100,000 tiny runs (a tool that styles every character)."""
    return _tiny_runs_docx(100_000)


@cache
def xml_bomb_docx() -> bytes:
    """Under 1 MB to upload, over 32 MB of XML: 650,000 runs that would fill ~600 MB once parsed."""
    return _tiny_runs_docx(650_000)


def nested_tables_docx(depth: int = 200) -> bytes:
    """A table in a cell of a table ... 200 levels deep."""
    cell = "<w:p><w:r><w:t>deepest cell</w:t></w:r></w:p>"
    for level in range(depth):
        cell = f"<w:tbl><w:tr><w:tc>{cell}<w:p><w:r><w:t>level {level}</w:t></w:r></w:p></w:tc></w:tr></w:tbl><w:p/>"
    xml = _document_xml(_para_xml("Timeline") + cell)
    return rewrite_zip(plain_docx("x"), {"word/document.xml": xml})


def five_thousand_sections_docx() -> bytes:
    body = "".join(
        f'<w:p><w:pPr><w:pStyle w:val="Heading1"/></w:pPr><w:r><w:t>Part {n}</w:t></w:r></w:p>'
        + _para_xml(f"Finding {n} was confirmed by the team on 3 March 2026.")
        for n in range(5_000)
    )
    return rewrite_zip(plain_docx("x"), {"word/document.xml": _document_xml(body)})


def whitespace_run_docx() -> bytes:
    """Keywords followed by thousands of spaces and tabs: food for backtracking patterns."""
    gap = " \t" * 2_500
    return plain_docx(
        f"Evidence: ticket{gap}x and case{gap}no{gap}: x.",
        f"owner{gap}: tbd{gap}and due{gap}-{gap}soon",
        heading="Investigation",
    )


def script_docx() -> bytes:
    document = docx.Document()
    document.add_heading(f"Executive Summary {SCRIPT}", 1)
    document.add_paragraph(f"The merchant wrote {SCRIPT} and {IMG} into the refund note. TBD.")
    document.add_heading(f"Timeline {IMG}", 1)
    document.add_paragraph(f"On 3 March 2026 the script {SCRIPT} ran. Contact a@b.example.")
    return _save(document)


# --- PDF -------------------------------------------------------------------------------------


def text_pdf(*lines: str, pages: int = 1) -> bytes:
    out = io.BytesIO()
    c = canvas.Canvas(out, pagesize=A4)
    for _ in range(pages):
        y = 780
        for line in lines:
            c.drawString(72, y, line)
            y -= 16
        c.showPage()
    c.save()
    return out.getvalue()


def encrypted_pdf() -> bytes:
    writer = PdfWriter(clone_from=io.BytesIO(text_pdf("Secret findings")))
    writer.encrypt(user_password="secret", owner_password="owner", algorithm="RC4-128")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def scanned_pdf() -> bytes:
    """Pages with only drawings on them: what a scanner without OCR produces."""
    out = io.BytesIO()
    c = canvas.Canvas(out, pagesize=A4)
    for _ in range(3):
        c.rect(72, 72, 400, 600, fill=1)
        c.showPage()
    c.save()
    return out.getvalue()


def truncated_pdf() -> bytes:
    data = text_pdf("Executive Summary", "The check was skipped.", pages=4)
    return data[: len(data) // 3]


def page_bomb_pdf(pages: int = 5_000) -> bytes:
    writer = PdfWriter()
    for _ in range(pages):
        writer.add_blank_page(10, 10)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def raw_pdf(objects: list[bytes], root: int = 1, xref: bool = True) -> bytes:
    """A hand-made PDF from object bodies (numbered from 1), with a correct or a bogus xref."""
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    start = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for offset in offsets:
        out += b"%010d 00000 n \n" % (offset if xref else offset * 7 + 13)
    out += b"trailer\n<< /Size %d /Root %d 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        root,
        start if xref else start + 99_999,
    )
    return bytes(out)


def _page_objects(kids: bytes, count: int) -> list[bytes]:
    stream = b"BT /F1 12 Tf 72 720 Td (Executive Summary: the check was skipped.) Tj ET"
    return [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [" + kids + b"] /Count %d >>" % count,
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]


def cyclic_pages_pdf() -> bytes:
    """The page tree lists itself as its own kid: a walk that never ends."""
    return raw_pdf(_page_objects(b"3 0 R 2 0 R", 2))


def bad_xref_pdf() -> bytes:
    """Every offset in the cross-reference table is wrong (a file mangled by a mail gateway)."""
    return raw_pdf(_page_objects(b"3 0 R", 1), xref=False)


def lying_count_pdf() -> bytes:
    return raw_pdf(_page_objects(b"3 0 R", 10_000_000))


# --- text and Markdown -----------------------------------------------------------------------


def undecodable_text() -> bytes:
    """Invalid UTF-8, and bytes (0x81, 0x8d, 0x8f, 0x90, 0x9d) Windows-1252 leaves undefined."""
    return bytes([0xC3, 0x28, 0x81, 0x8D, 0x8F, 0x90, 0x9D, 0xFF, 0xFE, 0x41] * 400)


def binary_text() -> bytes:
    return bytes(range(256)) * 40


@cache
def oversized_text() -> bytes:
    """Just over the default 50 MB upload limit: built once, kept for the server test."""
    line = b"The refund check was skipped for migrated merchants and nobody noticed.\n"
    return line * (51 * MB // len(line))


def long_paragraph_text() -> bytes:
    return b"Executive summary\n\n" + b"word " * (MB // 5)


def deep_list_markdown() -> bytes:
    return b"# Executive Summary\n\n" + b"- " * 10_000 + b"deep item\n"


def deep_quote_markdown() -> bytes:
    return b"# Executive Summary\n\n" + b">" * 50_000 + b" deep quote\n"


def terminal_escapes_markdown() -> bytes:
    """ANSI escape sequences that would recolour or retitle a terminal `aiprism review` prints to."""
    return (
        b"# Executive Summary \x1b[31mRED\x1b[0m\n\n"
        b"Owner: TBD \x1b]0;pwned\x07 and \x9b2J cleared.\n"
    )


def script_markdown() -> bytes:
    return (
        f"# Executive Summary {SCRIPT}\n\nThe merchant wrote {IMG} in a note. TBD.\n\n"
        f"<div>{SCRIPT}</div>\n\n## Timeline\n\nOn 3 March 2026 it ran.\n"
    ).encode()


# --- the corpus ------------------------------------------------------------------------------

FORMAT_CASES: tuple[Case, ...] = (
    Case("empty_file", "empty.docx", lambda: b"", "empty_document"),
    Case("whitespace_only_text", "blank.txt", lambda: b" \n\t\r\n  \n", "empty_document"),
    Case(
        "docx_not_a_zip",
        "report.docx",
        lambda: b"Dear team, please see below." * 20,
        "unsupported_document",
    ),
    Case("docx_truncated_zip", "half.docx", truncated_docx, "corrupt_document"),
    Case("docx_zip_bomb", "bomb.docx", zip_bomb_docx, "document_too_large"),
    Case("docx_zip_header_lies_about_size", "liar.docx", lying_zip_docx, "corrupt_document"),
    Case("docx_billion_laughs", "laughs.docx", billion_laughs_docx, "corrupt_document"),
    Case("docx_external_entity", "xxe.docx", external_entity_docx, "corrupt_document"),
    Case("docx_doctype_hidden_in_utf16", "hidden.docx", hidden_doctype_docx, "corrupt_document"),
    Case("docm_renamed_docx", "macro.docx", macro_docx, "unsupported_document"),
    Case(
        "docx_macro_content_type",
        "macro-type.docx",
        macro_content_type_docx,
        "unsupported_document",
    ),
    Case("docx_without_document_xml", "nobody.docx", no_body_docx, "corrupt_document"),
    Case("docx_unknown_comment_ids", "stray-comments.docx", unknown_comment_ids_docx, None),
    Case(
        "docx_malformed_comments_xml",
        "bad-comments.docx",
        malformed_comments_docx,
        "corrupt_document",
    ),
    Case("docx_100k_tiny_runs", "runs.docx", many_runs_docx, None),
    Case("docx_xml_element_bomb", "elements.docx", xml_bomb_docx, "document_too_large"),
    Case("docx_60_nested_tables", "nested.docx", lambda: nested_tables_docx(60), None),
    Case("docx_200_nested_tables", "too-nested.docx", nested_tables_docx, "corrupt_document"),
    Case("docx_5000_sections", "sections.docx", five_thousand_sections_docx, None),
    Case("docx_whitespace_runs_for_backtracking", "gaps.docx", whitespace_run_docx, None),
    Case("docx_script_and_html", "script.docx", script_docx, None),
    Case("pdf_encrypted", "locked.pdf", encrypted_pdf, "encrypted_document"),
    Case("pdf_without_text_layer", "scan.pdf", scanned_pdf, "no_text_layer"),
    Case("pdf_truncated", "cut.pdf", truncated_pdf, "corrupt_document"),
    Case("pdf_5000_pages", "pages.pdf", page_bomb_pdf, "document_too_large"),
    Case("pdf_page_count_lies", "count.pdf", lying_count_pdf, "document_too_large"),
    Case("pdf_cyclic_page_tree", "cycle.pdf", cyclic_pages_pdf, "corrupt_document"),
    Case("pdf_bad_xref", "xref.pdf", bad_xref_pdf, None),
    Case(
        "pdf_bytes_named_docx",
        "actually-pdf.docx",
        lambda: text_pdf("Executive Summary", "The check was skipped."),
        None,
    ),
    Case(
        "docx_bytes_named_pdf",
        "actually-docx.pdf",
        lambda: plain_docx("The check was skipped."),
        None,
    ),
    Case("text_in_no_known_encoding", "latin.txt", undecodable_text, "unsupported_document"),
    Case("binary_with_nuls_named_txt", "garbage.txt", binary_text, "unsupported_document"),
    Case(
        "text_over_50_mb",
        "huge.txt",
        oversized_text,
        "document_too_large",
        413,
        "request_entity_too_large",
    ),
    Case("one_megabyte_paragraph", "wall.txt", long_paragraph_text, "document_too_large"),
    Case("markdown_10000_nested_lists", "lists.md", deep_list_markdown, None),
    Case("markdown_50000_nested_quotes", "quotes.md", deep_quote_markdown, None),
    Case("markdown_script_and_html", "script.md", script_markdown, None),
    Case("markdown_terminal_escapes", "escapes.md", terminal_escapes_markdown, None),
    Case("text_terminal_escapes", "escapes.txt", terminal_escapes_markdown, None),
)

HOSTILE_NAMES: tuple[str, ...] = (
    "../../../etc/passwd.docx",
    "/etc/cron.d/evil.docx",
    "C:\\Windows\\System32\\evil.docx",
    "bad\x00name.docx",
    "x" * 1000 + ".docx",
    "invoice\u202excod.docx",
)
