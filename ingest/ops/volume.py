"""Volume anomalies as the service shows them (pure): each active supplier's latest reported
day assessed against the same weekday of the weeks before (migration 0043,
``triage.supplier_volume_anomalies``), with the number of its flagged practices
(``triage.practice_volume_anomalies``). Flagged, never rejected. Read by
:func:`ingest.ops.freshness_store.fetch_volume`."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class VolumeAssessment:
    """A supplier's latest reported day against its own history."""

    supplier_id: str
    activity_date: dt.date
    total_requests: int
    weeks: int  # same weekdays of history with data (at least 4 before anything is flagged)
    baseline_median: float | None
    change: float | None  # relative to the median, e.g. -0.11
    robust_z: float | None
    flagged: bool
    direction: str | None  # 'drop' or 'spike' when flagged
    flagged_practices: int = 0
