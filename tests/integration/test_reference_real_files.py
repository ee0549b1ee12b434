"""Real ODS files against the database: every row loaded and classified, only GP practices are
known practices, practices outside England unmapped, and a reader gets one line, not a
traceback (issue 12). Fixture sources: tests/fixtures/reference/ods/README.md."""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import subprocess
import sys
from pathlib import Path

import asyncpg
import pytest

from ingest.reference.records import Membership, ReferenceKind, SubIcb
from ingest.reference.store import ReferenceStoreError, load_file, load_records
from tests.support.daily_rows import insert_days

pytestmark = pytest.mark.integration

ODS = Path(__file__).resolve().parents[1] / "fixtures" / "reference" / "ods"
REAL_2019 = ODS / "epraccur_2019_excerpt.csv"
D = dt.date
DAY = D(2024, 10, 1)
INGEST = (sys.executable, "-c", "from ingest.cli import main; main()")


async def test_every_row_of_the_real_file_is_stored_with_its_class(pg: asyncpg.Connection) -> None:
    result = await load_file(pg, ReferenceKind.PRACTICES, ODS / "epraccur_2019_excerpt.zip")
    assert result.row_count == 15
    assert result.summary is not None and result.summary.startswith("15 rows: 3 gp practice")
    rows = await pg.fetch(
        "SELECT country, setting, count(*)::int AS n FROM triage.current_practice_classes "
        "GROUP BY 1, 2"
    )
    counts = {(r["country"], r["setting"]): r["n"] for r in rows}
    assert counts[("england", "gp_practice")] == 3
    assert counts[("jersey", "other")] == 2
    assert counts[("wales", "justice")] == 1
    assert sum(counts.values()) == 15


async def test_only_gp_practices_are_known_practices(pg: asyncpg.Connection) -> None:
    await load_file(pg, ReferenceKind.PRACTICES, REAL_2019)
    await insert_days(pg, "alpha", "A81001", DAY, DAY, 5)  # GP practice
    await insert_days(pg, "alpha", "B83666", DAY, DAY, 5)  # hospital service
    await insert_days(pg, "alpha", "Y04889", DAY, DAY, 5)  # young offender institution
    await insert_days(pg, "alpha", "Z00001", DAY, DAY, 5)  # not in the file
    unknown = await pg.fetch(
        "SELECT practice_code FROM triage.unknown_practices ORDER BY practice_code"
    )
    assert [r["practice_code"] for r in unknown] == ["B83666", "Y04889", "Z00001"]


async def test_practices_outside_the_english_hierarchy_are_unmapped(
    pg: asyncpg.Connection,
) -> None:
    await load_file(pg, ReferenceKind.PRACTICES, REAL_2019)
    await load_records(
        pg,
        ReferenceKind.MEMBERSHIPS,
        [
            Membership("A81001", "00K", D(2013, 4, 1), None),
            Membership("W91002", "7A1", D(2009, 10, 1), None),  # Welsh health board
            Membership("JER002", "00K", D(2013, 4, 1), None),  # wrongly mapped: still Jersey
        ],
        "test memberships",
    )
    await load_records(
        pg,
        ReferenceKind.SUB_ICBS,
        [SubIcb("00K", "Tees", "QHM", "North East", D(2013, 4, 1), None)],
        "test sub-icbs",
    )
    rows = await pg.fetch(
        "SELECT practice_code, sub_icb_code, icb_code, mapping_basis "
        "FROM triage.practice_mapping($1) ORDER BY practice_code",
        DAY,
    )
    assert [tuple(r) for r in rows] == [
        ("A81001", "00K", "QHM", "vintage"),
        ("JER002", None, None, "unmapped"),
        ("W91002", None, None, "unmapped"),
    ]


async def test_loading_as_the_reader_role_is_refused_with_the_role_it_needs(
    pg: asyncpg.Connection,
) -> None:
    await pg.execute("SET ROLE triage_reader")
    try:
        with pytest.raises(ReferenceStoreError, match="needs the database owner's role"):
            await load_file(pg, ReferenceKind.PRACTICES, REAL_2019)
    finally:
        await pg.execute("RESET ROLE")


def test_the_command_prints_what_was_loaded_by_class(db_url: str) -> None:
    env = {**os.environ, "INGEST_DATABASE_URL": db_url}
    done = subprocess.run(
        [*INGEST, "reference", "practices", str(REAL_2019)],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "practices: loaded 15 rows from epraccur_2019_excerpt.csv" in done.stdout
    assert "practices: 15 rows: 3 gp practice (england)" in done.stdout


def test_the_wrong_file_for_the_command_is_one_line_and_loads_nothing(
    db_url: str, tmp_path: Path
) -> None:
    wrong = tmp_path / "epraccur.csv"
    wrong.write_bytes((ODS.parent / "memberships_sample.csv").read_bytes())
    env = {**os.environ, "INGEST_DATABASE_URL": db_url}
    done = subprocess.run(
        [*INGEST, "reference", "practices", str(wrong)],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1
    assert "not an ODS epraccur file" in done.stderr
    assert "Traceback" not in done.stderr

    async def practice_loads() -> int:
        conn = await asyncpg.connect(db_url)
        try:
            n: int = await conn.fetchval(
                "SELECT count(*) FROM triage.reference_loads WHERE kind = 'practices'"
            )
            return n
        finally:
            await conn.close()

    assert asyncio.run(practice_loads()) == 0
