"""The placeholder check: template text left behind, quoted exactly, and nothing else."""

from __future__ import annotations

import pytest

from tests.builders import document, run_check


def quotes(*texts: str, **params) -> list[str]:
    doc = document(("Background", "background", list(texts)))
    return [f.span.quote for f in run_check(doc, "placeholder", **params)]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Root cause is TBD pending the vendor report.", ["TBD"]),
        ("Refund amount TBC; TODO confirm with finance.", ["TBC", "TODO"]),
        ("Call the customer on XX-XXX-XXXX before Friday.", ["XX-XXX-XXXX"]),
        ("Affected accounts: XXXX in total.", ["XXXX"]),
        ("Owner: X", ["Owner: X"]),
        ("Completed: ?, Date: X", ["Completed: ?", "Date: X"]),
        ("Escalated to [INSERT NAME] on Monday.", ["[INSERT NAME]"]),
        ("Dear <insert customer name>,", ["<insert customer name>"]),
        ("Hello {{first_name}}, your case is closed.", ["{{first_name}}"]),
        ("Was the seller notified???", ["???"]),
        ("Chargeback reference: N/A?", ["N/A?"]),
        ("Lorem ipsum dolor sit amet.", ["Lorem ipsum"]),
    ],
)
def test_placeholder_is_flagged_with_its_exact_text(text, expected):
    assert quotes(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "Product X launched in March and the Xbox team used XML exports.",
        "The TBDx project code is unrelated.",
        "Card XXXX-XXXX-1234 was masked as policy requires.",
        "We kept a todo list for the follow-up calls.",
        "Option X: keep the limit; option Y: raise it.",
        "Is the refund due? The policy says yes.",
    ],
)
def test_ordinary_prose_and_masked_numbers_are_not_placeholders(text):
    assert quotes(text) == []


def test_pack_can_add_its_own_placeholder_pattern():
    assert quotes("Owner: NAME_HERE", patterns=[r"\bNAME_HERE\b"]) == ["NAME_HERE"]


def test_placeholders_in_excluded_paragraphs_are_not_reviewed():
    doc = document(("Original Email", "other", ["Owner: X"], "email thread"))
    assert run_check(doc, "placeholder") == []
