"""Upgrading a database of one of the last releases (dumps made by releases 5050dcc and cf7528c,
each filled through its own code paths: tests/fixtures/upgrade/README.md) with today's
migrations loses nothing."""

from __future__ import annotations

import asyncpg
import pytest

from ingest.contract.model import BAND_FIELDS
from ingest.db.migrate import discover, migrate
from ingest.settings import Settings
from tests.support.outcomes import read_outcomes, relay_of
from tests.support.schema_snapshot import SNAPSHOT, schema_of
from tests.support.upgrade import PREVIOUS_RELEASE, RELEASES, relations, release_database, rows_of

each_release = pytest.mark.parametrize("release", RELEASES)

# Views whose rows a migration since the release defines differently, and why.
REDEFINED_VIEWS: dict[str, str] = {}

# Tables a release's dump leaves empty, and why.
EMPTY_AT_REST: dict[str, dict[str, str]] = {
    "5050dcc": {
        "outcome_outbox": "its dump was made with the outcome relay running, which deletes each"
        " row once Kafka acknowledged its outcome",
    },
    "cf7528c": {},
}

# The release before schema v3's time bands (migration 0080).
BEFORE_TIME_BANDS = "5050dcc"


@each_release
async def test_the_release_dump_holds_rows_in_every_table_of_the_release(
    session_database: str, release: str
) -> None:
    async with release_database(session_database, release) as url:
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
    assert sorted(empty) == sorted(EMPTY_AT_REST[release])
    assert len(reasons) >= 5, reasons


async def test_the_previous_release_dump_holds_outcomes_waiting_and_parked(
    session_database: str,
) -> None:
    """A migration reshaping the outcome outbox has both kinds of row to carry over: outcomes
    the relay has still to send, and those it parked (a supplier's feedback topic missing)."""
    async with release_database(session_database, PREVIOUS_RELEASE) as url:
        conn = await asyncpg.connect(url)
        try:
            rows = await conn.fetch(
                "SELECT supplier_id, parked_at, parked_reason FROM triage.outcome_outbox"
            )
        finally:
            await conn.close()

    waiting = [r for r in rows if r["parked_at"] is None]
    parked = [r for r in rows if r["parked_at"] is not None]
    assert waiting, "no outcome waiting in the outbox"
    assert parked, "no outcome parked in the outbox"
    assert {r["parked_reason"] for r in parked} == {"stuck"}
    assert {r["supplier_id"] for r in waiting} & {r["supplier_id"] for r in parked}, (
        "no supplier with outcomes both waiting and parked"
    )


@each_release
async def test_todays_migrations_upgrade_the_release_keeping_every_row(
    session_database: str, release: str
) -> None:
    async with release_database(session_database, release) as url:
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
    if not applied:
        pytest.skip(f"no migration since release {release} yet: nothing was upgraded")
    migrations = "schema_migrations"
    assert set(before.pop(migrations)) <= set(after.pop(migrations))
    for table, rows in before.items():
        assert len(after[table]) == len(rows), (
            f"triage.{table}: {len(rows)} rows before, {len(after[table])} after"
        )
        lost = [row for row in rows if row not in after[table]]
        assert not lost, f"triage.{table}: rows changed or lost by the upgrade: {lost[:3]}"


@each_release
async def test_the_views_of_the_release_show_the_same_rows_after_the_upgrade(
    session_database: str, release: str
) -> None:
    async with release_database(session_database, release) as url:
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


@each_release
async def test_an_upgraded_database_has_the_schema_of_a_new_one(
    session_database: str, release: str
) -> None:
    async with release_database(session_database, release) as url:
        await migrate(url)
        upgraded = schema_of(url)

    assert upgraded == SNAPSHOT.read_text()


async def test_the_time_band_columns_arrive_without_rewriting_the_release_tables(
    session_database: str,
) -> None:
    """Schema v3's nine columns are added in place to a database of the release before them (a
    catalogue change: the tables keep their files, however many years of rows they hold), null
    on every row that release stored. The revisions' table then becomes partitioned: its rows
    stay in the release's file, which becomes the partition of the months before the upgrade
    (no copy)."""
    tables = ("daily_requests", "daily_request_revisions")
    # the file of the table (or partition) each row is in, as tableoid names it
    files = (
        "SELECT DISTINCT c.relfilenode FROM triage.{table} t JOIN pg_class c ON c.oid = t.tableoid"
    )
    async with release_database(session_database, BEFORE_TIME_BANDS) as url:
        conn = await asyncpg.connect(url)
        try:
            before = {t: await conn.fetch(files.format(table=t)) for t in tables}
            await migrate(url)
            after = {t: await conn.fetch(files.format(table=t)) for t in tables}
            rows = {
                t: await conn.fetchrow(
                    f"SELECT count(*) AS n, count(*) FILTER (WHERE num_nonnulls("
                    f"{', '.join(BAND_FIELDS)}) > 0) AS with_bands FROM triage.{t}"
                )
                for t in tables
            }
        finally:
            await conn.close()

    for table in tables:
        assert len(before[table]) == 1, table
        assert after[table] == before[table], table
    for table, counted in rows.items():
        assert counted["n"] > 0, table
        assert counted["with_bands"] == 0, table


async def test_outcomes_waiting_at_the_upgrade_are_sent_and_parked_ones_kept(
    session_database: str, settings: Settings
) -> None:
    """Nothing lost across the reshaping of the outbox (migration 0120): the outcomes the
    release still had to send go out after the upgrade, each with what the release had stored
    for it, and its parked ones stay parked."""
    async with release_database(session_database, PREVIOUS_RELEASE) as url:
        conn = await asyncpg.connect(url)
        try:
            stored = await conn.fetch("SELECT * FROM triage.outcome_outbox")
            await migrate(url)
            async with relay_of(settings.model_copy(update={"database_url": url})) as relay:
                while await relay.relay_once():
                    pass
            waiting = await conn.fetchval(
                "SELECT count(*) FROM triage.outcome_outbox WHERE parked_at IS NULL"
            )
            parked = await conn.fetch(
                "SELECT outbox_id FROM triage.outcome_outbox WHERE parked_at IS NOT NULL"
            )
        finally:
            await conn.close()

    assert waiting == 0
    assert sorted(r["outbox_id"] for r in parked) == sorted(
        r["outbox_id"] for r in stored if r["parked_at"] is not None
    )
    to_send = [r for r in stored if r["parked_at"] is None]
    for supplier in sorted({r["supplier_id"] for r in to_send}):
        mine = [r for r in to_send if r["supplier_id"] == supplier]
        read = await read_outcomes(settings, supplier, at_least=len(mine))
        delivered = {
            (o.source_partition, o.source_offset, o.outcome.value, o.practice_code, key)
            for key, o in read
        }
        expected = {
            (r["source_partition"], r["source_offset"], r["outcome"], r["practice_code"], r["key"])
            for r in mine
        }
        assert expected <= delivered, (supplier, expected - delivered)
