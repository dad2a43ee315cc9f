"""Built-in packs: every rule and check is documented, every rule fills its templates when it fires,
and a review of the same document is the same every time.

The documents are built here in code, one per pack with the problems a reviewer would flag and one
with the things the positive rules praise, so that together they make every rule of both packs fire.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest

from server.documents import load_document
from server.engines import offline
from server.engines.registry import load_checks
from server.frameworks import resolve
from server.frameworks.loader import builtin_paths
from server.model import Document, Finding
from server.samples import messy_investigation_docx
from tests.builders import AS_OF, document

RULES_DOC = Path(__file__).parent.parent / "docs" / "rules.md"
PACKS = ("investigation", "general")
LEFTOVER_FIELD = re.compile(r"\{[A-Za-z_]\w*\}")

DENSE = (
    "Organisational reconfiguration necessitated comprehensive reconsideration of "
    "interdepartmental responsibilities, authorisation hierarchies and operational "
    "interdependencies, particularly regarding infrastructure modernisation initiatives and "
    "regulatory accountability mechanisms. "
)
CARELESS = (
    "It appears the limit check was probably skipped, which was a massive disaster!! "
    "Some merchants were affected lol. "
)
# Over 250 words, hard to read, repetitive, and it never says how things ended.
RAMBLING = CARELESS + DENSE * 6 + " ".join(["word"] * 120)


def investigation_with_problems() -> Document:
    return document(
        ("Executive Summary", "executive_summary", [RAMBLING]),
        ("Background", "background", ["The payouts platform moved merchants to XQZR in batches."]),
        (
            "Timeline",
            "timeline",
            [
                "2026-03-03 First reversal paid out.",
                "2026-03-01 Limit check disabled.",
                "2026-03-20 Accounts suspended.",
                "2026-04-20 Case closed.",
                "2027-05-01 Refunds were issued to buyers.",
            ],
        ),
        ("Impact", "impact", ["Buyers were refunded twice and merchants kept the money a while."]),
        (
            "Investigation",
            "investigation",
            [
                "The accounts were suspended and the limit was restored. " + DENSE,
                "Contact dana.whitfield@example.com about it. Owner: TBD.",
            ],
        ),
        (
            "Resolving Actions",
            "resolving_actions",
            ["- Suspend the merchant accounts.", "- Recover the funds from linked banks."],
        ),
        (
            "Root Causes",
            "root_causes",
            [
                "RC1: Human error.",
                "RC2: The limit check was skipped because migrated merchants were flagged as "
                "trusted by the script.",
            ],
        ),
        (
            "Preventative Actions",
            "preventative_actions",
            ["PA2: Remove the trusted flag from the migration script.", "PA3: Add an alert."],
        ),
        ("Communication", "communication", ["Nothing yet; the team will decide later."]),
        ("Appendix", "appendix", [DENSE, "Raw notes also wrote 03/05/2026 and 05/13/2026."]),
    )


def investigation_done_well() -> Document:
    # No Background section, so the missing-section rule fires here.
    return document(
        (
            "Executive Summary",
            "executive_summary",
            ["Fourteen merchant accounts abused refund reversals; the issue is resolved."],
        ),
        (
            "Timeline",
            "timeline",
            [
                "3 March 2026 First reversal paid out.",
                "5 March 2026 Finance flagged a negative balance.",
                "9 March 2026 Accounts suspended by the Trust team.",
                "11 March 2026 Limit check restored by Payments.",
            ],
        ),
        ("Impact", "impact", ["14 accounts were involved and $61,900 was paid out over 6 days."]),
        (
            "Investigation",
            "investigation",
            ["We ran the payout query, read the audit trail and checked the dashboard."],
        ),
        (
            "Resolving Actions",
            "resolving_actions",
            ["- Suspend the accounts. Owner: Dana Whitfield. Completed: 9 March 2026."],
        ),
        (
            "Root Causes",
            "root_causes",
            ["RC1: The limit check was skipped because the migration script trusted merchants."],
        ),
        (
            "Preventative Actions",
            "preventative_actions",
            ["PA1: Remove the trusted flag. Owner: Priya Nair. Due: 20 March 2026."],
        ),
    )


def general_with_problems() -> Document:
    return document(
        ("Summary", "summary", [RAMBLING]),
        (
            "Background",
            "background",
            [
                "The Americas team completed the move on 15 December 2027. Ask kenji.sato@example.com."
            ],
        ),
        (
            "Analysis",
            "analysis",
            [
                "The new tool is faster, TBD, and agents like it; the XQZR team agrees. " + DENSE,
                "Dates were written as 03/05/2026 and 2026-05-13 too.",
            ],
        ),
        ("Risks", "risks", ["Migration could disrupt service in the busiest weeks of the year."]),
        (
            "Recommendations",
            "recommendations",
            ["A1: Agree the training plan.", "The migration plan will be reviewed."],
        ),
        ("Conclusion", "conclusion", []),
    )


def general_done_well() -> Document:
    # No Summary section, so the missing-section rule fires here.
    return document(
        (
            "Analysis",
            "analysis",
            [
                "Option B saves $410,000 a year (source: Finance model) and cuts onboarding from "
                "9 days to 6 days."
            ],
        ),
        (
            "Risks",
            "risks",
            [
                "Supplier lock-in: likelihood low, impact high.",
                "Migration delay: likelihood medium, impact medium.",
            ],
        ),
        (
            "Recommendations",
            "recommendations",
            [
                "A1: Approve Option B. Owner: Operations Board. Due: 15 January 2027.",
                "A2: Start wave one. Owner: Priya Nair. Due: Q2 2027.",
            ],
        ),
    )


HAND_BUILT = {
    "investigation": (investigation_with_problems, investigation_done_well),
    "general": (general_with_problems, general_done_well),
}


def messy_sample(pack: str) -> Document:
    return load_document(messy_investigation_docx(), "messy.docx", resolve(pack))


def findings_of(pack: str, doc: Document) -> list[Finding]:
    return list(offline.review(doc, resolve(pack), as_of=AS_OF).findings)


def documents_of(pack: str) -> list[Document]:
    return [messy_sample(pack)] + [build() for build in HAND_BUILT[pack]]


def doc_section(heading: str) -> str:
    """The text of one `## ` section of docs/rules.md."""
    text = RULES_DOC.read_text(encoding="utf-8")
    match = re.search(rf"^## {re.escape(heading)}\n(.*?)(?=^## |\Z)", text, re.M | re.S)
    assert match, f"docs/rules.md has no '## {heading}' section"
    return match.group(1)


# --- Documentation ----------------------------------------------------------------------------


def test_every_builtin_pack_has_a_rules_table_in_the_documentation():
    assert {path.stem for path in builtin_paths()} == set(PACKS)


@pytest.mark.parametrize("pack", PACKS)
def test_rules_table_lists_every_rule_of_the_pack_once_with_its_check_type_risk_and_confidence(
    pack,
):
    rows = [
        [cell.strip() for cell in line.strip().strip("|").split(" | ")]
        for line in doc_section(f"Rules of the `{pack}` pack").splitlines()
        if line.startswith("| `")
    ]
    documented = [row[0].strip("`") for row in rows]
    rules = resolve(pack).rules
    assert sorted(documented) == sorted(r.id for r in rules)
    for row, rule in zip(rows, sorted(rules, key=lambda r: documented.index(r.id)), strict=True):
        assert row[1] == f"`{rule.check}`", rule.id
        assert row[2] == f"{rule.type} / {rule.risk}", rule.id
        assert row[4].startswith(f"{rule.confidence}: "), rule.id


def test_every_registered_check_is_documented_with_its_parameter_defaults():
    checks = doc_section("Checks")
    parts = dict(re.findall(r"^### `(\w+)`\n(.*?)(?=^### |\Z)", checks, re.M | re.S))
    registry = load_checks()
    assert sorted(parts) == sorted(registry)
    for name, spec in registry.items():
        block = re.search(r"```toml\n(.*?)```", parts[name], re.S)
        if spec.params:
            assert block, f"{name}: no defaults block"
            assert tomllib.loads(block.group(1)) == spec.params, name
        else:
            assert block is None and "Parameters: none." in parts[name], name


def test_every_registered_check_is_used_by_a_rule_of_the_investigation_pack():
    used = {rule.check for rule in resolve("investigation").rules}
    assert set(load_checks()) - used == set()


# --- Every rule fires, and fills its templates ------------------------------------------------


@pytest.mark.parametrize("pack", PACKS)
def test_the_test_documents_make_every_rule_of_the_pack_fire(pack):
    fired = {f.rule for doc in documents_of(pack) for f in findings_of(pack, doc)}
    assert {r.id for r in resolve(pack).rules} - fired == set()


@pytest.mark.parametrize("pack", PACKS)
def test_every_finding_text_has_its_template_fields_filled(pack):
    for doc in documents_of(pack):
        for f in findings_of(pack, doc):
            for text in (f.title, f.description, f.suggestion, *f.questions):
                assert not LEFTOVER_FIELD.search(text), f"{f.rule}: {text}"


# --- Reviewing the sample ---------------------------------------------------------------------


def test_general_pack_reviews_the_messy_sample():
    findings = findings_of("general", messy_sample("general"))
    rules = {f.rule for f in findings}
    assert {"placeholder", "personal_data", "undefined_acronym"} <= rules
    # The forwarded e-mail is not reviewed, yet the phone number in it is still reported.
    phones = [f.span.quote for f in findings if f.rule == "personal_data" and f.span]
    assert "+1 415 555 0134" in phones


def test_investigation_review_of_the_sample_is_the_same_every_time():
    first = findings_of("investigation", messy_sample("investigation"))
    second = findings_of("investigation", messy_sample("investigation"))
    assert first
    assert [f.id for f in first] == [f.id for f in second]
    assert [f.to_dict() for f in first] == [f.to_dict() for f in second]


def test_a_template_field_that_does_not_fit_stays_visible_instead_of_failing():
    from server.engines.offline import fill

    assert fill("{count:,} items", {"count": 3000}) == "3,000 items"
    assert (
        fill("{count:,} of {missing:,} in {section.title} {{braces}}", {"count": "three"})
        == "{count:,} of {missing:,} in {section.title} {braces}"
    )
