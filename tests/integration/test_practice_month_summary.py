"""Monthly exports read the practice-month summary of migration 0064 (fast on years of data), and
every figure stays the one the rows give: the period functions of today are compared, row for row
and byte for byte in the CSV, with their definitions before the summary (migrations 0031 and 0033,
read from the migration files), on data with restatements, partial coverage, two suppliers of one
practice, list sizes that change mid-month or start mid-month, a practice without a list size,
membership changes, deleted rows and a vintage."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import AsyncIterator

import asyncpg
import pytest
import pytest_asyncio

from ingest.analytics.export import ExportRequest, Level, Period, export_csv, export_query
from ingest.reference.records import ListSize, Membership, ReferenceKind, SubIcb
from ingest.reference.store import load_records
from tests.support.daily_rows import insert_days
from tests.support.period_definitions import (
    BEFORE_SUMMARY,
    before_summary_query,
    create_before_summary,
)

pytestmark = pytest.mark.integration

D = dt.date
P1, P2, P3, P4, P5 = "P10001", "P10002", "P10003", "P10004", "P10005"


@pytest_asyncio.fixture(loop_scope="session")
async def before(pg: asyncpg.Connection) -> AsyncIterator[str]:
    """The definitions of practice_period (0031) and area_period (0033), in their schema."""
    await create_before_summary(pg)
    try:
        yield BEFORE_SUMMARY
    finally:
        await pg.execute(f"DROP SCHEMA {BEFORE_SUMMARY} CASCADE")


async def restate(
    pg: asyncpg.Connection,
    supplier: str,
    practice: str,
    day: dt.date,
    total: int,
    clinical: int | None,
) -> None:
    """A restatement as the store writes it: INSERT ... ON CONFLICT DO UPDATE."""
    await pg.execute(
        """INSERT INTO triage.daily_requests (supplier_id, practice_code, activity_date,
               revision, total_requests, clinical_requests, admin_requests, other_requests,
               event_id, generated_at)
           VALUES ($1, $2, $3, 2, $4, $5, 1, 1, $6, now())
           ON CONFLICT (supplier_id, practice_code, activity_date) DO UPDATE SET
               revision = excluded.revision, total_requests = excluded.total_requests,
               clinical_requests = excluded.clinical_requests""",
        supplier,
        practice,
        day,
        total,
        clinical,
        uuid.uuid4(),
    )


async def load_history(pg: asyncpg.Connection, token: str) -> None:
    a, b = f"{token}-a", f"{token}-b"
    await load_records(
        pg,
        ReferenceKind.MEMBERSHIPS,
        [
            Membership(P1, "91X", D(2022, 7, 1), None),
            Membership(P2, "91X", D(2022, 7, 1), None),
            Membership(P3, "91X", D(2022, 7, 1), D(2024, 3, 31)),
            Membership(P3, "92Z", D(2024, 4, 1), None),
            Membership(P4, "91Y", D(2022, 7, 1), None),
            Membership(P5, "92Z", D(2022, 7, 1), None),
        ],
        "test memberships",
    )
    await load_records(
        pg,
        ReferenceKind.SUB_ICBS,
        [
            SubIcb("91X", "X", "QXA", "A", D(2022, 7, 1), None),
            SubIcb("91Y", "Y", "QXA", "A", D(2022, 7, 1), None),
            SubIcb("92Z", "Z", "QXB", "B", D(2022, 7, 1), None),
        ],
        "test sub-icbs",
    )
    await load_records(
        pg,
        ReferenceKind.LIST_SIZES,
        [
            ListSize(P1, D(2023, 10, 1), 1000),
            ListSize(P1, D(2024, 2, 14), 1100),  # changes mid-month
            ListSize(P1, D(2024, 5, 9), 1200),
            ListSize(P2, D(2024, 1, 1), 500),
            ListSize(P3, D(2023, 12, 1), 800),
            ListSize(P3, D(2024, 4, 1), 900),
            ListSize(P5, D(2024, 3, 17), 700),  # the first extract mid-month
        ],  # P4 has none
        "test list sizes",
    )
    await insert_days(pg, a, P1, D(2024, 1, 10), D(2024, 6, 20), 40)
    await insert_days(pg, b, P1, D(2024, 3, 1), D(2024, 3, 15), 7, breakdown=False)
    for first, last in (
        (D(2024, 2, 1), D(2024, 2, 5)),
        (D(2024, 2, 20), D(2024, 2, 29)),
        (D(2024, 4, 7), D(2024, 4, 9)),
    ):
        await insert_days(pg, a, P2, first, last, 12)
    await insert_days(pg, b, P3, D(2024, 1, 10), D(2024, 6, 20), 25)
    await insert_days(pg, a, P4, D(2024, 2, 10), D(2024, 5, 3), 9)
    await insert_days(pg, b, P5, D(2024, 3, 1), D(2024, 6, 20), 14)
    for day, total, clinical in (
        (D(2024, 1, 31), 55, 50),
        (D(2024, 3, 3), 61, None),
        (D(2024, 5, 31), 2, 0),
    ):
        await restate(pg, a, P1, day, total, clinical)
    await restate(pg, b, P3, D(2024, 4, 1), 99, 90)
    await restate(pg, b, P5, D(2024, 7, 2), 5, 3)  # a new day through the same statement
    await pg.execute(
        "DELETE FROM triage.daily_requests WHERE practice_code = $1 AND activity_date = $2",
        P2,
        D(2024, 2, 3),
    )
    await pg.execute(  # an UPDATE that changes a key: the day moves to another month
        "UPDATE triage.daily_requests SET activity_date = $3 "
        "WHERE practice_code = $1 AND activity_date = $2",
        P2,
        D(2024, 4, 9),
        D(2024, 6, 25),
    )


RANGES = [
    (D(2024, 1, 1), D(2024, 7, 31)),  # whole months
    (D(2024, 1, 10), D(2024, 6, 20)),  # cut at both ends
    (D(2024, 3, 5), D(2024, 3, 30)),  # inside one month
    (D(2024, 3, 1), D(2024, 3, 31)),  # exactly one month
    (D(2024, 2, 29), D(2024, 5, 1)),
]
VINTAGES = [D(2024, 2, 1), D(2024, 5, 1)]
UNITS = ["sub_icb", "icb", "national"]


async def test_the_summary_is_the_summary_of_the_rows_after_every_kind_of_write(
    pg: asyncpg.Connection, token: str
) -> None:
    await load_history(pg, token)

    kept = await pg.fetch("SELECT * FROM triage.practice_month_summary ORDER BY 1, 2, 3")
    of_rows = await pg.fetch(
        """SELECT * FROM triage.practice_month_summary_of((
               SELECT jsonb_agg(DISTINCT jsonb_build_object(
                   'month', date_trunc('month', activity_date)::date,
                   'practice_code', practice_code, 'supplier_id', supplier_id))
               FROM triage.daily_requests)) ORDER BY 1, 2, 3"""
    )

    # (month, practice, supplier): P1 6 + 1, P2 3 (Feb, Apr, and Jun where a day moved),
    # P3 6, P4 4, P5 5 (July from the restatement that inserted a day)
    assert len(kept) == 25
    assert [dict(r) for r in kept] == [dict(r) for r in of_rows]


@pytest.mark.parametrize("period", ["month", "week", "day"])
async def test_practice_period_gives_the_figures_of_its_definition_before_the_summary(
    pg: asyncpg.Connection, token: str, before: str, period: str
) -> None:
    await load_history(pg, token)

    for start, end in RANGES:
        for vintage in VINTAGES:
            args = (start, end, period, vintage)
            order = "ORDER BY period_start, practice_code"
            now = await pg.fetch(
                f"SELECT * FROM triage.practice_period($1, $2, $3, $4) {order}", *args
            )
            then = await pg.fetch(
                f"SELECT * FROM {before}.practice_period($1, $2, $3, $4) {order}", *args
            )
            assert now, args
            assert [tuple(r) for r in now] == [tuple(r) for r in then], args


@pytest.mark.parametrize("period", ["month", "week"])
async def test_area_period_gives_the_figures_of_its_definition_before_the_summary(
    pg: asyncpg.Connection, token: str, before: str, period: str
) -> None:
    await load_history(pg, token)

    for start, end in RANGES:
        for vintage in VINTAGES:
            for unit in UNITS:
                args = (start, end, period, unit, vintage)
                order = "ORDER BY period_start, sub_icb_code, icb_code"
                now = await pg.fetch(
                    f"SELECT * FROM triage.area_period($1, $2, $3, $4, $5) {order}", *args
                )
                then = await pg.fetch(
                    f"SELECT * FROM {before}.area_period($1, $2, $3, $4, $5) {order}", *args
                )
                assert now, args
                assert [tuple(r) for r in now] == [tuple(r) for r in then], args


@pytest.mark.parametrize("level", [Level.ICB, Level.PRACTICE])
async def test_the_monthly_export_is_byte_identical_to_the_export_before_the_summary(
    pg: asyncpg.Connection, token: str, before: str, level: Level
) -> None:
    await load_history(pg, token)
    request = ExportRequest(level, D(2024, 1, 10), D(2024, 7, 31), D(2024, 5, 1), Period.MONTH)
    now: list[bytes] = []
    then: list[bytes] = []

    async def keep_now(chunk: bytes) -> None:
        now.append(chunk)

    async def keep_then(chunk: bytes) -> None:
        then.append(chunk)

    await export_csv(pg, request, keep_now)
    query, args = export_query(request)
    async with pg.transaction(isolation="repeatable_read", readonly=True):
        await pg.execute("SET LOCAL DateStyle = 'ISO, YMD'")
        await pg.copy_from_query(
            before_summary_query(query),
            *args,
            output=keep_then,
            format="csv",
            header=True,
        )

    assert b"".join(now).count(b"\n") > 10
    assert b"".join(now) == b"".join(then)


async def test_readers_cannot_run_the_summary_maintenance(pg: asyncpg.Connection) -> None:
    # (triage_writer may, as it may every function of the schema: it writes the rows anyway)
    allowed = await pg.fetchval(
        "SELECT has_function_privilege('triage_reader',"
        " 'triage.practice_month_summary_resummarise(jsonb)', 'EXECUTE')"
        " OR has_function_privilege('triage_reader',"
        " 'triage.practice_month_summary_of(jsonb)', 'EXECUTE')"
    )

    assert allowed is False
