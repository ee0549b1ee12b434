"""Rows of ``triage.daily_requests`` written straight into the database, for read-side tests
(analytics views, exports, reports) that need a known series without running the consumer."""

from __future__ import annotations

import datetime as dt

import asyncpg


async def insert_days(
    pg: asyncpg.Connection,
    supplier: str,
    practice: str,
    first: dt.date,
    last: dt.date,
    total: int,
    breakdown: bool = True,
) -> None:
    """One current row per day in [first, last] for (supplier, practice)."""
    await pg.execute(
        """INSERT INTO triage.daily_requests (supplier_id, practice_code, activity_date, revision,
               total_requests, clinical_requests, admin_requests, other_requests, event_id,
               generated_at)
           SELECT $1, $2, d::date, 1, $5,
                  CASE WHEN $6 THEN $5 - 2 END, CASE WHEN $6 THEN 1 END, CASE WHEN $6 THEN 1 END,
                  gen_random_uuid(), now()
           FROM generate_series($3::date, $4::date, interval '1 day') d""",
        supplier,
        practice,
        first,
        last,
        total,
        breakdown,
    )
