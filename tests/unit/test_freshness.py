"""Freshness rules (CONTRACT section 4) and the pure ops logic of ingest/ops/freshness.py."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ingest.contract.model import FreshnessStatus as S
from ingest.ops.freshness import (
    CoverageLevel,
    SupplierFreshness,
    coverage_days,
    coverage_level,
    freshness_status,
    midnight_utc_seconds,
    missing_practices,
    severity,
    status_exit_code,
    usual_practices,
    worst,
)

WARN = dt.timedelta(hours=26)
ERROR = dt.timedelta(hours=50)
T0 = dt.datetime(2026, 11, 25, 9, 0, tzinfo=dt.UTC)
H = dt.timedelta(hours=1)


class FakeClock:
    """A clock that only moves when told to."""

    def __init__(self, start: dt.datetime) -> None:
        self.now = start

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, by: dt.timedelta) -> None:
        self.now += by


def test_never_reported_without_any_valid_event() -> None:
    assert freshness_status(None, WARN, ERROR, T0) is S.NEVER_REPORTED


@pytest.mark.parametrize(
    ("age", "expected"),
    [
        (dt.timedelta(0), S.OK),
        (WARN, S.OK),  # "ok while now - last_event_at <= warn_after"
        (WARN + dt.timedelta(microseconds=1), S.LATE),
        (ERROR, S.LATE),  # "late up to error_after"
        (ERROR + dt.timedelta(microseconds=1), S.SILENT),
        (dt.timedelta(days=400), S.SILENT),
        (-H, S.OK),  # an event stamped after `now` (clock skew) is not a failure
    ],
)
def test_thresholds_are_inclusive(age: dt.timedelta, expected: S) -> None:
    assert freshness_status(T0 - age, WARN, ERROR, T0) is expected


def test_ok_late_silent_ok_as_time_passes_and_events_arrive() -> None:
    clock = FakeClock(T0)
    last_event_at: dt.datetime | None = None
    seen = [freshness_status(last_event_at, WARN, ERROR, clock())]
    last_event_at = clock()  # the first valid event is ingested
    for step in (H, 25 * H, 1 * H, 23 * H, 1 * H):  # ages 1h, 26h, 27h, 50h, 51h
        clock.advance(step)
        seen.append(freshness_status(last_event_at, WARN, ERROR, clock()))
    last_event_at = clock()  # the supplier sends again
    clock.advance(H)
    seen.append(freshness_status(last_event_at, WARN, ERROR, clock()))
    assert seen == [S.NEVER_REPORTED, S.OK, S.OK, S.LATE, S.LATE, S.SILENT, S.OK]


def test_per_supplier_thresholds() -> None:
    last = T0 - dt.timedelta(minutes=20)
    assert freshness_status(last, dt.timedelta(minutes=10), dt.timedelta(minutes=30), T0) is S.LATE
    assert freshness_status(last, dt.timedelta(seconds=10), dt.timedelta(minutes=15), T0) is (
        S.SILENT
    )


@given(
    age_hours=st.floats(min_value=-10, max_value=500, allow_nan=False),
    later_hours=st.floats(min_value=0, max_value=500, allow_nan=False),
)
def test_status_only_worsens_while_nothing_arrives(age_hours: float, later_hours: float) -> None:
    last = T0 - dt.timedelta(hours=age_hours)
    before = freshness_status(last, WARN, ERROR, T0)
    after = freshness_status(last, WARN, ERROR, T0 + dt.timedelta(hours=later_hours))
    assert severity(after) >= severity(before)
    assert before is not S.NEVER_REPORTED


def test_supplier_row_re_evaluated_at_another_instant() -> None:
    row = SupplierFreshness("askmygp", "AskMyGP", T0, dt.date(2026, 11, 24), S.OK, WARN, ERROR)
    assert row.at(T0 + 30 * H).status is S.LATE
    assert row.at(T0 + 60 * H).status is S.SILENT
    assert row.age(T0 + 2 * H) == 2 * H
    never = SupplierFreshness("new", "New", None, None, S.NEVER_REPORTED, WARN, ERROR)
    assert never.at(T0).status is S.NEVER_REPORTED and never.age(T0) is None


def test_latest_activity_date_gauge_is_midnight_utc() -> None:
    assert midnight_utc_seconds(dt.date(1970, 1, 2)) == 86400.0
    assert (
        midnight_utc_seconds(dt.date(2026, 6, 1))
        == dt.datetime(2026, 6, 1, tzinfo=dt.UTC).timestamp()
    )


D = dt.date(2026, 11, 24)


def _days_ago(n: int) -> dt.date:
    return D - dt.timedelta(days=n)


def test_missing_practices_are_those_of_the_previous_7_days_absent_from_the_latest() -> None:
    reported = {
        D: {"A81001", "A81002"},
        _days_ago(1): {"A81001", "A81002", "A81003"},
        _days_ago(7): {"A81004"},  # inside the window (7 days before)
        _days_ago(8): {"A81005"},  # outside it
    }
    assert missing_practices(D, reported) == {"A81003", "A81004"}


def test_no_missing_practices_without_a_latest_day_or_history() -> None:
    assert missing_practices(None, {D: {"A81001"}}) == set()
    assert missing_practices(D, {D: {"A81001"}}) == set()
    # A latest day with nothing at all: everyone of the week before is missing.
    assert missing_practices(D, {_days_ago(2): ["A81001"]}) == {"A81001"}


@pytest.mark.parametrize(
    ("statuses", "strict", "code"),
    [
        ([], False, 0),
        ([S.OK, S.OK], False, 0),
        ([S.OK, S.LATE], False, 1),
        ([S.SILENT], False, 1),
        ([S.OK, S.NEVER_REPORTED], False, 0),
        ([S.OK, S.NEVER_REPORTED], True, 1),
        ([S.LATE, S.NEVER_REPORTED], False, 1),
    ],
)
def test_status_exit_code(statuses: list[S], strict: bool, code: int) -> None:
    assert status_exit_code(statuses, never_reported_fails=strict) == code


def test_worst_status() -> None:
    assert worst([]) is S.OK
    assert worst([S.OK, S.NEVER_REPORTED]) is S.NEVER_REPORTED
    assert worst([S.LATE, S.OK, S.SILENT]) is S.SILENT


def test_coverage_window_and_levels() -> None:
    days = coverage_days(D, 30)
    assert len(days) == 30 and days[0] == D - dt.timedelta(days=29) and days[-1] == D
    assert usual_practices([0, 100, 80]) == 100 and usual_practices([]) == 0
    assert coverage_level(0, 100) is CoverageLevel.NONE
    assert coverage_level(0, 100, due=False) is CoverageLevel.NOT_DUE
    assert coverage_level(20, 100) is CoverageLevel.LOW
    assert coverage_level(50, 100) is CoverageLevel.PARTIAL
    assert coverage_level(90, 100) is CoverageLevel.FULL
    assert coverage_level(5, 0) is CoverageLevel.FULL
