"""Submissions counted into schema v3's time bands by UK local time, clock-change days included."""

from __future__ import annotations

import datetime as dt

import pytest

from ingest.contract.model import BAND_FIELDS
from ingest.supplier.time_bands import TimeBandError, band_of, day_bands

pytestmark = pytest.mark.unit

UTC = dt.UTC
SPRING_FORWARD = dt.date(2026, 3, 29)  # 01:00 GMT becomes 02:00 BST
FALL_BACK = dt.date(2026, 10, 25)  # 02:00 BST becomes 01:00 GMT


def at(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=UTC)


@pytest.mark.parametrize(
    ("hour", "band"),
    [(0, 0), (5, 0), (6, 1), (7, 1), (8, 2), (9, 2), (10, 3), (12, 4), (14, 5), (16, 6),
     (17, 6), (18, 7), (23, 7)],
)  # fmt: skip
def test_each_band_starts_at_its_hour_in_winter_when_uk_time_is_utc(hour: int, band: int) -> None:
    assert band_of(at(dt.date(2026, 1, 12), hour, 59)) == BAND_FIELDS[band]


def test_in_summer_the_uk_clock_is_an_hour_ahead_of_utc() -> None:
    assert band_of(at(dt.date(2026, 7, 6), 7, 30)) == "requests_08_10"  # 08:30 BST
    assert band_of(at(dt.date(2026, 7, 6), 23, 30)) == "requests_00_06"  # 00:30 BST next day


def test_the_day_the_clocks_go_forward_has_five_hours_in_the_first_band() -> None:
    instants = [at(SPRING_FORWARD, 0, 30), at(SPRING_FORWARD, 1, 30), at(SPRING_FORWARD, 4, 59)]
    bands = day_bands(SPRING_FORWARD, instants)  # 00:30 GMT, 02:30 BST, 05:59 BST
    assert bands["requests_00_06"] == 3
    assert band_of(at(SPRING_FORWARD, 5, 0)) == "requests_06_08"  # 06:00 BST


def test_the_day_the_clocks_go_back_counts_the_repeated_hour_twice_in_the_first_band() -> None:
    first, second = at(FALL_BACK, 0, 30), at(FALL_BACK, 1, 30)  # 01:30 BST, then 01:30 GMT
    bands = day_bands(FALL_BACK, [first, second, at(FALL_BACK, 6, 0)])
    assert (bands["requests_00_06"], bands["requests_06_08"]) == (2, 1)
    assert band_of(at(FALL_BACK, 5, 59)) == "requests_00_06"  # 05:59 GMT: seven hours in all


def test_a_days_bands_sum_to_its_submissions_with_unknown_times_counted_apart() -> None:
    day = dt.date(2026, 2, 2)
    submitted = [at(day, h) for h in range(0, 24, 3)] + [None, None]
    bands = day_bands(day, submitted)
    assert sum(bands.values()) == len(submitted)
    assert bands["requests_time_unknown"] == 2
    assert list(bands) == list(BAND_FIELDS)


def test_a_submission_on_another_uk_day_is_refused() -> None:
    # 23:30 UTC on 5 July is 00:30 BST on 6 July: the 6th's submission, not the 5th's
    with pytest.raises(TimeBandError, match="is on 2026-07-06 in UK time, not 2026-07-05"):
        day_bands(dt.date(2026, 7, 5), [at(dt.date(2026, 7, 5), 23, 30)])


def test_a_time_without_a_zone_is_refused() -> None:
    with pytest.raises(TimeBandError, match="has no time zone"):
        band_of(dt.datetime(2026, 7, 6, 8, 30))
