"""Write-ups as an author makes them in Word, each with one layout feature turned on.

Built with python-docx so every input is visible here; tests/office_pdf.py turns them into PDFs
with LibreOffice, the way a reviewer is often sent them. The prose is long enough to run over
several pages, which running headers, page numbers and paragraphs cut by page breaks need.
"""

from __future__ import annotations

import io

import docx
from docx.enum.section import WD_SECTION
from docx.opc.constants import RELATIONSHIP_TYPE as RT
from docx.opc.packuri import PackURI
from docx.opc.part import Part
from docx.oxml import OxmlElement, parse_xml
from docx.oxml.ns import nsdecls, qn
from docx.shared import Pt

TITLE = "Investigation: Duplicate Refunds from the Payments Platform"
SUBTITLE = "Prepared by the Payments Reliability team for the Operations Review Board"

SUMMARY = [
    "On 3 March 2026 the refunds service paid 412 refunds twice over a period of six hours. The "
    "duplicate payments came from a retry setting that was raised without a review, and they "
    "were noticed by the finance reconciliation team on the following morning.",
    "About $58,300 was paid out twice. By 20 March 2026 the team had recovered $41,900 and the "
    "remaining balance is being collected from the customers who were paid twice.",
]
BACKGROUND = [
    "The refunds service takes approved refund requests from the support tools and sends them to "
    "the payment processor. Each request is placed on a queue and acknowledged once the processor "
    "confirms the payment, so that a request is never paid more than once in normal operation.",
    "In February the queue was moved to a new cluster as part of the platform consolidation "
    "programme. The move changed the acknowledgement timeout from thirty seconds to five seconds, "
    "which nobody on the refunds team was told about at the time.",
]
TIMELINE = [
    ("3 March 2026 08:12", "The retry setting of the refunds queue is raised from one to three."),
    ("3 March 2026 09:40", "The first duplicate refund is paid to a customer in Leeds."),
    ("3 March 2026 14:05", "Refunds are paused after an alert on the processor's dashboard."),
    ("4 March 2026 10:30", "Finance reconciliation reports 412 refunds that were paid twice."),
    ("5 March 2026 16:00", "The retry setting is reverted and refunds are resumed."),
]
IMPACT = [
    "412 customers received a refund twice and 37 of them contacted support to ask why. No "
    "customer lost money, but the support team spent about 60 hours answering the contacts and "
    "correcting the balances by hand.",
    "The finance team had to hold the monthly close for two days while the duplicate payments "
    "were traced, and the processor charged fees of about $1,200 for the extra transactions.",
]
ROOT_CAUSES = [
    "RC1: The retry setting of the refunds queue was raised from one to three without a review, "
    "because configuration changes to queues were not covered by the change approval process.",
    "RC2: The acknowledgement timeout was shortened during the migration, so slow confirmations "
    "from the processor made the queue deliver the same refund request again.",
]
ACTIONS = [
    "PA1: Add queue settings to the change approval process. Owner: Priya Nair. "
    "Due: 30 April 2026.",
    "PA2: Alert when the same refund request is paid more than once. Owner: Tom Baker. "
    "Due: 15 May 2026.",
    "PA3: Restore the thirty second acknowledgement timeout. Owner: TBD.",
]
LESSONS = [
    "Configuration that controls how often money moves deserves the same review as code. The "
    "team will write down which settings count as such before the end of the quarter.",
    "Reconciliation caught the problem within a day; an alert on duplicate payments would have "
    "caught it within minutes and saved most of the recovery work that followed.",
]
# Long words that a hyphenating layout breaks at line ends; each also appears elsewhere.
HYPHENATION = [
    "Notwithstanding the reconfiguration, the acknowledgement subsystem misinterpreted "
    "unacknowledged confirmations, and the reconciliation, notwithstanding its thoroughness, "
    "mischaracterised the interdependencies between the acknowledgement subsystem and the "
    "disbursement infrastructure; reconfiguration of the infrastructure was uncoordinated.",
    "Counterintuitively, the disbursement infrastructure's interdependencies made "
    "troubleshooting disproportionately time-consuming: the reconciliation of unacknowledged "
    "disbursements required painstakingly comprehensive documentation of every configuration "
    "and a countersignature from the accountable administrator.",
    "The accountable administrator agreed that nothing was misinterpreted on purpose: the money "
    "was recovered, payments resumed and the gap is now covered by the change approval process.",
]
FOOTNOTES = [
    "The retry setting is stored in the queue's configuration file, not in the service's code.",
    "Figures from the finance reconciliation report of 20 March 2026.",
]
# (name in the docx, kind the investigation framework gives it)
SECTIONS = [
    ("Executive Summary", "executive_summary"),
    ("Background", "background"),
    ("Timeline", "timeline"),
    ("Impact", "impact"),
    ("Root Causes", "root_causes"),
    ("Preventative Actions", "preventative_actions"),
    ("Lessons Learned", "lessons_learned"),
]

