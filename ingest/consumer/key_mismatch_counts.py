"""Storing the count of records whose key disagreed with their body (keys stay advisory, but a
disagreement is seen), per supplier and activity date, in the batch's transaction
(``triage.record_key_mismatches``)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import asyncpg

from ingest.consumer.key_check import per_day
from ingest.contract.model import DailyEvent
from ingest.db.queries import queries

_UPSERT_SQL = queries("ingest.consumer")["count_key_mismatches"]


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
