"""The analysts' guide's examples: the SQL query as triage_reader on reference data and
figures loaded from the guide's own file examples, and its commands as printed (psql, a
local analyst role, an export of the demo's days)."""

from __future__ import annotations

import csv
import datetime as dt
import io
import shutil
from pathlib import Path
from urllib.parse import quote, urlsplit, urlunsplit

import asyncpg
import pytest

from ingest.reference.memberships import parse_memberships
from ingest.reference.records import ReferenceKind
from ingest.reference.store import load_records
from ingest.reference.sub_icbs import parse_sub_icbs
from tests.support.daily_rows import insert_days
from tests.support.doc_examples import commands, example, run_shell
from tests.support.stack_state import local_state_dir


async def test_the_sub_icb_series_example_counts_each_practice_day_once_under_the_vintage(
    pg: asyncpg.Connection,
) -> None:
    memberships = parse_memberships(example("reference-memberships").text)
    await load_records(pg, ReferenceKind.MEMBERSHIPS, memberships, "guide memberships")
    sub_icbs = parse_sub_icbs(example("reference-sub-icbs").text)
    await load_records(pg, ReferenceKind.SUB_ICBS, sub_icbs, "guide sub-icbs")
    # B99002 moved from 91A to 91B on 2024-10-01; its figures of March 2024 and March 2025
    await insert_days(pg, "alpha", "B99002", dt.date(2024, 3, 1), dt.date(2024, 3, 2), 7)
    await insert_days(pg, "alpha", "B99002", dt.date(2025, 3, 1), dt.date(2025, 3, 2), 9)

    await pg.execute("SET ROLE triage_reader")
    try:
        rows = await pg.fetch(example("analytics-sub-icb-series").text)
    finally:
        await pg.execute("RESET ROLE")

    # Under the example's vintage (2025-04-01) B99002 belongs to 91B, which the guide's sub-ICB
    # file does not list: its whole series is unmapped (NULL codes), each day counted once.
    got = [
        (r["activity_date"], r["sub_icb_code"], r["practices"], r["total_requests"]) for r in rows
    ]
    assert got == [
        (dt.date(2024, 3, 1), None, 1, 7),
        (dt.date(2024, 3, 2), None, 1, 7),
        (dt.date(2025, 3, 1), None, 1, 9),
        (dt.date(2025, 3, 2), None, 1, 9),
    ]


async def test_the_practices_without_data_example_runs_as_printed(
    db_url: str, tmp_path: Path
) -> None:
    (command,) = commands(example("analytics-practices-without-data").text)

    result = await run_shell(command, {"INGEST_DATABASE_URL": db_url}, tmp_path)

    assert result.code == 0, result.output
    assert "practice_code" in result.stdout  # psql's header row of the function's columns


def superuser_password() -> str:
    return (local_state_dir() / "secrets" / "postgres-superuser.password").read_text().strip()


async def as_superuser(db_url: str) -> asyncpg.Connection:
    """The stack's superuser ``postgres`` on the test's database."""
    server = urlsplit(db_url)
    login = f"postgres:{quote(superuser_password(), safe='')}@{server.hostname}:{server.port}"
    return await asyncpg.connect(urlunsplit(server._replace(netloc=login)))


async def test_the_dba_recipe_needs_createrole_and_admin_option_on_triage_reader(
    db_url: str, token: str
) -> None:
    """The guide's statements, run as a DBA role that is no superuser: CREATEROLE alone is
    refused (PostgreSQL 16+), with ADMIN OPTION on triage_reader they make a reader."""
    dba = f"dba_{token}"
    recipe = example("analytics-role-production").text
    superuser = await as_superuser(db_url)
    await superuser.execute("DROP ROLE IF EXISTS jo_bloggs")
    await superuser.execute(f"CREATE ROLE {dba} NOLOGIN CREATEROLE")
    try:
        await superuser.execute(f"SET ROLE {dba}")
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await superuser.execute(recipe)
        await superuser.execute("RESET ROLE")
        await superuser.execute(f"GRANT triage_reader TO {dba} WITH ADMIN OPTION")
        await superuser.execute(f"SET ROLE {dba}")
        await superuser.execute(recipe)
        await superuser.execute("RESET ROLE")
        reader = await superuser.fetchval(
            "SELECT pg_has_role('jo_bloggs', 'triage_reader', 'MEMBER')"
        )
    finally:
        await superuser.execute("RESET ROLE")
        await superuser.execute("DROP ROLE IF EXISTS jo_bloggs")
        await superuser.execute(f"DROP ROLE IF EXISTS {dba}")
        await superuser.close()

    assert reader is True


async def test_the_local_analyst_recipe_creates_a_reader_that_exports_the_demo_s_days(
    db_url: str, pg: asyncpg.Connection, tmp_path: Path
) -> None:
    """Run from a folder whose .ingest/ is this test's stack: its superuser's password file,
    and a stack.env pointing at the test's database (as the stack's own roles, which may
    not create roles)."""
    secrets = local_state_dir() / "secrets" / "postgres-superuser.password"
    (tmp_path / ".ingest" / "secrets").mkdir(parents=True)
    shutil.copy(secrets, tmp_path / ".ingest" / "secrets" / secrets.name)
    (tmp_path / ".ingest" / "stack.env").write_text(f"INGEST_DATABASE_URL={db_url}\n")
    # the demo's days: a week of feeds ending yesterday
    yesterday = dt.date.today() - dt.timedelta(days=1)
    first = yesterday - dt.timedelta(days=6)
    await insert_days(pg, "alpha", "A81001", first, yesterday, 5)
    await insert_days(pg, "bravo", "A81002", first, yesterday, 7)
    superuser = await as_superuser(db_url)
    await superuser.execute("DROP ROLE IF EXISTS analyst")
    try:
        result = await run_shell(example("analytics-local-analyst").text, {}, tmp_path)
        role = await superuser.fetchrow(
            "SELECT rolcanlogin, pg_has_role('analyst', 'triage_reader', 'MEMBER') AS reader"
            " FROM pg_roles WHERE rolname = 'analyst'"
        )
    finally:
        await superuser.execute("DROP ROLE IF EXISTS analyst")
        await superuser.close()

    assert result.code == 0, result.output
    assert role is not None and role["rolcanlogin"] and role["reader"]
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    got = sorted((r["practice_code"], r["activity_date"], r["total_requests"]) for r in rows)
    expected = sorted(
        (practice, (first + dt.timedelta(days=n)).isoformat(), str(total))
        for practice, total in (("A81001", 5), ("A81002", 7))
        for n in range((yesterday - first).days + 1)
    )
    assert got == expected
    assert "choose-a-strong-one" not in result.stderr
