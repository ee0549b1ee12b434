"""Which months of revision partitions the consumer asks for before storing a batch: each
day's month and the month after it (made ahead), once per month a process meets."""

from __future__ import annotations

import datetime as dt

from hypothesis import given
from hypothesis import strategies as st

from ingest.consumer.partition_months import MonthsCovered, month_after, month_of


def test_a_first_batch_asks_for_its_months_and_the_month_after() -> None:
    days = {dt.date(2026, 11, 30), dt.date(2026, 12, 6)}

    assert MonthsCovered().to_cover(days) == (dt.date(2026, 11, 1), dt.date(2027, 1, 1))


def test_days_of_covered_months_ask_for_nothing() -> None:
    months = MonthsCovered()
    first, last = months.to_cover({dt.date(2026, 12, 6)}) or (None, None)
    assert first and last
    months.covered(first, last)

    assert months.to_cover({dt.date(2026, 12, 6), dt.date(2026, 12, 1)}) is None


def test_the_first_day_of_a_month_made_ahead_asks_for_the_month_after_it() -> None:
    months = MonthsCovered()
    months.covered(dt.date(2026, 12, 1), dt.date(2027, 1, 1))

    assert months.to_cover({dt.date(2027, 1, 1)}) == (dt.date(2027, 2, 1), dt.date(2027, 2, 1))


def test_a_range_not_recorded_as_covered_is_asked_for_again() -> None:
    """A failed call (the caller does not record it) is retried with the next batch."""
    months = MonthsCovered()
    asked = months.to_cover({dt.date(2026, 12, 6)})

    assert months.to_cover({dt.date(2026, 12, 6)}) == asked


@given(st.dates(min_value=dt.date(2000, 1, 1), max_value=dt.date(2100, 12, 31)))
def test_month_after_is_the_first_day_of_the_next_month(day: dt.date) -> None:
    following = month_after(month_of(day))

    assert following.day == 1
    assert month_of(following - dt.timedelta(days=1)) == month_of(day)


@given(st.sets(st.dates(min_value=dt.date(2020, 1, 1), max_value=dt.date(2030, 12, 31)),
               min_size=1, max_size=40))  # fmt: skip
def test_the_range_asked_for_holds_every_month_of_the_days_and_the_month_after(
    days: set[dt.date],
) -> None:
    asked = MonthsCovered().to_cover(days)
    assert asked is not None
    first, last = asked

    for day in days:
        assert first <= month_of(day) and month_after(month_of(day)) <= last