FEATURES = (
    "plain",
    "line_numbers_by_1",
    "line_numbers_by_5",
    "line_numbers_by_1_per_page",
    "line_numbers_by_5_per_page",
    "line_numbers_by_1_per_section",
    "line_numbers_by_1_two_columns",
    "page_numbers",
    "title_block",
    "two_columns",
    "table",
    "footnotes",
    "hyphenation",
    "heading_at_page_bottom",
)


def write_up(feature: str = "plain") -> bytes:
    """The investigation write-up as .docx bytes, with `feature` (one of FEATURES) turned on."""
    if feature not in FEATURES:
        raise ValueError(feature)
    document = docx.Document()
    document.add_paragraph(TITLE, style="Title")
    if feature == "title_block":
        document.add_paragraph(SUBTITLE, style="Subtitle")
        document.add_paragraph("Case reference: PAY-2026-0311")
        document.add_paragraph("Version 1.2, 24 March 2026")

    _bold_heading(document, "1.", "Executive Summary")
    paragraphs = list(SUMMARY)
    if feature == "hyphenation":
        paragraphs += HYPHENATION
    for n, text in enumerate(paragraphs):
        p = document.add_paragraph(text)
        if feature == "footnotes" and n == 1:
            _footnote(document, p, FOOTNOTES[1], 2)
    _bold_heading(document, "2.", "Background")
    for n, text in enumerate(BACKGROUND):
        p = document.add_paragraph(text)
        if feature == "footnotes" and n == 0:
            _footnote(document, p, FOOTNOTES[0], 1)
    document.add_paragraph("Timeline", style="Heading 1")
    if feature == "table":
        table = document.add_table(rows=1, cols=2)
        table.style = document.styles["Table Grid"]
        table.rows[0].cells[0].text, table.rows[0].cells[1].text = "When", "What happened"
        for when, what in TIMELINE:
            cells = table.add_row().cells
            cells[0].text, cells[1].text = when, what
    else:
        for when, what in TIMELINE:
            document.add_paragraph(f"{when}: {what}", style="List Bullet")

    if feature.endswith("two_columns"):
        _start_section(document, columns=2)
    if feature == "heading_at_page_bottom":
        # One line more, so the next heading, a bold line not kept with what follows, is the
        # last line of page 1 (tests/test_read_office_pdf.py checks that it is).
        document.add_paragraph("Reconciliation caught the problem within a day.")
        _bold_heading(document, "4.", "Impact")
    else:
        document.add_paragraph("Impact", style="Heading 1")
    for text in IMPACT:
        document.add_paragraph(text)
    if feature.endswith("per_section"):
        _start_section(document, columns=1)  # mid-page: the numbers start again there
    document.add_paragraph("Root Causes", style="Heading 1")
    for text in ROOT_CAUSES:
        document.add_paragraph(text)
    if feature.endswith("two_columns"):
        _start_section(document, columns=1)
    document.add_paragraph("Preventative Actions", style="Heading 1")
    for text in ACTIONS:
        document.add_paragraph(text, style="List Number")
    document.add_paragraph("Lessons Learned", style="Heading 1")
    for text in LESSONS:
        document.add_paragraph(text)

    if feature.startswith("line_numbers"):
        count_by = 5 if "by_5" in feature else 1
        restart = {"per_page": "newPage", "per_section": "newSection"}.get(
            feature.split("by_")[1][2:], "continuous"
        )
        for section in document.sections:
            add_line_numbers(section, count_by, restart)
    if feature == "page_numbers":
        _running_header_and_footer(document)
    if feature == "hyphenation":
        _auto_hyphenation(document)
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def _bold_heading(document, number: str, name: str) -> None:
    """A numbered heading written as a bold line, its number and name in two runs."""
    p = document.add_paragraph()
    for text in (number + " ", name):
        run = p.add_run(text)
        run.bold = True
        run.font.size = Pt(13)


