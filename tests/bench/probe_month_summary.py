"""What migration 0064 costs a batch (the price of fast monthly exports): the store's writes of a
batch, timed with 0064's triggers and index and without them, on a database with history.

    .venv/bin/python -m tests.bench.probe_month_summary --database-url URL [--repeats 6]

Each trial runs in a transaction that is rolled back: one batch of new practice-days (the next
day for every supplier-practice pair the database holds: COPY of their revisions, then of the
current rows, as the store does for keys never stored) and one upsert of restatements (3% of
the pairs' latest day, revision + 1, INSERT ... ON CONFLICT DO UPDATE as the store does).
"without" disables 0064's insert and update triggers and drops its index inside the
transaction. The two variants alternate; medians.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import statistics
import time
import uuid

import asyncpg

COLUMNS = (
    "supplier_id", "practice_code", "activity_date", "revision", "total_requests",
    "clinical_requests", "admin_requests", "other_requests", "event_id", "generated_at",
)  # fmt: skip
WITHOUT_SQL = """
ALTER TABLE triage.daily_requests DISABLE TRIGGER practice_month_summary_insert;
ALTER TABLE triage.daily_requests DISABLE TRIGGER practice_month_summary_update;
DROP INDEX triage.daily_requests_activity_date_idx;
"""
RESTATE_SQL = f"""
INSERT INTO triage.daily_requests AS d ({", ".join(COLUMNS)})
SELECT {", ".join(COLUMNS)} FROM probe_restated
ON CONFLICT (supplier_id, practice_code, activity_date) DO UPDATE SET
    revision = EXCLUDED.revision, total_requests = EXCLUDED.total_requests,
    clinical_requests = EXCLUDED.clinical_requests, event_id = EXCLUDED.event_id
WHERE d.revision < EXCLUDED.revision
"""


async def trial(
    conn: asyncpg.Connection, with_0064: bool, fresh: list[tuple[object, ...]],
    restated: list[tuple[object, ...]],
) -> tuple[float, float, float]:  # fmt: skip
    """Seconds of the revisions' COPY, the current rows' COPY and the restatement upsert."""
    tx = conn.transaction()
    await tx.start()
    try:
        if not with_0064:
            await conn.execute(WITHOUT_SQL)
        await conn.execute(
            "CREATE TEMP TABLE probe_restated (LIKE triage.daily_requests INCLUDING DEFAULTS)"
            " ON COMMIT DROP"
        )
        await conn.copy_records_to_table("probe_restated", columns=COLUMNS, records=restated)
        revisions = [(*row, "probe", 0, i) for i, row in enumerate(fresh)]
        started = time.perf_counter()
        await conn.copy_records_to_table(
            "daily_request_revisions",
            schema_name="triage",
            columns=(*COLUMNS, "source_topic", "source_partition", "source_offset"),
            records=revisions,
        )
        revised = time.perf_counter()
        await conn.copy_records_to_table(
            "daily_requests", schema_name="triage", columns=COLUMNS, records=fresh
        )
        copied = time.perf_counter()
        await conn.execute(RESTATE_SQL)
        done = time.perf_counter()
        return revised - started, copied - revised, done - copied
    finally:
        await tx.rollback()


async def main(database_url: str, repeats: int) -> None:
    conn = await asyncpg.connect(database_url)
    try:
        latest = await conn.fetch(
            "SELECT supplier_id, practice_code, max(activity_date) AS day, max(revision) AS rev"
            " FROM triage.daily_requests WHERE activity_date >= current_date - 60"
            " GROUP BY supplier_id, practice_code ORDER BY supplier_id, practice_code"
        )
        next_day: dt.date = max(r["day"] for r in latest) + dt.timedelta(days=1)
        now = dt.datetime.now(dt.UTC)
        fresh = [
            (r["supplier_id"], r["practice_code"], next_day, 1, 40, 30, 5, 5, uuid.uuid4(), now)
            for r in latest
        ]
        restated = [
            (r["supplier_id"], r["practice_code"], r["day"], r["rev"] + 1, 41, 31, 5, 5,
             uuid.uuid4(), now)
            for r in latest[::33]
        ]  # fmt: skip
        times: dict[bool, list[tuple[float, float, float]]] = {True: [], False: []}
        for i in range(repeats):
            for with_0064 in (True, False) if i % 2 == 0 else (False, True):
                times[with_0064].append(await trial(conn, with_0064, fresh, restated))
    finally:
        await conn.close()
    print(f"batch: {len(fresh):,} new practice-days, {len(restated):,} restatements; "
          f"{repeats} trials each, medians")  # fmt: skip
    medians = {k: [statistics.median(t[i] for t in v) for i in range(3)] for k, v in times.items()}
    totals = {k: statistics.median(sum(t) for t in v) for k, v in times.items()}
    for name, k in (("with 0064", True), ("without", False)):
        m = medians[k]
        print(f"{name:>10}: revisions COPY {m[0]:.3f} s, current rows COPY {m[1]:.3f} s, "
              f"upsert {m[2]:.3f} s; total {totals[k]:.3f} s")  # fmt: skip
    ratios = [medians[True][i] / medians[False][i] for i in range(3)]
    print(
        f"ratio with/without: revisions COPY {ratios[0]:.2f}, current rows COPY "
        f"{ratios[1]:.2f}, upsert {ratios[2]:.2f}; total {totals[True] / totals[False]:.2f}"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--repeats", type=int, default=6)
    args = parser.parse_args()
    asyncio.run(main(args.database_url, args.repeats))
