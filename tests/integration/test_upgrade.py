"""Upgrading a database of the previous release (a dump made by release 5050dcc, filled through
its own code paths: tests/fixtures/upgrade/README.md) with today's migrations loses nothing."""

from __future__ import annotations

import asyncpg

from ingest.contract.model import BAND_FIELDS
from ingest.db.migrate import discover, migrate
from tests.support.schema_snapshot import SNAPSHOT, schema_of
from tests.support.upgrade import previous_release_database, relations, rows_of

# Views whose rows a migration since the release defines differently, and why.
REDEFINED_VIEWS: dict[str, str] = {}

# Tables of the release that are empty whenever its service is at rest, and why.
EMPTY_AT_REST: dict[str, str] = {
    "outcome_outbox": "the outcome relay deletes each row once Kafka acknowledged its outcome",
}


async def test_the_release_dump_holds_rows_in_every_table_of_the_release(
    session_database: str,
) -> None:
    async with previous_release_database(session_database) as url:
        conn = await asyncpg.connect(url)
        try:
            tables = await relations(conn, "r")
            empty = [t for t, cols in tables.items() if not await rows_of(conn, t, cols[:1])]
            reasons = {
                r["reason"] for r in await conn.fetch("SELECT reason FROM triage.rejected_events")
            }
        finally:
            await conn.close()

    assert len(tables) >= 13, sorted(tables)
    assert sorted(empty) == sorted(EMPTY_AT_REST)
    assert len(reasons) >= 5, reasons


async def test_todays_migrations_upgrade_the_release_keeping_every_row(
    session_database: str,
) -> None:
    async with previous_release_database(session_database) as url:
        conn = await asyncpg.connect(url)
        try:
            tables = await relations(conn, "r")
            before = {t: await rows_of(conn, t, cols) for t, cols in tables.items()}
            released = {
                r["version"]
                for r in await conn.fetch("SELECT version FROM triage.schema_migrations")
            }

            applied = await migrate(url)

            after = {t: await rows_of(conn, t, cols) for t, cols in tables.items()}
        finally:
            await conn.close()

    assert applied == sorted(m.version for m in discover() if m.version not in released)
    assert applied, "no migration since the release: nothing was upgraded"
    migrations = "schema_migrations"
    assert set(before.pop(migrations)) <= set(after.pop(migrations))
    for table, rows in before.items():
        assert len(after[table]) == len(rows), (
            f"triage.{table}: {len(rows)} rows before, {len(after[table])} after"
        )
        lost = [row for row in rows if row not in after[table]]
        assert not lost, f"triage.{table}: rows changed or lost by the upgrade: {lost[:3]}"


async def test_the_views_of_the_release_show_the_same_rows_after_the_upgrade(
    session_database: str,
) -> None:
    async with previous_release_database(session_database) as url:
        conn = await asyncpg.connect(url)
        try:
            views = await relations(conn, "v")
            before = {v: await rows_of(conn, v, cols) for v, cols in views.items()}
            await migrate(url)
            after = {v: await rows_of(conn, v, cols) for v, cols in views.items()}
        finally:
            await conn.close()

    changed = {v for v in views if before[v] != after[v]} - set(REDEFINED_VIEWS)
    assert not changed, {v: (before[v][:2], after[v][:2]) for v in changed}
    assert before["dlq_replay_outcomes"], "the release's replays have outcomes to compare"


async def test_an_upgraded_database_has_the_schema_of_a_new_one(session_database: str) -> None:
    async with previous_release_database(session_database) as url:
        await migrate(url)
        upgraded = schema_of(url)

    assert upgraded == SNAPSHOT.read_text()


async def test_the_time_band_columns_arrive_without_rewriting_the_release_tables(
    session_database: str,
) -> None:
    """Schema v3's nine columns are added in place (a catalogue change: the tables keep their
    files, however many years of rows they hold), null on every row the release stored."""
    tables = ("daily_requests", "daily_request_revisions")
    files = "SELECT relname, relfilenode FROM pg_class WHERE oid = ANY($1::regclass[])"
    names = [f"triage.{t}" for t in tables]
    async with previous_release_database(session_database) as url:
        conn = await asyncpg.connect(url)
        try:
            before = {r["relname"]: r["relfilenode"] for r in await conn.fetch(files, names)}
            await migrate(url)
            after = {r["relname"]: r["relfilenode"] for r in await conn.fetch(files, names)}
            rows = {
                t: await conn.fetchrow(
                    f"SELECT count(*) AS n, count(*) FILTER (WHERE num_nonnulls("
                    f"{', '.join(BAND_FIELDS)}) > 0) AS with_bands FROM triage.{t}"
                )
                for t in tables
            }
        finally:
            await conn.close()

    assert before == after and set(before) == set(tables)
    for table, counted in rows.items():
        assert counted["n"] > 0, table
        assert counted["with_bands"] == 0, table
