"""Date checks: one format, timeline order, unexplained gaps, dates in the future."""

from __future__ import annotations

from tests.builders import document, run_check


def quotes(findings) -> list[str]:
    return [f.span.quote for f in findings]


def test_dates_in_a_minority_format_are_flagged():
    doc = document(
        (
            "Summary",
            "executive_summary",
            ["The outage began on 5 March 2024 and ended 7 March 2024."],
        ),
        ("Timeline", "timeline", ["6 March 2024: rollback", "2024-03-07: closed"]),
    )
    findings = run_check(doc, "date_format_mixed")
    assert quotes(findings) == ["2024-03-07"]
    assert findings[0].description == "2024-03-07"  # message template is "{quote}"


def test_dates_in_one_format_are_not_flagged():
    doc = document(
        ("Summary", "executive_summary", ["The outage began on 5 March 2024."]),
        ("Timeline", "timeline", ["6 March: rollback", "7 Mar 2024: closed"]),
    )
    assert run_check(doc, "date_format_mixed") == []


def test_day_first_next_to_month_first_is_a_mix():
    doc = document(
        ("Timeline", "timeline", ["25/03/2024 alarm", "26/03/2024 fix", "03/27/2024 closed"]),
    )
    assert quotes(run_check(doc, "date_format_mixed")) == ["03/27/2024"]


def test_mixed_format_hits_are_capped():
    doc = document(
        ("Timeline", "timeline", [f"{d} March 2024 step" for d in range(1, 8)]),
        ("Impact", "impact", [f"2024-04-0{d} refund" for d in range(1, 6)]),
    )
    assert len(run_check(doc, "date_format_mixed", max_hits=2)) == 2


def test_timeline_entry_earlier_than_the_one_above_is_flagged():
    doc = document(
        (
            "Timeline",
            "timeline",
            ["5 March 2024: alarm", "4 March 2024: rollback", "6 March 2024: closed"],
        ),
    )
    findings = run_check(doc, "timeline_order", sections=("timeline",))
    assert quotes(findings) == ["4 March 2024"]


def test_times_on_the_same_day_are_ordered_too():
    doc = document(("Timeline", "timeline", ["2024-03-05 14:20 alarm", "2024-03-05 09:10 page"]))
    assert quotes(run_check(doc, "timeline_order", sections=("timeline",))) == ["2024-03-05 09:10"]


def test_timeline_in_order_is_not_flagged():
    doc = document(
        ("Summary", "executive_summary", ["Closed on 9 March 2024, opened 1 March 2024."]),
        (
            "Timeline",
            "timeline",
            ["5 March 2024: alarm", "March 5 14:00 page", "6 March: rollback"],
        ),
    )
    assert run_check(doc, "timeline_order", sections=("timeline",)) == []


def test_newest_first_timeline_is_judged_in_its_own_direction():
    doc = document(
        (
            "Timeline",
            "timeline",
            ["9 March 2024 closed", "7 March 2024 fix", "8 March 2024 test", "5 March 2024 alarm"],
        ),
    )
    assert quotes(run_check(doc, "timeline_order", sections=("timeline",))) == ["8 March 2024"]


def test_ambiguous_numeric_date_is_read_the_way_that_keeps_the_order():
    doc = document(("Timeline", "timeline", ["2 April 2024 review", "03/04/2024 actions agreed"]))
    assert run_check(doc, "timeline_order", sections=("timeline",)) == []


def test_lines_of_one_paragraph_are_separate_entries():
    doc = document(("Timeline", "timeline", ["5 March 2024 alarm\n4 March 2024 page"]))
    assert quotes(run_check(doc, "timeline_order", sections=("timeline",))) == ["4 March 2024"]


def test_long_unexplained_gap_is_flagged_with_its_length():
    doc = document(("Timeline", "timeline", ["1 March 2024: alarm", "2 April 2024: fix deployed"]))
    findings = run_check(doc, "timeline_gap", sections=("timeline",))
    assert quotes(findings) == ["2 April 2024"]
    assert findings[0].title == "2 April 2024"


def test_gap_that_says_why_is_not_flagged():
    doc = document(
        (
            "Timeline",
            "timeline",
            ["1 March 2024: alarm", "2 April 2024: fix deployed after waiting for the vendor"],
        ),
    )
    assert run_check(doc, "timeline_gap", sections=("timeline",)) == []


def test_gap_threshold_is_a_parameter():
    doc = document(("Timeline", "timeline", ["1 March 2024: alarm", "9 March 2024: fix"]))
    assert run_check(doc, "timeline_gap", sections=("timeline",)) == []
    assert len(run_check(doc, "timeline_gap", sections=("timeline",), max_gap_days=7)) == 1


def test_future_date_stated_as_fact_is_flagged():
    doc = document(("Background", "background", ["The migration happened on 3 January 2027."]))
    assert quotes(run_check(doc, "future_date")) == ["3 January 2027"]


def test_future_date_in_a_plan_is_not_flagged():
    doc = document(
        (
            "Background",
            "background",
            [
                "The migration is scheduled for 3 January 2027.",
                "Fix will ship by 2027-02-01. It happened on 1 March 2024.",
                "PA1 | Add alerting | Jane Smith | 2027-03-01",
                "Follow-up on 5 March.",
            ],
        )
    )
    assert run_check(doc, "future_date") == []
