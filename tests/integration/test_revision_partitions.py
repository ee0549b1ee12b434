"""``triage.daily_request_revisions`` in monthly partitions (migration 0122): the consumer makes
a month's partition (and the next month's) before its rows arrive, rows a partition did not
exist for wait in the default partition until the month's is made, and an upgraded database
keeps the release's rows, readable by the consumer, in the partition of the months before."""

from __future__ import annotations

import datetime as dt
from urllib.parse import urlsplit

import asyncpg
import pytest

from ingest.consumer.decoding import Decoder
from ingest.consumer.partition_months import month_after, month_of
from ingest.consumer.pipeline import triage
from ingest.consumer.store import BatchResult, Store
from ingest.consumer.types import RawRecord
from ingest.contract.model import Outcome, Reason
from ingest.contract.validation import Limits
from ingest.db.migrate import migrate
from ingest.devstack.stack import StackAddresses
from tests.support.databases import with_database
from tests.support.doc_examples import example
from tests.support.events import TODAY, encoded, event
from tests.support.upgrade import RELEASES, release_database

SUPPLIER = "askmygp"
TOPIC = f"triage.daily.{SUPPLIER}"
PARTITION_OF_ROW = (
    "SELECT r.practice_code, r.activity_date, r.revision, c.relname AS partition"
    " FROM triage.daily_request_revisions r JOIN pg_class c ON c.oid = r.tableoid"
)


def _name(month: dt.date) -> str:
    return f"daily_request_revisions_{month:%Y_%m}"


def _record(
    offset: int,
    practice: str,
    day: dt.date,
    revision: int = 1,
    supplier: str = SUPPLIER,
    total: int = 10,
) -> RawRecord:
    payload = event(supplier, practice, day, revision, total)
    return RawRecord(f"triage.daily.{supplier}", 0, offset, None, encoded(payload, 2))


async def _store(
    conn: asyncpg.Connection, records: list[RawRecord], today: dt.date, supplier: str = SUPPLIER
) -> BatchResult:
    await conn.execute(
        "INSERT INTO triage.suppliers (supplier_id, name) VALUES ($1, $1) ON CONFLICT DO NOTHING",
        supplier,
    )
    triaged = triage(records, Decoder(), {supplier}, Limits(today=today))
    assert not triaged.rejections
    topic = records[0].topic
    return await Store(conn).write_batch("g", triaged, {(topic, 0): records[-1].offset + 1})


async def _partitions(conn: asyncpg.Connection) -> set[str]:
    rows = await conn.fetch(
        "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid"
        " WHERE i.inhparent = 'triage.daily_request_revisions'::regclass"
    )
    return {r["relname"] for r in rows}


async def test_a_batch_s_rows_land_in_the_partitions_of_their_months(
    stack: StackAddresses, db_url: str
) -> None:
    """As the service role: the consumer makes the partitions it needs."""
    service = await asyncpg.connect(with_database(stack.database_url, urlsplit(db_url).path[1:]))
    try:
        this_month = month_of(TODAY)
        last_day_before = this_month - dt.timedelta(days=1)
        days = {"A81001": last_day_before, "A81002": TODAY}
        records = [_record(i, code, day) for i, (code, day) in enumerate(days.items())]
        result = await _store(service, records, TODAY)

        rows = await service.fetch(PARTITION_OF_ROW)
        made = await _partitions(service)
    finally:
        await service.close()

    assert result.outcomes[(SUPPLIER, Outcome.ACCEPTED)] == len(records)
    assert {r["practice_code"]: r["partition"] for r in rows} == {
        code: _name(month_of(day)) for code, day in days.items()
    }
    # each month of the batch, and the month after the latest, made ahead of its rows
    assert {
        _name(month_of(last_day_before)),
        _name(this_month),
        _name(month_after(this_month)),
    } <= made


