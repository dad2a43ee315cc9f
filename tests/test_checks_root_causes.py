"""Root-cause checks: causes that explain why, and a preventative action for each."""

from __future__ import annotations

from tests.builders import document, run_check

SUMMARY = (
    "Summary",
    "executive_summary",
    ["Card payments failed for two hours on 5 March 2024. It was fixed."],
)


def quotes(findings) -> list[str]:
    return [f.span.quote for f in findings]


def test_shallow_root_cause_is_flagged_with_the_reason():
    doc = document(
        SUMMARY,
        (
            "Root Causes",
            "root_causes",
            ["The root causes were:", "- RC1: Human error.", "- RC2: A bug caused by human error."],
        ),
    )
    findings = run_check(doc, "root_cause_depth", sections=("root_causes",))
    assert quotes(findings) == ["RC1: Human error.", "RC2: A bug caused by human error."]


def test_root_cause_that_says_why_is_not_flagged():
    doc = document(
        SUMMARY,
        (
            "Root Causes",
            "root_causes",
            [
                "RC1: Human error: the engineer ran the script against production because the "
                "runbook did not say which environment to use.",
                "RC2: The retry loop had no backoff, so the gateway rate-limited every merchant.",
            ],
        ),
    )
    assert run_check(doc, "root_cause_depth", sections=("root_causes",)) == []


def test_root_cause_that_restates_the_summary_is_flagged():
    doc = document(SUMMARY, ("Root Causes", "root_causes", ["Card payments failed."]))
    findings = run_check(doc, "root_cause_depth", sections=("root_causes",))
    assert quotes(findings) == ["Card payments failed."]


def test_overlap_threshold_is_a_parameter():
    doc = document(
        SUMMARY,
        ("Root Causes", "root_causes", ["Card payments failed after the certificate expired."]),
    )
    assert run_check(doc, "root_cause_depth", sections=("root_causes",)) == []
    assert len(run_check(doc, "root_cause_depth", sections=("root_causes",), max_overlap=0.4)) == 1


def test_root_cause_without_preventative_action_is_flagged_on_its_label():
    doc = document(
        (
            "Root Causes",
            "root_causes",
            ["RC1: no staging guard.", "RC 2: no alert on queue depth."],
        ),
        (
            "Preventative Actions",
            "preventative_actions",
            ["PA1a: add a guard.", "PA1b: add a test."],
        ),
    )
    findings = run_check(doc, "root_cause_without_action")
    assert quotes(findings) == ["RC 2"]
    assert findings[0].section_id == "s1"


def test_root_causes_with_actions_by_number_or_by_reference_are_not_flagged():
    doc = document(
        ("Root Causes", "root_causes", ["RC1: no staging guard.", "Root Cause 2: no alert."]),
        (
            "Preventative Actions",
            "preventative_actions",
            ["PA-1: add a guard.", "PA3 (for RC2): add an alert."],
        ),
    )
    assert run_check(doc, "root_cause_without_action") == []
    assert run_check(doc, "orphan_preventative_action") == []


def test_unnumbered_root_causes_without_any_preventative_action_give_one_finding():
    doc = document(
        (
            "Root Causes",
            "root_causes",
            ["The script had no environment check.", "Alerts were muted."],
        ),
        ("Preventative Actions", "preventative_actions", []),
    )
    findings = run_check(doc, "root_cause_without_action")
    assert len(findings) == 1 and findings[0].span is None


def test_unnumbered_root_causes_with_preventative_actions_are_not_flagged():
    doc = document(
        ("Root Causes", "root_causes", ["The script had no environment check."]),
        ("Preventative Actions", "preventative_actions", ["- Add an environment check (@jane)."]),
    )
    assert run_check(doc, "root_cause_without_action") == []


def test_preventative_action_for_a_missing_root_cause_is_flagged():
    doc = document(
        ("Root Causes", "root_causes", ["RC1: no staging guard."]),
        (
            "Preventative Actions",
            "preventative_actions",
            ["PA1: add a guard.", "PA2: add an alert."],
        ),
    )
    assert quotes(run_check(doc, "orphan_preventative_action")) == ["PA2"]


def test_preventative_actions_are_not_orphans_when_root_causes_are_unnumbered():
    doc = document(
        ("Root Causes", "root_causes", ["The script had no environment check."]),
        (
            "Preventative Actions",
            "preventative_actions",
            ["PA1: add a guard.", "PA2: add an alert."],
        ),
    )
    assert run_check(doc, "orphan_preventative_action") == []
