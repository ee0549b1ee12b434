"""Storing the count of records whose key disagreed with their body (issue 14, finding 9), per
supplier and activity date, in the batch's transaction (``triage.record_key_mismatches``)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import asyncpg

from ingest.consumer.key_check import per_day
from ingest.contract.model import DailyEvent

# Rows in key order, so concurrent batches lock them in the same order.
_UPSERT_SQL = """
INSERT INTO triage.record_key_mismatches AS m
    (supplier_id, activity_date, mismatches, first_seen_at, last_seen_at)
SELECT s, d, n, coalesce($4, now()), coalesce($4, now())
FROM unnest($1::text[], $2::date[], $3::bigint[]) AS u(s, d, n)
ORDER BY s, d
ON CONFLICT (supplier_id, activity_date) DO UPDATE SET
    mismatches = m.mismatches + EXCLUDED.mismatches,
    last_seen_at = GREATEST(m.last_seen_at, EXCLUDED.last_seen_at)
"""


async def count_key_mismatches(
    conn: asyncpg.Connection, events: Sequence[DailyEvent], now: dt.datetime | None
) -> None:
    """Add ``events`` (valid, stored, key disagreeing with body) to the per-day counts."""
    counts = per_day(events)
    if counts:
        await conn.execute(
            _UPSERT_SQL,
            [s for s, _ in counts],
            [d for _, d in counts],
            list(counts.values()),
            now,
        )