async def test_rows_of_a_month_without_a_partition_move_into_it_when_it_is_made(
    pg: asyncpg.Connection,
) -> None:
    far = month_after(month_after(month_of(TODAY).replace(year=TODAY.year + 1)))
    await pg.execute(
        "INSERT INTO triage.suppliers (supplier_id, name) VALUES ($1, 'AskMyGP')", SUPPLIER
    )
    await pg.execute(
        "INSERT INTO triage.daily_request_revisions (supplier_id, practice_code, activity_date,"
        " revision, total_requests, event_id, generated_at, source_topic, source_partition,"
        " source_offset) SELECT $1, 'A8100' || n, $2::date + n, 1, 10 * n, gen_random_uuid(),"
        " now(), $3, 0, n FROM generate_series(1, 3) AS n",
        SUPPLIER,
        far,
        TOPIC,
    )
    before = await pg.fetch(f"{PARTITION_OF_ROW} ORDER BY 1")
    stored = await pg.fetch("SELECT hour, revisions FROM triage.supplier_hourly_stored")

    made = await pg.fetchval("SELECT triage.add_revision_partitions($1, $1)", far)
    again = await pg.fetchval("SELECT triage.add_revision_partitions($1, $1)", far)

    after = await pg.fetch(f"{PARTITION_OF_ROW} ORDER BY 1")
    assert {r["partition"] for r in before} == {"daily_request_revisions_default"}
    assert (made, again) == (1, 0)
    assert [(r["practice_code"], r["activity_date"]) for r in after] == [
        (r["practice_code"], r["activity_date"]) for r in before
    ]
    assert {r["partition"] for r in after} == {_name(far)}
    # moved, not stored again: the per-hour count of stored revisions is unchanged
    assert await pg.fetch("SELECT hour, revisions FROM triage.supplier_hourly_stored") == stored
    assert sum(r["revisions"] for r in stored) == len(before)


async def test_the_operators_recipe_empties_the_default_partition(pg: asyncpg.Connection) -> None:
    """operations.md's statements: what the default partition holds, then its months made."""
    first, make = example("operations-revision-partitions").text.strip().splitlines()
    day = dt.date.fromisoformat(make.split("DATE '")[1][:10]) + dt.timedelta(days=40)
    # a month without its partition (another test of the session may have made it, empty)
    await pg.execute(f"DROP TABLE IF EXISTS triage.{_name(month_of(day))}")
    await pg.execute(
        "INSERT INTO triage.daily_request_revisions (supplier_id, practice_code, activity_date,"
        " revision, total_requests, event_id, generated_at, source_topic, source_partition,"
        " source_offset) VALUES ($1, 'A81001', $2, 1, 10, gen_random_uuid(), now(), $3, 0, 0)",
        SUPPLIER,
        day,
        TOPIC,
    )

    held = await pg.fetchrow(first)
    await pg.fetchval(make.split("--")[0])

    assert tuple(held) == (day, day, 1)
    assert await pg.fetchrow(first) == (None, None, 0)
    assert [r["partition"] for r in await pg.fetch(PARTITION_OF_ROW)] == [_name(month_of(day))]


@pytest.mark.parametrize("release", RELEASES)
async def test_an_upgraded_database_keeps_the_release_rows_in_one_partition_the_consumer_reads(
    session_database: str, release: str
) -> None:
    async with release_database(session_database, release) as url:
        conn = await asyncpg.connect(url)
        try:
            released = await conn.fetch(
                "SELECT supplier_id, practice_code, activity_date, revision, total_requests"
                " FROM triage.daily_request_revisions ORDER BY 1, 2, 3, 4"
            )
            await migrate(url)
            rows = await conn.fetch(f"{PARTITION_OF_ROW} ORDER BY 1, 2, 3")
            bound = await conn.fetchval(
                "SELECT pg_get_expr(c.relpartbound, c.oid) FROM pg_class c WHERE c.relname = $1",
                rows[0]["partition"],
            )
            # the latest release row sent again with other figures: the consumer finds the
            # stored revision in the old partition and rejects the conflict (unseen, its COPY
            # would break the unique key)
            latest = max(released, key=lambda r: (r["activity_date"], r["revision"]))
            supplier = latest["supplier_id"]
            again = _record(
                1_000_000, latest["practice_code"], latest["activity_date"], latest["revision"],
                supplier, latest["total_requests"] + 1,
            )  # fmt: skip
            result = await _store(conn, [again], latest["activity_date"], supplier)
        finally:
            await conn.close()

    first_month_after = month_after(month_of(dt.date.today()))
    assert len(rows) == len(released)
    assert {r["partition"] for r in rows} == {
        f"daily_request_revisions_before_{first_month_after:%Y_%m}"
    }
    assert bound == f"FOR VALUES FROM (MINVALUE) TO ('{first_month_after.isoformat()}')"
    assert result.reasons == {(supplier, Reason.CONFLICTING_REVISION): 1}
