"""Weeks of the simulator's daily counts written straight into ``triage.daily_requests`` (for
read-side tests of volume statistics; the rows a consumer would store from the simulator's
daily feed, less the share of rows each supplier gets rejected)."""

from __future__ import annotations

import datetime as dt
import random
import uuid

import asyncpg

from ingest.supplier.simulator import SimSupplier, day_counts

COLUMNS = (
    "supplier_id",
    "practice_code",
    "activity_date",
    "revision",
    "total_requests",
    "clinical_requests",
    "admin_requests",
    "other_requests",
    "event_id",
    "generated_at",
)


def history_rows(
    suppliers: list[SimSupplier], first: dt.date, last: dt.date, seed: int = 7
) -> list[tuple[object, ...]]:
    rng = random.Random(seed)
    at = dt.datetime.now(dt.UTC)
    rows: list[tuple[object, ...]] = []
    day = first
    while day <= last:
        for supplier in suppliers:
            for practice in supplier.practices:
                counts = day_counts(practice, day, supplier, rng)
                if rng.random() < supplier.bad_rate:
                    continue  # rejected: not stored
                rows.append(
                    (
                        supplier.supplier_id,
                        counts.practice_code,
                        day,
                        1,
                        counts.total_requests,
                        counts.clinical_requests,
                        counts.admin_requests,
                        counts.other_requests,
                        uuid.UUID(int=rng.getrandbits(128), version=4),
                        at,
                    )
                )
        day += dt.timedelta(days=1)
    return rows


async def write_history(
    pg: asyncpg.Connection, suppliers: list[SimSupplier], first: dt.date, last: dt.date
) -> int:
    """Register the suppliers and write their daily rows from ``first`` to ``last``."""
    for s in suppliers:
        await pg.execute(
            "INSERT INTO triage.suppliers (supplier_id, name) VALUES ($1, $2)"
            " ON CONFLICT DO NOTHING",
            s.supplier_id,
            s.name,
        )
    rows = history_rows(suppliers, first, last)
    await pg.copy_records_to_table(
        "daily_requests", schema_name="triage", columns=COLUMNS, records=rows
    )
    await pg.execute(
        "INSERT INTO triage.supplier_activity (supplier_id, last_event_at, latest_activity_date)"
        " SELECT supplier_id, now(), max(activity_date) FROM triage.daily_requests"
        " GROUP BY supplier_id ON CONFLICT (supplier_id) DO UPDATE"
        " SET latest_activity_date = EXCLUDED.latest_activity_date"
    )
    return len(rows)
