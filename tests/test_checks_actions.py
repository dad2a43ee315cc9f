"""Action checks: every action item names an owner and a date."""

from __future__ import annotations

from dataclasses import replace

from server.model import Document
from tests.builders import document, run_check

ACTIONS = ("resolving_actions", "preventative_actions", "root_causes")


def flagged(doc: Document, rows: tuple[str, ...] = (), items: tuple[str, ...] = ()) -> Document:
    """The document with the paragraphs whose text is listed marked as table rows / list items."""
    sections = tuple(
        replace(
            s,
            paragraphs=tuple(
                replace(p, table_row=p.text in rows, list_item=p.text in items)
                for p in s.paragraphs
            ),
        )
        for s in doc.sections
    )
    return replace(doc, sections=sections)


def quotes(findings) -> list[str]:
    return [f.span.quote for f in findings]


def test_action_without_owner_is_flagged_on_its_whole_text():
    doc = document(
        (
            "Preventative Actions",
            "preventative_actions",
            [
                "The following actions were agreed:",
                "- PA1: Add a staging guard to the migration script. Owner: Jane. Due 2024-04-01.",
                "- PA2: Rotate the on-call runbook by Q3 2024.",
            ],
        )
    )
    findings = run_check(doc, "action_owner", sections=ACTIONS)
    assert quotes(findings) == ["PA2: Rotate the on-call runbook by Q3 2024."]


def test_owner_can_be_a_handle_a_team_a_name_in_brackets_or_a_column():
    rows = ("PA3 | Review alert thresholds | Priya Patel | 2024-05-01",)
    doc = document(
        (
            "Preventative Actions",
            "preventative_actions",
            [
                "1. Add alerting on queue depth (@jsmith) by 1 April 2024.",
                "2. Payments team will backfill the missing refunds.",
                "3. Update the runbook (Jane Smith).",
                "Action | Owner | Due date",
                *rows,
            ],
        )
    )
    assert run_check(flagged(doc, rows=rows), "action_owner", sections=ACTIONS) == []


def test_placeholder_owner_counts_as_no_owner():
    doc = document(
        ("Actions", "preventative_actions", ["- Add alerting. Owner: TBD. Due 2024-04-01."])
    )
    assert len(run_check(doc, "action_owner", sections=ACTIONS)) == 1


def test_narrative_and_intro_lines_are_not_action_items():
    doc = document(
        (
            "Resolving Actions",
            "resolving_actions",
            [
                "On 5 March the team rolled back the release, which restored service.",
                "Review of the logs showed no data loss.",
                "We agreed on these follow-ups:",
            ],
        )
    )
    assert run_check(doc, "action_owner", sections=ACTIONS) == []
    assert run_check(doc, "action_due_date", sections=ACTIONS) == []


def test_list_items_and_imperatives_are_action_items():
    items = ("Rotate all API keys",)
    doc = document(
        (
            "Resolving Actions",
            "resolving_actions",
            ["Rotate all API keys", "Add a canary stage. Owner: Jane."],
        )
    )
    findings = run_check(flagged(doc, items=items), "action_due_date", sections=ACTIONS)
    assert quotes(findings) == ["Rotate all API keys", "Add a canary stage. Owner: Jane."]


def test_in_a_root_cause_section_only_labelled_actions_count():
    doc = document(
        (
            "Root causes and preventative actions",
            "root_causes",
            ["Update scripts skipped the environment check.", "PA1: Add a guard (@jane)."],
        )
    )
    assert quotes(run_check(doc, "action_due_date", sections=ACTIONS)) == [
        "PA1: Add a guard (@jane)."
    ]


def test_action_without_date_is_flagged_with_its_summary():
    text = "- Introduce a two-person review for every database migration script. Owner: Jane."
    doc = document(("Actions", "preventative_actions", [text]))
    findings = run_check(doc, "action_due_date", sections=ACTIONS)
    assert quotes(findings) == [text[2:]]  # the bullet is not part of the quote


def test_dates_quarters_and_deadlines_count_as_dates():
    doc = document(
        (
            "Actions",
            "preventative_actions",
            [
                "- Add alerting (@jane), due 5 April.",
                "- Add a canary stage (@raj) in Q3 2024.",
                "- Rotate keys (@li) by end of month.",
                "- Patch hosts (@li). Status: done.",
                "- Update runbook (@li). ETA: next sprint.",
            ],
        )
    )
    assert run_check(doc, "action_due_date", sections=ACTIONS) == []


def test_placeholder_date_counts_as_no_date():
    doc = document(("Actions", "preventative_actions", ["- Add alerting (@jane). Due: TBD."]))
    assert len(run_check(doc, "action_due_date", sections=ACTIONS)) == 1


def test_a_pack_can_say_which_section_kinds_hold_actions():
    doc = document(("Next Steps", "next_steps", ["Rotate the on-call runbook by Q3 2024."]))
    assert run_check(doc, "action_owner") == []
    findings = run_check(doc, "action_owner", action_kinds=["next_steps"])
    assert quotes(findings) == ["Rotate the on-call runbook by Q3 2024."]