def _start_section(document, columns: int) -> None:
    section = document.add_section(WD_SECTION.CONTINUOUS)
    cols = section._sectPr.find(qn("w:cols"))
    if cols is None:
        cols = OxmlElement("w:cols")
        section._sectPr.append(cols)
    cols.set(qn("w:num"), str(columns))
    cols.set(qn("w:space"), "425")


def add_line_numbers(section, count_by: int, restart: str) -> None:
    """Word's line numbering (Layout > Line Numbers), as legal and audit write-ups often have."""
    element = OxmlElement("w:lnNumType")
    element.set(qn("w:countBy"), str(count_by))
    element.set(qn("w:restart"), restart)
    element.set(qn("w:distance"), "340")
    # Schema order: lnNumType sits before pgNumType/cols/docGrid where those are present.
    anchor = next(
        (
            child
            for child in section._sectPr
            if child.tag in (qn("w:pgNumType"), qn("w:cols"), qn("w:docGrid"))
        ),
        None,
    )
    if anchor is not None:
        anchor.addprevious(element)
    else:
        section._sectPr.append(element)


def _running_header_and_footer(document) -> None:
    """A confidentiality line and the title on top, "Page N of M" at the foot of every page."""
    section = document.sections[0]
    header = section.header.paragraphs[0]
    header.text = "CONFIDENTIAL - Payments Reliability"
    section.header.add_paragraph(TITLE)
    footer = section.footer.paragraphs[0]
    footer.add_run("Page ")
    footer._p.append(_field("PAGE"))
    footer.add_run(" of ")
    footer._p.append(_field("NUMPAGES"))


def _field(code: str):
    return parse_xml(
        f'<w:fldSimple {nsdecls("w")} w:instr=" {code} "><w:r><w:t>1</w:t></w:r></w:fldSimple>'
    )


def _auto_hyphenation(document) -> None:
    settings = document.settings.element
    element = OxmlElement("w:autoHyphenation")
    settings.insert(0, element)


def _footnote(document, paragraph, text: str, number: int) -> None:
    """A footnote reference at the end of `paragraph`, its text in the footnotes part."""
    part = _footnotes_part(document)
    part._element.append(
        parse_xml(
            f'<w:footnote {nsdecls("w")} w:id="{number}"><w:p><w:r><w:rPr>'
            '<w:vertAlign w:val="superscript"/></w:rPr><w:footnoteRef/></w:r>'
            f'<w:r><w:t xml:space="preserve"> {text}</w:t></w:r></w:p></w:footnote>'
        )
    )
    run = paragraph.add_run()
    run._r.append(parse_xml(f'<w:rPr {nsdecls("w")}><w:vertAlign w:val="superscript"/></w:rPr>'))
    run._r.append(parse_xml(f'<w:footnoteReference {nsdecls("w")} w:id="{number}"/>'))


class _FootnotesPart(Part):
    """word/footnotes.xml, which python-docx's template does not have."""

    def __init__(self, package):
        super().__init__(
            PackURI("/word/footnotes.xml"),
            "application/vnd.openxmlformats-officedocument.wordprocessingml.footnotes+xml",
            package=package,
        )
        self._element = parse_xml(
            f"<w:footnotes {nsdecls('w')}>"
            '<w:footnote w:type="separator" w:id="-1"><w:p><w:r><w:separator/></w:r></w:p>'
            "</w:footnote>"
            '<w:footnote w:type="continuationSeparator" w:id="0"><w:p><w:r>'
            "<w:continuationSeparator/></w:r></w:p></w:footnote></w:footnotes>"
        )

    @property
    def blob(self) -> bytes:
        from lxml import etree

        return etree.tostring(self._element, xml_declaration=True, encoding="UTF-8")


def _footnotes_part(document) -> _FootnotesPart:
    for rel in document.part.rels.values():
        if rel.reltype == RT.FOOTNOTES:
            return rel.target_part
    part = _FootnotesPart(document.part.package)
    document.part.relate_to(part, RT.FOOTNOTES)
    return part
