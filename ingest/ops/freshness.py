"""Freshness of supplier feeds (CONTRACT section 4) and what ops derive from it (pure, no I/O).

* ``freshness_status``: ``never_reported`` / ``ok`` / ``late`` / ``silent`` from the time of the
  latest valid event, the supplier's thresholds and a given ``now`` (the same rule as the SQL
  function ``triage.freshness_status``; tests hand in any ``now``);
* ``missing_practices``: practices a supplier reported on any of the 7 days before its latest
  reported day but not for that day;
* ``coverage_days`` / ``coverage_level``: the supplier x day grid of the status page;
* ``status_exit_code``: what ``ingest status`` returns.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import IntEnum

from ingest.contract.model import FreshnessStatus
from ingest.ops.volume import VolumeAssessment

MISSING_WINDOW_DAYS = 7
COVERAGE_DAYS = 30

# Order of gravity, for sorting and for the worst status of a set.
_SEVERITY: dict[FreshnessStatus, int] = {
    FreshnessStatus.OK: 0,
    FreshnessStatus.NEVER_REPORTED: 1,
    FreshnessStatus.LATE: 2,
    FreshnessStatus.SILENT: 3,
}
FAILING: frozenset[FreshnessStatus] = frozenset({FreshnessStatus.LATE, FreshnessStatus.SILENT})


def freshness_status(
    last_event_at: dt.datetime | None,
    warn_after: dt.timedelta,
    error_after: dt.timedelta,
    now: dt.datetime,
) -> FreshnessStatus:
    """Status at ``now``: ok while now - last_event_at <= warn_after, late up to error_after,
    silent beyond; never_reported without any valid event."""
    if last_event_at is None:
        return FreshnessStatus.NEVER_REPORTED
    age = now - last_event_at
    if age <= warn_after:
        return FreshnessStatus.OK
    if age <= error_after:
        return FreshnessStatus.LATE
    return FreshnessStatus.SILENT


def severity(status: FreshnessStatus) -> int:
    """0 for ok, higher is worse (never_reported < late < silent)."""
    return _SEVERITY[status]


@dataclass(frozen=True, slots=True)
class SupplierFreshness:
    """One row of ``triage.supplier_freshness`` (as evaluated at some ``now``)."""

    supplier_id: str
    name: str
    last_event_at: dt.datetime | None
    latest_activity_date: dt.date | None
    status: FreshnessStatus
    warn_after: dt.timedelta
    error_after: dt.timedelta

    def age(self, now: dt.datetime) -> dt.timedelta | None:
        """How long ago the latest valid event was ingested."""
        return None if self.last_event_at is None else now - self.last_event_at

    def at(self, now: dt.datetime) -> SupplierFreshness:
        """The same supplier re-evaluated at another ``now``."""
        status = freshness_status(self.last_event_at, self.warn_after, self.error_after, now)
        return SupplierFreshness(
            self.supplier_id,
            self.name,
            self.last_event_at,
            self.latest_activity_date,
            status,
            self.warn_after,
            self.error_after,
        )


def midnight_utc_seconds(day: dt.date) -> float:
    """Unix seconds of midnight UTC of ``day`` (the latest-activity-date gauge's unit)."""
    return dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC).timestamp()


def missing_practices(
    latest_day: dt.date | None,
    reported: Mapping[dt.date, Iterable[str]],
    window_days: int = MISSING_WINDOW_DAYS,
) -> set[str]:
    """Practices reported on any of the ``window_days`` days before ``latest_day`` but not for
    ``latest_day`` itself (``reported`` maps a day to the practices reported for it)."""
    if latest_day is None:
        return set()
    latest = set(reported.get(latest_day, ()))
    before: set[str] = set()
    for offset in range(1, window_days + 1):
        before.update(reported.get(latest_day - dt.timedelta(days=offset), ()))
    return before - latest


def status_exit_code(
    statuses: Iterable[FreshnessStatus], never_reported_fails: bool = False
) -> int:
    """``ingest status`` exit code: 1 when any supplier is late or silent, else 0.

    A supplier that never reported is not a failure by default: a newly registered supplier
    that has not started sending is expected, not an outage. ``never_reported_fails`` makes it
    one (``ingest status --strict``).
    """
    failing = FAILING | ({FreshnessStatus.NEVER_REPORTED} if never_reported_fails else set())
    return 1 if any(s in failing for s in statuses) else 0


def worst(statuses: Iterable[FreshnessStatus]) -> FreshnessStatus:
    """The gravest status of a set (ok for an empty one)."""
    return max(statuses, key=severity, default=FreshnessStatus.OK)


# --- the status page's heat map ------------------------------------------------------


class CoverageLevel(IntEnum):
    """How much of a supplier's usual practice count a day has."""

    NONE = 0  # nothing reported for the day
    LOW = 1  # under half of the supplier's usual count
    PARTIAL = 2  # half to 90 %
    FULL = 3  # 90 % or more
    NOT_DUE = 4  # a day with nothing reported that is not due yet (today)


def coverage_days(today: dt.date, days: int = COVERAGE_DAYS) -> list[dt.date]:
    """The last ``days`` days up to ``today``, oldest first."""
    return [today - dt.timedelta(days=n) for n in range(days - 1, -1, -1)]


def usual_practices(counts: Iterable[int]) -> int:
    """A supplier's usual number of practices per day: the highest count in the window
    (robust to the odd short day; 0 when nothing was reported)."""
    return max(counts, default=0)


def coverage_level(practices: int, usual: int, due: bool = True) -> CoverageLevel:
    """The heat-map level of one supplier-day."""
    if practices <= 0:
        return CoverageLevel.NONE if due else CoverageLevel.NOT_DUE
    if usual <= 0 or practices >= 0.9 * usual:
        return CoverageLevel.FULL
    if practices >= 0.5 * usual:
        return CoverageLevel.PARTIAL
    return CoverageLevel.LOW


@dataclass(frozen=True, slots=True)
class SupplierActivity24h:
    """What a supplier sent in the last 24 hours, as stored in Postgres."""

    stored_events: int = 0  # new revisions stored (accepted + superseded)
    rejections: Mapping[str, int] = field(default_factory=dict)  # reason -> count

    @property
    def rejected(self) -> int:
        return sum(self.rejections.values())


@dataclass(frozen=True, slots=True)
class RosterCoverage:
    """A rostered supplier's latest reported day: practices with its system installed, of
    those the participating ones (None: no participation list loaded), and the reporting ones."""

    day: dt.date
    installed: int
    participating: int | None
    reporting: int


@dataclass(frozen=True, slots=True)
class StatusSnapshot:
    """Everything the status page and ``ingest status`` show, as of ``now``."""

    now: dt.datetime
    today: dt.date
    suppliers: tuple[SupplierFreshness, ...]
    missing: Mapping[str, tuple[str, ...]]  # supplier -> missing practice codes, sorted
    activity: Mapping[str, SupplierActivity24h]  # supplier (or "unknown") -> last 24 h
    coverage: Mapping[tuple[str, dt.date], int]  # (supplier, day) -> practices reported
    days: tuple[dt.date, ...] = ()
    database_error: str | None = None  # set when Postgres could not be read (stale data)
    volume: Mapping[str, VolumeAssessment] = field(default_factory=dict)  # latest day, assessed
    roster: Mapping[str, RosterCoverage] = field(default_factory=dict)  # rostered suppliers

    def missing_count(self, supplier_id: str) -> int:
        return len(self.missing.get(supplier_id, ()))

    def activity_of(self, supplier_id: str) -> SupplierActivity24h:
        return self.activity.get(supplier_id, SupplierActivity24h())
