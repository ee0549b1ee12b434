"""Real ODS files against the database: every row loaded and classified, only GP practices are
known practices, practices outside England unmapped, and a reader gets one line, not a
traceback. Fixture sources: tests/fixtures/reference/ods/README.md."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import asyncpg
import pytest

from ingest.reference.records import Membership, ReferenceKind, SubIcb
from ingest.reference.store import ReferenceStoreError, load_file, load_records
from tests.support.cli import run_cli
from tests.support.daily_rows import insert_days

pytestmark = pytest.mark.integration

ODS = Path(__file__).resolve().parents[1] / "fixtures" / "reference" / "ods"
REAL_2019 = ODS / "epraccur_2019_excerpt.csv"
D = dt.date
DAY = D(2024, 10, 1)


async def test_every_row_of_the_real_file_is_stored_with_its_class(pg: asyncpg.Connection) -> None:
    result = await load_file(pg, ReferenceKind.PRACTICES, ODS / "epraccur_2019_excerpt.zip")
    assert result.row_count == 15
    assert result.summary[0].startswith("15 rows: 3 gp practice")
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


async def test_the_command_prints_what_was_loaded_by_class(db_url: str) -> None:
    done = await run_cli(
        "reference", "practices", str(REAL_2019), env={"INGEST_DATABASE_URL": db_url}
    )
    assert done.code == 0, done.stderr
    assert "practices: loaded 15 rows from epraccur_2019_excerpt.csv" in done.stdout
    assert "practices: 15 rows: 3 gp practice (england)" in done.stdout


async def test_the_wrong_file_for_the_command_is_one_line_and_loads_nothing(
    db_url: str, pg: asyncpg.Connection, tmp_path: Path
) -> None:
    wrong = tmp_path / "epraccur.csv"
    wrong.write_bytes((ODS.parent / "memberships_sample.csv").read_bytes())
    done = await run_cli("reference", "practices", str(wrong), env={"INGEST_DATABASE_URL": db_url})
    assert done.code == 2
    assert done.stderr.count("\n") == 1
    assert "not an ODS epraccur file" in done.stderr
    assert "Traceback" not in done.stderr
    loads = await pg.fetchval(
        "SELECT count(*) FROM triage.reference_loads WHERE kind = 'practices'"
    )
    assert loads == 0


async def test_memberships_from_real_snapshots_load_with_a_report(
    db_url: str, pg: asyncpg.Connection
) -> None:
    done = await run_cli(
        "reference",
        "memberships",
        "--from-snapshots",
        str(REAL_2019),
        str(ODS / "gp_reg_pat_prac_map_2022_excerpt.csv"),
        env={"INGEST_DATABASE_URL": db_url},
    )
    assert done.code == 0, done.stderr
    assert "memberships: loaded 22 rows from 2 snapshots" in done.stdout
    assert "memberships: first periods: 10 begin at the ODS join date" in done.stdout
    rows = await pg.fetch(
        "SELECT commissioner_code, effective_from, effective_to FROM triage.current_memberships "
        "WHERE practice_code = 'A81001' ORDER BY effective_from"
    )
    assert [tuple(r) for r in rows] == [
        ("00K", D(2013, 4, 1), D(2021, 12, 31)),
        ("16C", D(2022, 1, 1), None),
    ]
    source = await pg.fetchval(
        "SELECT source_name FROM triage.reference_load_history WHERE is_current "
        "AND kind = 'memberships'"
    )
    assert source == "snapshots: epraccur_2019_excerpt.csv, gp_reg_pat_prac_map_2022_excerpt.csv"


async def test_the_ods_eccg_file_loads_as_sub_icbs(db_url: str) -> None:
    done = await run_cli(
        "reference",
        "sub-icbs",
        str(ODS / "eccg_constructed.csv"),
        env={"INGEST_DATABASE_URL": db_url},
    )
    assert done.code == 0, done.stderr
    assert "sub_icbs: loaded 5 rows from eccg_constructed.csv" in done.stdout


async def test_history_shows_a_file_name_as_it_is_not_as_markup(
    db_url: str, pg: asyncpg.Connection, tmp_path: Path
) -> None:
    odd = tmp_path / "[red]x[bold].csv"
    odd.write_bytes(REAL_2019.read_bytes())
    await load_file(pg, ReferenceKind.PRACTICES, odd)
    done = await run_cli("reference", "history", env={"INGEST_DATABASE_URL": db_url})
    assert done.code == 0, done.stderr
    assert "[red]x[bold].csv" in done.stdout


async def test_pcns_of_the_real_practice_map_load_and_monthly_files_accumulate(
    db_url: str, pg: asyncpg.Connection, tmp_path: Path
) -> None:
    real = ODS / "gp_reg_pat_prac_map_2022_excerpt.csv"
    env = {"INGEST_DATABASE_URL": db_url}
    done = await run_cli("reference", "pcns", "--merge", str(real), env=env)
    assert done.code == 0, done.stderr
    rows = real.read_text(encoding="utf-8").splitlines()[1:]
    assert f"pcns: loaded {len(rows)} rows" in done.stdout
    # The next month's file (same practices, a later extract date) adds to the first.
    later = tmp_path / "gp-reg-pat-prac-map.csv"
    lines = real.read_text(encoding="utf-8").splitlines()
    later.write_text("\n".join([lines[0], *(r.replace("01Jan2022", "01Feb2022") for r in rows)]))
    again = await run_cli("reference", "pcns", "--merge", str(later), env=env)
    assert again.code == 0, again.stderr
    held = await pg.fetch(
        "SELECT extract_date, count(*) AS n FROM triage.current_pcns GROUP BY 1 ORDER BY 1"
    )
    assert [(r["extract_date"], r["n"]) for r in held] == [
        (dt.date(2022, 1, 1), len(rows)),
        (dt.date(2022, 2, 1), len(rows)),
    ]
