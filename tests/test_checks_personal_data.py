"""The personal-data check: contact details and account numbers, wherever they sit."""

from __future__ import annotations

from dataclasses import replace

import pytest

from server.engines import offline
from server.frameworks import resolve
from server.frameworks.model import Rule
from tests.builders import AS_OF, document, run_check


def found(*texts: str, **params) -> list[tuple[str, str]]:
    """(quote, kind) of each hit on a Background section made of `texts`."""
    rule = Rule(
        id="pd", check="personal_data", type="important", risk="high", confidence=0.9,
        title="{quote}", message="{kind}", params=params,
    )  # fmt: skip
    framework = replace(resolve("investigation"), rules=(rule,))
    doc = document(("Background", "background", list(texts)))
    findings = offline.review(doc, framework, as_of=AS_OF).findings
    return [(f.span.quote, f.description) for f in findings]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Reply came from jane.doe@example.com today.", ("jane.doe@example.com", "e-mail address")),
        ("Reached on +44 20 7946 0958 at noon.", ("+44 20 7946 0958", "phone number")),
        ("Left a voicemail on (555) 123-4567.", ("(555) 123-4567", "phone number")),
        ("Customer phoned from 555-123-4567.", ("555-123-4567", "phone number")),
        ("Mobile 07700 900123 was verified.", ("07700 900123", "phone number")),
        ("Funds moved to account 123456789.", ("123456789", "account-like number")),
        ("Card 4111 1111 1111 1111 was blocked.", ("4111 1111 1111 1111", "account-like number")),
    ],
)
def test_personal_data_is_flagged_with_its_kind(text, expected):
    assert found(text) == [expected]


@pytest.mark.parametrize(
    "text",
    [
        "The refund of $1,234,567.89 was paid on 2024-01-15 10:30 UTC.",
        "Loss was USD 1234567890 across the quarter.",
        "Ratio was 123456789.50 before rounding.",
        "Log stamp 20240115103000 marks the first failure.",
        "Masked card XXXX-XXXX-1234 and masked mail j***@example.com were shown.",
        "Case 12345 opened at 09:15:30 and closed in 2023 2024 review cycles.",
    ],
)
def test_dates_amounts_and_masked_values_are_not_personal_data(text):
    assert found(text) == []


def test_shorter_numbers_pass_when_minimum_digits_is_raised():
    assert found("Account 123456789 was closed.", min_account_digits=12) == []


def test_rule_can_ask_for_one_kind_only():
    text = "Mail ann@example.net or call 555-123-4567 about account 123456789."
    assert found(text, kinds=["phone"]) == [("555-123-4567", "phone number")]


def test_excluded_email_thread_is_scanned_when_rule_includes_excluded_sections():
    doc = document(
        ("Background", "background", ["No contact details here."]),
        ("Original Email", "other", ["From: sam@example.org"], "email thread"),
    )
    hits = run_check(doc, "personal_data", include_excluded=True)
    assert [f.span.quote for f in hits] == ["sam@example.org"]


def test_raw_log_paragraph_inside_a_reviewed_section_is_scanned():
    doc = document(("Investigation", "investigation", ["We read the log.", "user=ann@example.net"]))
    section = doc.sections[0]
    log = replace(section.paragraphs[2], excluded=True)
    doc = replace(doc, sections=(replace(section, paragraphs=(*section.paragraphs[:2], log)),))
    assert [f.span.quote for f in run_check(doc, "personal_data")] == ["ann@example.net"]
