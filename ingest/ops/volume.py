"""Volume anomalies as the service publishes them (Postgres edge): each active supplier's
latest reported day assessed against the same weekday of the weeks before (migration 0043,
``triage.supplier_volume_anomalies``), and its flagged practices
(``triage.practice_volume_anomalies``). Flagged, never rejected."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import asyncpg

_SUPPLIERS_SQL = """
SELECT supplier_id, activity_date, total_requests, weeks, baseline_median, change, robust_z,
       flagged, direction
FROM triage.supplier_volume_anomalies
"""
_PRACTICES_SQL = """
SELECT supplier_id, count(*)::integer AS n FROM triage.practice_volume_anomalies
GROUP BY supplier_id
"""


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


def _number(value: object) -> float | None:
    return None if value is None else float(value)  # type: ignore[arg-type]


async def fetch_volume(conn: asyncpg.Connection) -> list[VolumeAssessment]:
    """The assessment of every active supplier's latest reported day."""
    practices = {r["supplier_id"]: r["n"] for r in await conn.fetch(_PRACTICES_SQL)}
    return [
        VolumeAssessment(
            supplier_id=r["supplier_id"],
            activity_date=r["activity_date"],
            total_requests=r["total_requests"],
            weeks=r["weeks"],
            baseline_median=_number(r["baseline_median"]),
            change=_number(r["change"]),
            robust_z=_number(r["robust_z"]),
            flagged=r["flagged"],
            direction=r["direction"],
            flagged_practices=practices.get(r["supplier_id"], 0),
        )
        for r in await conn.fetch(_SUPPLIERS_SQL)
    ]
