"""Date extraction: every spelling a write-up uses, and the look-alikes that are not dates."""

from __future__ import annotations

from datetime import date, time

import pytest

from server.engines.dates import find_dates, find_dates_in, format_label, infer_day_first


def only(text: str, **kwargs):
    found = find_dates(text, **kwargs)
    assert len(found) == 1, found
    mention = found[0]
    return text[mention.start : mention.end], mention


@pytest.mark.parametrize(
    ("text", "written", "value", "fmt"),
    [
        ("Deployed on 2024-03-05.", "2024-03-05", date(2024, 3, 5), "iso"),
        ("Deployed on 2024/03/05.", "2024/03/05", date(2024, 3, 5), "ymd-slash"),
        ("Deployed on 25/03/2024.", "25/03/2024", date(2024, 3, 25), "dd/mm/yyyy"),
        ("Deployed on 03/25/2024.", "03/25/2024", date(2024, 3, 25), "mm/dd/yyyy"),
        ("Deployed on 3/5/24.", "3/5/24", date(2024, 3, 5), "numeric-slash"),
        ("Deployed on 25-03-2024.", "25-03-2024", date(2024, 3, 25), "dd-mm-yyyy"),
        ("Deployed on 05.03.2024.", "05.03.2024", date(2024, 3, 5), "dotted"),
        ("Deployed on 5-Mar-2024.", "5-Mar-2024", date(2024, 3, 5), "dd-mon-yyyy"),
        ("Deployed on 5 March 2024.", "5 March 2024", date(2024, 3, 5), "day-month-name"),
        (
            "Deployed on 5th of March, 2024.",
            "5th of March, 2024",
            date(2024, 3, 5),
            "day-month-name",
        ),
        ("Deployed on March 5, 2024.", "March 5, 2024", date(2024, 3, 5), "month-name-day"),
        ("Deployed on Mar 5 2024.", "Mar 5 2024", date(2024, 3, 5), "month-name-day"),
        ("Deployed on Sept. 5th 2024.", "Sept. 5th 2024", date(2024, 9, 5), "month-name-day"),
        ("DEPLOYED 5 MAR 2024", "5 MAR 2024", date(2024, 3, 5), "day-month-name"),
    ],
)
def test_each_spelling_is_read_with_its_format(text, written, value, fmt):
    quoted, mention = only(text)
    assert (quoted, mention.value, mention.format, mention.year_given) == (
        written,
        value,
        fmt,
        True,
    )


def test_ambiguous_numeric_date_reads_month_first_unless_told_day_first():
    assert only("on 05/03/2024")[1].value == date(2024, 5, 3)
    assert only("on 05/03/2024", day_first=True)[1].value == date(2024, 3, 5)
    assert only("on 05/03/2024")[1].format == "numeric-slash"


def test_ambiguous_dates_follow_the_documents_unambiguous_order():
    texts = ["Alert on 25/03/2024.", "Fixed on 05/04/2024."]
    assert infer_day_first(texts)
    assert find_dates_in(texts)[1][0].value == date(2024, 4, 5)


def test_a_time_after_the_date_stays_in_the_span():
    assert only("5 March 2024 14:20: alarm fired")[0] == "5 March 2024 14:20"
    quoted, mention = only("At 2024-03-05 14:20 UTC the alarm fired")
    assert quoted == "2024-03-05 14:20 UTC"
    assert mention.time == time(14, 20)
    quoted, mention = only("March 5 at 9:30pm someone paged", year=2024)
    assert (quoted, mention.time) == ("March 5 at 9:30pm", time(21, 30))
    assert only("2024-03-05T08:01:02Z")[1].time == time(8, 1, 2)


def test_a_time_in_the_next_table_cell_is_read_but_not_quoted():
    quoted, mention = only("5 March 2024 | 14:20 | alarm")
    assert (quoted, mention.time) == ("5 March 2024", time(14, 20))


def test_a_date_without_a_year_takes_the_nearest_earlier_dates_year():
    found = find_dates("Opened 30 December 2023; paged March 5; closed 7 Mar.")
    assert [m.value for m in found] == [date(2023, 12, 30), date(2024, 3, 5), date(2024, 3, 7)]
    assert [m.year_given for m in found] == [True, False, False]


def test_a_date_without_a_year_crosses_new_year_after_december():
    found = find_dates_in(["30 December 2024: started", "January 2: fixed"])
    assert found[1][0].value == date(2025, 1, 2)


def test_a_date_without_a_year_and_no_context_uses_the_given_year_or_none():
    assert only("paged on 5 March")[1].value is None
    assert only("paged on 5 March", year=2022)[1].value == date(2022, 3, 5)


def test_an_impossible_day_is_a_mention_without_a_value():
    assert only("on 31/02/2024")[1].value is None


@pytest.mark.parametrize(
    "text",
    [
        "Upgraded to version 1.2.3 and 10.12.2, then to version 1.2.2027 and build 3/4/2024",
        "Host 10.0.12.2024 answered",
        "Call 555-123-4567 or +44 20 7946 0958 or 0800-12-2024-55",
        "Date: DD/MM/YYYY, 2024-XX-XX, [date], 00/00/0000",
        "Those 5 may be affected; March 2024 was busy; 24/7 support",
        "Fix was v2.10.2024 build 2024-13-45",
        "It took 1.5 hours and 3/4 of the fleet",
    ],
)
def test_look_alikes_are_not_dates(text):
    assert find_dates(text) == []


def test_format_labels_are_examples_a_reader_recognises():
    assert format_label("day-month-name") == "day month year (5 March 2024)"
    assert format_label("iso") == "ISO year-month-day (2024-03-05)"
