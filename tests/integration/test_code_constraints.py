"""Codes matched whole, in the database: the tables of accepted events refuse a practice code
that is not a letter and five digits (``A12345\\n`` was stored as a second practice), and the
migration that adds the rule keeps a row an earlier release stored."""

from __future__ import annotations

import datetime as dt

import asyncpg
import pytest

from ingest.db.migrate import migrate
from tests.support.daily_rows import insert_days
from tests.support.databases import scratch_database
from tests.support.migrations import migrate_below

pytestmark = pytest.mark.security

CHECKS_VERSION = 51  # 0051_code_checks.sql
DAY = dt.date(2026, 1, 5)
CONSTRAINTS = ("daily_requests_practice_code_check", "daily_request_revisions_practice_code_check")


async def validated(pg: asyncpg.Connection) -> dict[str, bool]:
    rows = await pg.fetch(
        "SELECT conname, convalidated FROM pg_constraint WHERE conname = ANY($1::text[])",
        list(CONSTRAINTS),
    )
    return {r["conname"]: r["convalidated"] for r in rows}


@pytest.mark.parametrize("code", ["A12345\n", "a12345", "A1234", "A123456", "A12345 "])
async def test_stored_rows_refuse_a_practice_code_that_is_not_one(db_url: str, code: str) -> None:
    pg = await asyncpg.connect(db_url)
    try:
        await pg.execute("INSERT INTO triage.suppliers (supplier_id, name) VALUES ('sa', 'A')")
        await insert_days(pg, "sa", "A12345", DAY, DAY, 3)  # the code itself is fine
        with pytest.raises(asyncpg.CheckViolationError, match="practice_code_check"):
            await insert_days(pg, "sa", code, DAY, DAY, 3)
        assert await validated(pg) == dict.fromkeys(CONSTRAINTS, True)
    finally:
        await pg.close()


async def test_upgrade_keeps_a_bad_code_already_stored_and_refuses_new_ones(db_url: str) -> None:
    async with scratch_database(db_url) as url:
        pg = await asyncpg.connect(url)
        try:
            await migrate_below(pg, CHECKS_VERSION)
            await pg.execute("INSERT INTO triage.suppliers (supplier_id, name) VALUES ('sa', 'A')")
            await insert_days(pg, "sa", "A12345", DAY, DAY, 3)
            await insert_days(pg, "sa", "A12345\n", DAY, DAY, 3)  # what an earlier release let in

            await migrate(url)

            codes = await pg.fetch("SELECT practice_code FROM triage.daily_requests ORDER BY 1")
            assert [r["practice_code"] for r in codes] == ["A12345", "A12345\n"]  # nothing lost
            assert await validated(pg) == {
                "daily_requests_practice_code_check": False,  # left for ops to clean
                "daily_request_revisions_practice_code_check": True,
            }
            with pytest.raises(asyncpg.CheckViolationError):
                await insert_days(pg, "sa", "B12345\n", DAY, DAY, 3)
        finally:
            await pg.close()
