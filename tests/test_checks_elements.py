"""Presence checks configured by packs, and positive findings for work done well."""

from __future__ import annotations

from tests.builders import document, run_check

NUMBERS = [r"\b\d[\d,.]*\s*(?:customers|accounts|orders)\b", r"[$£€]\s?\d"]
ACTIONS = ("resolving_actions", "preventative_actions")


def test_section_without_the_element_is_flagged():
    doc = document(("Impact", "impact", ["Some customers could not pay."]))
    findings = run_check(doc, "missing_element", patterns=NUMBERS, element="a number")
    assert len(findings) == 1 and findings[0].span is None


def test_section_with_the_element_is_not_flagged():
    doc = document(("Impact", "impact", ["1,204 customers could not pay; $3,400 was refunded."]))
    assert run_check(doc, "missing_element", patterns=NUMBERS, element="a number") == []
    assert len(run_check(doc, "missing_element", patterns=NUMBERS, min_matches=3)) == 1


def test_present_element_is_a_positive_finding_on_its_sentence():
    doc = document(
        ("Impact", "impact", ["It was bad. In total 1,204 customers could not pay. Sorry."])
    )
    findings = run_check(doc, "element_present", patterns=NUMBERS, element="a number")
    assert [f.span.quote for f in findings] == ["In total 1,204 customers could not pay."]


def test_absent_element_gives_no_positive_finding():
    doc = document(("Impact", "impact", ["Some customers could not pay."]))
    assert run_check(doc, "element_present", patterns=NUMBERS) == []


def test_action_items_all_with_owner_and_date_are_credited_once():
    doc = document(
        (
            "Resolving Actions",
            "resolving_actions",
            ["- Roll back the release (@raj), done 2024-03-05."],
        ),
        (
            "Preventative Actions",
            "preventative_actions",
            ["- PA1: Add a guard. Owner: Jane. Due 2024-04-01."],
        ),
    )
    findings = run_check(doc, "action_items_complete", sections=ACTIONS)
    assert [f.span.quote for f in findings] == ["Roll back the release (@raj), done 2024-03-05."]


def test_action_items_missing_an_owner_or_too_few_are_not_credited():
    doc = document(
        (
            "Preventative Actions",
            "preventative_actions",
            ["- PA1: Add a guard. Owner: Jane. Due 2024-04-01.", "- PA2: Add a test by Q3 2024."],
        ),
    )
    assert run_check(doc, "action_items_complete", sections=ACTIONS) == []
    assert run_check(doc, "action_items_complete", sections=ACTIONS, min_items=3) == []


def test_dated_ordered_timeline_is_credited():
    doc = document(
        (
            "Timeline",
            "timeline",
            [
                "5 March 2024 09:00 alarm",
                "09:20 paged",
                "5 March 2024 10:00 rollback",
                "6 March 2024 fix",
                "7 March 2024 closed",
            ],
        ),
    )
    findings = run_check(doc, "timeline_complete", sections=("timeline",))
    assert [f.span.quote for f in findings] == ["5 March 2024 09:00"]


def test_timeline_out_of_order_or_with_a_gap_is_not_credited():
    backwards = document(
        ("Timeline", "timeline", ["5 March 2024", "4 March 2024", "6 March 2024", "7 March 2024"])
    )
    gap = document(
        ("Timeline", "timeline", ["5 March 2024", "6 March 2024", "7 March 2024", "9 May 2024"])
    )
    assert run_check(backwards, "timeline_complete", sections=("timeline",)) == []
    assert run_check(gap, "timeline_complete", sections=("timeline",)) == []


def test_root_causes_all_linked_are_credited_on_the_first_label():
    doc = document(
        ("Root Causes", "root_causes", ["RC1: no guard because it was removed.", "RC2: no alert."]),
        (
            "Preventative Actions",
            "preventative_actions",
            ["PA1: add a guard.", "PA2: add an alert."],
        ),
    )
    assert [f.span.quote for f in run_check(doc, "root_causes_linked")] == ["RC1"]


def test_root_causes_not_all_linked_are_not_credited():
    doc = document(
        ("Root Causes", "root_causes", ["RC1: no guard.", "RC2: no alert."]),
        ("Preventative Actions", "preventative_actions", ["PA1: add a guard."]),
    )
    assert run_check(doc, "root_causes_linked") == []
