"""Reads of freshness, missing practices, recent activity and coverage (Postgres edge).

Every function takes the instant to evaluate at (``now``) so that tests can inject a clock;
the SQL function ``triage.supplier_freshness_at(ts)`` is the view ``triage.supplier_freshness``
at any instant.
"""

from __future__ import annotations

import datetime as dt

import asyncpg

from ingest.clock import local_today
from ingest.contract.model import FreshnessStatus
from ingest.db.queries import queries
from ingest.ops.freshness import (
    COVERAGE_DAYS,
    RosterCoverage,
    StatusSnapshot,
    SupplierActivity24h,
    SupplierFreshness,
    coverage_days,
)
from ingest.ops.metrics import UNKNOWN
from ingest.ops.volume import VolumeAssessment

SQL = queries("ingest.ops")


async def fetch_freshness(conn: asyncpg.Connection, now: dt.datetime) -> list[SupplierFreshness]:
    """The active suppliers' freshness at ``now``, by supplier id."""
    rows = await conn.fetch(SQL["freshness_at"], now)
    return [
        SupplierFreshness(
            supplier_id=r["supplier_id"],
            name=r["name"],
            last_event_at=r["last_event_at"],
            latest_activity_date=r["latest_activity_date"],
            status=FreshnessStatus(r["status"]),
            warn_after=r["warn_after"],
            error_after=r["error_after"],
        )
        for r in rows
    ]


async def fetch_missing_counts(conn: asyncpg.Connection) -> dict[str, int]:
    """Active supplier -> number of missing practices (suppliers missing none are absent)."""
    return {r["supplier_id"]: r["n"] for r in await conn.fetch(SQL["missing_practice_counts"])}


async def fetch_missing_practices(conn: asyncpg.Connection) -> dict[str, tuple[str, ...]]:
    """Active supplier -> the practice codes missing from its latest reported day."""
    return {
        r["supplier_id"]: tuple(r["practices"]) for r in await conn.fetch(SQL["missing_practices"])
    }


def _number(value: object) -> float | None:
    return None if value is None else float(value)  # type: ignore[arg-type]


async def fetch_volume(conn: asyncpg.Connection, practices: bool = True) -> list[VolumeAssessment]:
    """The volume assessment of every active supplier's latest reported day (migration 0043);
    ``practices``: also count its flagged practices (the heavier part)."""
    flagged = (
        {r["supplier_id"]: r["n"] for r in await conn.fetch(SQL["flagged_practice_counts"])}
        if practices
        else {}
    )
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
            flagged_practices=flagged.get(r["supplier_id"], 0),
        )
        for r in await conn.fetch(SQL["supplier_volume"])
    ]


async def fetch_outbox_pending(conn: asyncpg.Connection) -> int:
    """Outcomes waiting to be sent (the view triage.outcome_outbox, migration 0120; parked ones,
    migration 0110, are counted apart: they wait for an operator, not for the relay)."""
    pending: int = await conn.fetchval(SQL["outbox_pending"])
    return pending


async def fetch_outbox_parked(conn: asyncpg.Connection) -> dict[str, int]:
    """Parked outcomes per supplier (migration 0110)."""
    rows = await conn.fetch(SQL["outbox_parked"])
    return {r["supplier_id"]: r["n"] for r in rows}


async def fetch_roster_coverage(conn: asyncpg.Connection) -> dict[str, RosterCoverage]:
    """Per rostered active supplier, on its latest day: practices installed, participating
    and reporting (migration 0042)."""
    return {
        r["supplier_id"]: RosterCoverage(
            r["latest_activity_date"], r["installed"], r["participating"], r["reporting"]
        )
        for r in await conn.fetch(SQL["roster_coverage"])
    }


async def fetch_activity_since(
    conn: asyncpg.Connection, since: dt.datetime, suppliers: list[str]
) -> dict[str, SupplierActivity24h]:
    """Per supplier: revisions stored and rejections by reason since ``since``.

    Rejections of records that name no registered supplier are gathered under ``unknown``.
    """
    stored = {
        r["supplier_id"]: r["n"] for r in await conn.fetch(SQL["stored_since"], since, suppliers)
    }
    known = set(suppliers)
    rejections: dict[str, dict[str, int]] = {}
    for r in await conn.fetch(SQL["rejected_since"], since):
        label = r["supplier_id"] if r["supplier_id"] in known else UNKNOWN
        by_reason = rejections.setdefault(label, {})
        by_reason[r["reason"]] = by_reason.get(r["reason"], 0) + r["n"]
    return {
        s: SupplierActivity24h(stored.get(s, 0), rejections.get(s, {}))
        for s in sorted(known | set(rejections))
    }


async def fetch_coverage(
    conn: asyncpg.Connection, suppliers: list[str], first: dt.date, last: dt.date
) -> dict[tuple[str, dt.date], int]:
    """(supplier, day) -> practices with figures for that day, for days first..last."""
    rows = await conn.fetch(SQL["coverage"], suppliers, first, last)
    return {(r["supplier_id"], r["activity_date"]): r["n"] for r in rows}


async def fetch_status_snapshot(
    conn: asyncpg.Connection,
    now: dt.datetime,
    timezone: str = "Europe/London",
    days: int = COVERAGE_DAYS,
) -> StatusSnapshot:
    """Everything the status page shows, evaluated at ``now``, in one read-only transaction."""
    today = local_today(now, timezone)
    window = coverage_days(today, days)
    async with conn.transaction(readonly=True, isolation="repeatable_read"):
        suppliers = await fetch_freshness(conn, now)
        ids = [s.supplier_id for s in suppliers]
        missing = await fetch_missing_practices(conn)
        activity = await fetch_activity_since(conn, now - dt.timedelta(hours=24), ids)
        coverage = await fetch_coverage(conn, ids, window[0], window[-1])
        volume = {v.supplier_id: v for v in await fetch_volume(conn, practices=False)}
        roster = await fetch_roster_coverage(conn)
    return StatusSnapshot(
        now=now,
        today=today,
        suppliers=tuple(suppliers),
        missing=missing,
        activity=activity,
        coverage=coverage,
        days=tuple(window),
        volume=volume,
        roster=roster,
    )
