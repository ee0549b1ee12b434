"""Migration 0063: triage.supplier_day_practices and triage.supplier_hourly_stored always equal
counts of the rows themselves (through COPY, upsert, delete, truncate and an upgrade with
data), and triage.stored_since answers as 0032's count of every revision did."""

from __future__ import annotations

import datetime as dt
import uuid

import asyncpg

from ingest.db.migrate import migrate
from tests.support.databases import scratch_database
from tests.support.migrations import migrate_below

SUMMARIES_VERSION = 63
NOW = dt.datetime(2026, 6, 10, 12, 30, tzinfo=dt.UTC)

_DAY_COUNTS = """SELECT supplier_id, activity_date, count(*)::integer FROM triage.daily_requests
                 GROUP BY 1, 2 ORDER BY 1, 2"""
_DAY_SUMMARY = "SELECT * FROM triage.supplier_day_practices ORDER BY 1, 2"
_HOUR_COUNTS = """SELECT supplier_id, date_trunc('hour', ingested_at, 'UTC'), count(*)::integer
                  FROM triage.daily_request_revisions GROUP BY 1, 2 ORDER BY 1, 2"""
_HOUR_SUMMARY = "SELECT * FROM triage.supplier_hourly_stored ORDER BY 1, 2"
# 0032's definition: every revision stored after p_since.
_STORED_BEFORE = """SELECT supplier_id, count(*)::integer FROM triage.daily_request_revisions
                    WHERE ingested_at > $1 AND supplier_id = ANY($2::text[])
                    GROUP BY 1 ORDER BY 1"""
_COLUMNS = ("supplier_id", "practice_code", "activity_date", "revision", "total_requests",
            "event_id", "generated_at", "ingested_at")  # fmt: skip


async def rows(pg: asyncpg.Connection, query: str, *args: object) -> list[tuple[object, ...]]:
    return [tuple(r) for r in await pg.fetch(query, *args)]


def revision(supplier: str, practice: str, back: int, minutes_ago: int) -> tuple[object, ...]:
    day = NOW.date() - dt.timedelta(days=back)
    return (supplier, practice, day, 1, 10, uuid.uuid4(), NOW,
            NOW - dt.timedelta(minutes=minutes_ago))  # fmt: skip


async def store(pg: asyncpg.Connection, revisions: list[tuple[object, ...]]) -> None:
    """As the consumer: COPY the revisions and the current rows (no source columns needed)."""
    await pg.copy_records_to_table(
        "daily_request_revisions",
        schema_name="triage",
        columns=(*_COLUMNS, "source_topic", "source_partition", "source_offset"),
        records=[(*r, "t", 0, i) for i, r in enumerate(revisions)],
    )
    await pg.copy_records_to_table(
        "daily_requests", schema_name="triage", columns=_COLUMNS, records=revisions
    )


async def add_rows(pg: asyncpg.Connection) -> None:
    await pg.execute(
        "INSERT INTO triage.suppliers (supplier_id, name) VALUES ('sa', 'A'), ('sb', 'B')"
    )
    await store(pg, [revision("sa", f"A8100{p}", back, minutes_ago=back * 600 + p)
                     for p in range(4) for back in range(5)])  # fmt: skip
    await store(pg, [revision("sb", "A81001", 0, 5), revision("sb", "A81002", 0, 95)])


async def check(pg: asyncpg.Connection) -> None:
    assert await rows(pg, _DAY_SUMMARY) == await rows(pg, _DAY_COUNTS)
    assert await rows(pg, _HOUR_SUMMARY) == await rows(pg, _HOUR_COUNTS)
    for minutes in (0, 1, 29, 31, 90, 600, 3000):  # inside, at and across hour boundaries
        since = NOW - dt.timedelta(minutes=minutes)
        got = await rows(pg, "SELECT * FROM triage.stored_since($1, $2) ORDER BY 1",
                         since, ["sa", "sb", "nobody"])  # fmt: skip
        assert got == await rows(pg, _STORED_BEFORE, since, ["sa", "sb", "nobody"]), minutes


async def test_summaries_follow_copy_upsert_delete_and_truncate(pg: asyncpg.Connection) -> None:
    await add_rows(pg)
    await check(pg)
    await pg.execute(
        """INSERT INTO triage.daily_requests AS d (supplier_id, practice_code, activity_date,
               revision, total_requests, event_id, generated_at)
           VALUES ('sa', 'A81001', $1, 2, 25, gen_random_uuid(), now()),
                  ('sa', 'A81009', $1, 1, 3, gen_random_uuid(), now())
           ON CONFLICT (supplier_id, practice_code, activity_date) DO UPDATE SET
               revision = EXCLUDED.revision, total_requests = EXCLUDED.total_requests
           WHERE d.revision < EXCLUDED.revision""",
        NOW.date(),
    )
    await check(pg)
    await pg.execute("DELETE FROM triage.daily_requests WHERE practice_code = 'A81002'")
    await pg.execute("DELETE FROM triage.daily_request_revisions WHERE practice_code = 'A81002'")
    await check(pg)
    await pg.execute("DELETE FROM triage.daily_requests WHERE supplier_id = 'sb'")
    await check(pg)  # a day whose last practice went: its row went too
    await pg.execute("TRUNCATE triage.daily_requests, triage.daily_request_revisions")
    assert await rows(pg, _DAY_SUMMARY) == [] and await rows(pg, _HOUR_SUMMARY) == []


async def test_upgrade_counts_the_rows_already_stored(db_url: str) -> None:
    async with scratch_database(db_url) as url:
        pg = await asyncpg.connect(url)
        try:
            # a database of the migrations before the summaries
            await migrate_below(pg, SUMMARIES_VERSION)
            await add_rows(pg)
            stored = await pg.fetchval("SELECT count(*) FROM triage.daily_request_revisions")

            await migrate(url)

            await check(pg)
            assert await pg.fetchval("SELECT count(*) FROM triage.daily_request_revisions") == (
                stored
            )
        finally:
            await pg.close()
