"""``ingest export --by-band``: submissions by UK local time of day (schema v3's time bands)
beside every export's columns, at each level and period; practice-days sent without bands
count as requests_time_not_reported, so the ten band columns always sum to total_requests."""

from __future__ import annotations

import csv
import datetime as dt
import io
from pathlib import Path

import asyncpg
import pytest

from ingest.analytics.export import (
    BAND_EXPORT_COLUMNS,
    ExportRequest,
    Level,
    Period,
    export_columns,
    export_csv,
)
from ingest.contract.model import BAND_FIELDS
from ingest.settings import Settings
from tests.support.cli import cli_env, run_cli
from tests.support.daily_rows import insert_days
from tests.support.doc_examples import commands, example, run_shell
from tests.support.reference_area import load_two_sub_icbs

pytestmark = pytest.mark.integration

D = dt.date
SEPTEMBER = (D(2024, 9, 1), D(2024, 9, 30))
TIMED, UNTIMED, ELSEWHERE = "P00001", "P00002", "P00003"
BANDS_A = (1, 0, 4, 3, 2, 2, 1, 1, 1)  # 15 a day
BANDS_B = (0, 0, 2, 2, 1, 1, 0, 0, 0)  # 6 a day


async def load_area(pg: asyncpg.Connection) -> None:
    """TIMED and UNTIMED in sub-ICB 91X, ELSEWHERE in 91Y; both in ICB QXA."""
    await load_two_sub_icbs(pg, (TIMED, UNTIMED), (ELSEWHERE,))


async def mixed_traffic(pg: asyncpg.Connection) -> None:
    """TIMED: a v3 supplier with bands and a v1 supplier without; UNTIMED: no bands at all;
    ELSEWHERE: bands for half the month only."""
    await insert_days(pg, "alpha", TIMED, *SEPTEMBER, sum(BANDS_A), bands=BANDS_A)
    await insert_days(pg, "beta", TIMED, *SEPTEMBER, 5)
    await insert_days(pg, "beta", UNTIMED, *SEPTEMBER, 7)
    await insert_days(pg, "alpha", ELSEWHERE, D(2024, 9, 1), D(2024, 9, 15), 6, bands=BANDS_B)
    await insert_days(pg, "alpha", ELSEWHERE, D(2024, 9, 16), D(2024, 9, 30), 6)


async def export_rows(
    pg: asyncpg.Connection, level: Level, period: Period, start: dt.date, end: dt.date
) -> list[dict[str, str]]:
    parts: list[bytes] = []

    async def write(chunk: bytes) -> None:
        parts.append(chunk)

    await export_csv(pg, ExportRequest(level, start, end, end, period, by_band=True), write)
    reader = csv.DictReader(io.StringIO(b"".join(parts).decode()))
    assert tuple(reader.fieldnames or ()) == export_columns(level, period, by_band=True)
    return list(reader)


def bands_of(row: dict[str, str]) -> list[int]:
    return [int(row[c]) for c in BAND_EXPORT_COLUMNS]


async def test_a_practice_month_sums_each_band_and_what_came_without_times(
    pg: asyncpg.Connection,
) -> None:
    await load_area(pg)
    await mixed_traffic(pg)
    rows = await export_rows(pg, Level.PRACTICE, Period.MONTH, *SEPTEMBER)
    by_practice = {r["practice_code"]: r for r in rows}
    days = 30
    assert bands_of(by_practice[TIMED]) == [days * b for b in BANDS_A] + [days * 5]
    assert bands_of(by_practice[UNTIMED]) == [0] * len(BAND_FIELDS) + [days * 7]
    assert bands_of(by_practice[ELSEWHERE]) == [15 * b for b in BANDS_B] + [15 * 6]


@pytest.mark.parametrize("level", list(Level))
@pytest.mark.parametrize("period", list(Period))
async def test_the_ten_band_columns_sum_to_the_total_on_every_row(
    pg: asyncpg.Connection, level: Level, period: Period
) -> None:
    await load_area(pg)
    await mixed_traffic(pg)
    rows = await export_rows(pg, level, period, D(2024, 9, 10), D(2024, 9, 20))
    assert rows
    for row in rows:
        assert sum(bands_of(row)) == int(row["total_requests"]), row


async def test_areas_add_up_to_the_nation_band_by_band(pg: asyncpg.Connection) -> None:
    await load_area(pg)
    await mixed_traffic(pg)
    sub_icbs = await export_rows(pg, Level.SUB_ICB, Period.WEEK, *SEPTEMBER)
    national = await export_rows(pg, Level.NATIONAL, Period.WEEK, *SEPTEMBER)
    for week in national:
        parts = [r for r in sub_icbs if r["period_start"] == week["period_start"]]
        assert [sum(col) for col in zip(*map(bands_of, parts), strict=True)] == bands_of(week)


async def test_an_analyst_exports_by_band_as_triage_reader(pg: asyncpg.Connection) -> None:
    await load_area(pg)
    await mixed_traffic(pg)
    await pg.execute("SET ROLE triage_reader")
    try:
        rows = await export_rows(pg, Level.NATIONAL, Period.MONTH, *SEPTEMBER)
    finally:
        await pg.execute("RESET ROLE")
    assert int(rows[0]["requests_08_10"]) == 30 * BANDS_A[2] + 15 * BANDS_B[2]


async def test_the_analysts_guide_by_band_example_runs_as_printed(
    pg: asyncpg.Connection, db_url: str, tmp_path: Path
) -> None:
    await load_area(pg)
    await mixed_traffic(pg)
    (command,) = commands(example("analytics-export-by-band").text)

    done = await run_shell(command, {"INGEST_DATABASE_URL": db_url}, tmp_path)

    assert done.code == 0, done.output
    (row,) = list(csv.DictReader(io.StringIO(done.stdout)))
    assert tuple(row) == export_columns(Level.NATIONAL, Period.MONTH, by_band=True)
    days = 30
    expected = [days * a + 15 * b for a, b in zip(BANDS_A, BANDS_B, strict=True)]
    assert bands_of(row) == [*expected, days * (5 + 7) + 15 * 6]


async def test_the_command_line_option_adds_the_band_columns(
    pg: asyncpg.Connection, settings: Settings
) -> None:
    await load_area(pg)
    await mixed_traffic(pg)
    args = ["export", "--by", "icb", "--from", "2024-09-01", "--to", "2024-09-30"]
    done = await run_cli(*args, "--period", "month", "--by-band", env=cli_env(settings))
    assert done.code == 0, done.output
    (row,) = list(csv.DictReader(io.StringIO(done.stdout)))
    assert tuple(row) == export_columns(Level.ICB, Period.MONTH, by_band=True)
    assert sum(bands_of(row)) == int(row["total_requests"])
    assert "with time bands" in done.stderr
