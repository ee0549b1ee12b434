"""triage.practice_codes_reported (migration 0062) is always the set of (supplier, practice)
codes with current rows, and triage.unknown_practices answers as the 0030 scan of every row did,
through inserts, restatements, deletes, truncation and the upgrade of a database that already
held rows."""

from __future__ import annotations

import datetime as dt
import uuid

import asyncpg

from ingest.db.migrate import migrate
from tests.support.daily_rows import insert_days
from tests.support.databases import scratch_database
from tests.support.migrations import migrate_below

DAY = dt.date(2026, 6, 1)
FIRST_SUMMARY_VERSION = 60  # 0060 began summarising the codes; 0062 keeps the set

_CODES = "SELECT DISTINCT supplier_id, practice_code FROM triage.daily_requests ORDER BY 1, 2"
_REPORTED = "SELECT supplier_id, practice_code FROM triage.practice_codes_reported ORDER BY 1, 2"
_UNKNOWN = "SELECT * FROM triage.unknown_practices ORDER BY 1, 2"
# The view as 0030 defined it (a scan of every current row): 0060 must answer the same.
_UNKNOWN_BEFORE = """
SELECT d.supplier_id, d.practice_code, min(d.activity_date), max(d.activity_date),
       count(*)::integer, sum(d.total_requests)::bigint
FROM triage.daily_requests d
WHERE EXISTS (SELECT 1 FROM triage.reference_loads l
              WHERE l.kind = 'practices' AND l.superseded_at IS NULL)
  AND NOT EXISTS (SELECT 1 FROM triage.current_practice_classes p
                  WHERE p.practice_code = d.practice_code AND p.setting = 'gp_practice')
GROUP BY 1, 2 ORDER BY 1, 2
"""


async def rows(pg: asyncpg.Connection, query: str) -> list[tuple[object, ...]]:
    return [tuple(r) for r in await pg.fetch(query)]


async def add_suppliers_and_rows(pg: asyncpg.Connection) -> None:
    await pg.execute(
        "INSERT INTO triage.suppliers (supplier_id, name) VALUES ('sa', 'A'), ('sb', 'B')"
    )
    await insert_days(pg, "sa", "A81001", DAY, DAY + dt.timedelta(days=9), 10)
    await insert_days(pg, "sa", "A81002", DAY + dt.timedelta(days=3), DAY + dt.timedelta(days=5), 7)
    await insert_days(pg, "sb", "A81001", DAY, DAY + dt.timedelta(days=1), 4)
    await insert_days(pg, "sb", "Y02001", DAY, DAY, 2)  # a walk-in centre: not a GP practice
    load = await pg.fetchval(
        "INSERT INTO triage.reference_loads (kind, source_name, content_sha256, row_count)"
        " VALUES ('practices', 't', 't', 1) RETURNING load_id"
    )
    await pg.execute(
        "INSERT INTO triage.ref_practices (load_id, practice_code, name, country, setting)"
        " VALUES ($1, 'A81001', 'X', 'england', 'gp_practice'),"
        " ($1, 'Y02001', 'Walk-in', 'england', 'walk_in_or_out_of_hours')",
        load,
    )


async def test_upgrade_summarises_the_rows_already_stored(db_url: str) -> None:
    async with scratch_database(db_url) as url:
        pg = await asyncpg.connect(url)
        try:
            await migrate_below(pg, FIRST_SUMMARY_VERSION)  # the database before the summaries
            await add_suppliers_and_rows(pg)
            unknown_before = await rows(pg, _UNKNOWN_BEFORE)
            current_before = await pg.fetchval("SELECT count(*) FROM triage.daily_requests")

            await migrate(url)

            assert await rows(pg, _REPORTED) == await rows(pg, _CODES)
            assert await rows(pg, _UNKNOWN) == unknown_before
            assert unknown_before == [
                ("sa", "A81002", DAY + dt.timedelta(days=3), DAY + dt.timedelta(days=5), 3, 21),
                ("sb", "Y02001", DAY, DAY, 1, 2),
            ]
            assert await pg.fetchval("SELECT count(*) FROM triage.daily_requests") == (
                current_before
            )
        finally:
            await pg.close()


async def check(pg: asyncpg.Connection) -> None:
    assert await rows(pg, _REPORTED) == await rows(pg, _CODES)
    assert await rows(pg, _UNKNOWN) == await rows(pg, _UNKNOWN_BEFORE)


async def test_codes_and_unknown_practices_follow_copy_restatement_delete_and_truncate(
    pg: asyncpg.Connection,
) -> None:
    await add_suppliers_and_rows(pg)
    await check(pg)

    # COPY, as the consumer writes new practice-days
    now = dt.datetime.now(dt.UTC)
    await pg.copy_records_to_table(
        "daily_requests",
        schema_name="triage",
        columns=("supplier_id", "practice_code", "activity_date", "revision", "total_requests",
                 "event_id", "generated_at"),
        records=[("sb", "A81003", DAY - dt.timedelta(days=n), 1, 5, uuid.uuid4(), now)
                 for n in range(4)],
    )  # fmt: skip
    await check(pg)

    # a restatement through the consumer's upsert (the key stays, the figures change)
    await pg.execute(
        """INSERT INTO triage.daily_requests AS d (supplier_id, practice_code, activity_date,
               revision, total_requests, event_id, generated_at)
           VALUES ('sa', 'A81001', $1, 2, 25, gen_random_uuid(), now()),
                  ('sa', 'A81009', $1, 1, 3, gen_random_uuid(), now())
           ON CONFLICT (supplier_id, practice_code, activity_date) DO UPDATE SET
               revision = EXCLUDED.revision, total_requests = EXCLUDED.total_requests
           WHERE d.revision < EXCLUDED.revision""",
        DAY,
    )
    await check(pg)

    await pg.execute(
        "DELETE FROM triage.daily_requests WHERE practice_code = 'A81001' AND activity_date < $1",
        DAY + dt.timedelta(days=2),
    )
    await check(pg)

    await pg.execute("DELETE FROM triage.daily_requests WHERE practice_code = 'Y02001'")
    await check(pg)  # its last row gone: the code left the set

    await pg.execute("TRUNCATE triage.daily_requests")
    assert await rows(pg, _REPORTED) == []
