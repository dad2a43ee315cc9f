"""A realistic, messy investigation write-up built in code.

Used by the tests, by the desktop self-test and by the benchmark: headings that are bold "Normal"
paragraphs with trailing spaces, numbered headings with colons, a timeline table, placeholders,
personal data, an existing comment, a stray comment marker left by another tool, a header and a
footer, and a forwarded e-mail thread pasted at the end. Nothing binary is committed.
"""

from __future__ import annotations

import io

import docx
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Pt

TITLE = "Investigation: Payment Reversal Abuse on Merchant Accounts"

# A short real write-up in Markdown (three sections): what the local-model test and `make bench-ai`
# review, small enough for a 135M model on two cores.
SHORT_WRITE_UP_MD = """\
# Refund duplication on 3 March 2026

## Executive Summary

On 3 March 2026 the refunds service paid 40 refunds twice. Someone noticed the spike on Monday
and the team paused refunds at 10:00. About $12,400 was paid out twice; $9,100 has been recovered.

## Timeline

On 3 March 2026 at 08:12 the first duplicate refund was issued. At 09:40 the payments team saw the
spike on the dashboard. At 10:00 refunds were paused. On 4 March the retry setting was reverted.

## Root Cause

The retry setting of the refunds queue was raised from one to three without a review, so a slow
acknowledgement made the queue deliver the same refund again. It is possible that other queues
were affected too.
"""

SUMMARY = (
    "Between 3 March 2026 and 9 March 2026 a group of 14 merchant accounts used refund reversals to "
    "withdraw funds that had already been returned to buyers. We found that the reversal limit "
    "check was skipped for merchants migrated to the new payouts platform. The accounts were "
    "suspended, $48,250 was recovered and the check was restored on 11 March 2026."
)
BACKGROUND = (
    "The payouts platform migration moved merchant balances in batches during Q1. Reversal limits "
    "are enforced by the Risk Limits Service (RLS), which is called before each payout."
)
TIMELINE = [
    ("2026-03-03 09:14", "First reversal above the limit is paid out to merchant M-1043."),
    ("2026-03-05 16:40", "Finance reconciliation flags an unexpected negative balance."),
    ("2026-03-04 11:02", "A buyer contacts support about a duplicate refund."),
    ("2026-03-09 08:30", "Investigation opened by the Trust team; accounts suspended."),
    ("2026-03-11 17:00", "Limit check restored for migrated merchants."),
]
IMPACT = (
    "14 merchant accounts were involved. $61,900 was paid out in excess reversals, of which "
    "$48,250 was recovered; the remaining $13,650 is written off. Some buyers were contacted twice."
)
RESOLVING = [
    "Suspend the 14 merchant accounts. Owner: Dana Whitfield. Completed: 9 March 2026.",
    "Recover the funds from linked bank accounts. Owner: Finance Operations. Completed: X",
    "Notify affected buyers. Owner: TBD.",
]
ROOT_CAUSES = [
    "RC1: The reversal limit check was skipped because migrated merchants were flagged as "
    "'trusted' by the migration script, which bypassed the Risk Limits Service.",
    "RC2: Human error.",
]
PREVENTATIVE = [
    "PA1a: Remove the trusted flag from the migration script. Owner: Priya Nair. Due: 20 March 2026.",
    "PA1b: Add an alert when payouts skip the limit check. Owner: Payments SRE. Due: 31 March 2026.",
]
EMAIL = [
    "-----Original Message-----",
    "From: Dana Whitfield <dana.whitfield@example.com>",
    "Sent: Monday, 9 March 2026 08:12",
    "To: Trust Investigations <trust-investigations@example.com>",
    "Subject: RE: negative balances on migrated merchants",
    "Summary",
    "Can you look at M-1043 urgently? Call me on +1 415 555 0134 if needed.",
    "Thanks,",
    "Dana",
]


def messy_investigation_docx() -> bytes:
    """The sample write-up as .docx bytes."""
    document = docx.Document()
    section = document.sections[0]
    section.header.paragraphs[0].text = "CONFIDENTIAL - internal use only"
    section.footer.paragraphs[0].text = "Trust Investigations"

    title = document.add_paragraph(style="Title")
    title.add_run(TITLE)
    document.add_paragraph("Prepared by the Trust Investigations team. Case reference XX-XXX-XXXX.")

    _bold_heading(document, "Executive Summary   ")
    summary = document.add_paragraph()
    summary.add_run(SUMMARY[:60])
    summary.add_run(SUMMARY[60:140]).italic = True
    summary.add_run(SUMMARY[140:])

    _bold_heading(document, "2. Background:")
    background = document.add_paragraph(BACKGROUND)
    _stray_comment_marker(background, comment_id=7)

    _bold_heading(document, "TIMELINE")
    table = document.add_table(rows=1, cols=2)
    table.rows[0].cells[0].text, table.rows[0].cells[1].text = "Date / time (UTC)", "Event"
    for when, what in TIMELINE:
        row = table.add_row()
        row.cells[0].text, row.cells[1].text = when, what

    _bold_heading(document, "Impact ")
    impact = document.add_paragraph(IMPACT)
    document.add_comment(
        impact.runs, text="Please confirm the write-off with Finance.", author="Lee"
    )

    _bold_heading(document, "Resolving Actions")
    for item in RESOLVING:
        document.add_paragraph(item, style="List Bullet")

    _bold_heading(document, "Root Causes and Preventative Actions")
    for item in ROOT_CAUSES + PREVENTATIVE:
        document.add_paragraph(item)
    document.add_paragraph(
        "Account holder contact for follow-up: account 4829 1046 7731 2210, "
        "escalations to ops.lead@example.com."
    )

    for line in EMAIL:
        document.add_paragraph(line)
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def _bold_heading(document, text: str) -> None:
    run = document.add_paragraph().add_run(text)
    run.bold = True
    run.font.size = Pt(12)


def _stray_comment_marker(paragraph, comment_id: int) -> None:
    """What another tool leaves behind: comment range markers whose comment no longer exists."""
    start = OxmlElement("w:commentRangeStart")
    start.set(qn("w:id"), str(comment_id))
    end = OxmlElement("w:commentRangeEnd")
    end.set(qn("w:id"), str(comment_id))
    paragraph._p.insert(0, start)
    paragraph._p.append(end)
