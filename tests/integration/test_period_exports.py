"""Exports by day, week and month (contract v1.1 section 6): every row carries its
completeness and the list-size extract used, and rates per 1,000 are not diluted by days a
practice did not report."""

from __future__ import annotations

import csv
import datetime as dt
import io

import asyncpg
import pytest

from ingest.analytics.export import ExportRequest, Level, Period, export_columns, export_csv
from ingest.reference.records import ListSize, ReferenceKind, RosterEntry
from ingest.reference.store import load_records
from tests.support.daily_rows import insert_days
from tests.support.reference_area import load_two_sub_icbs

pytestmark = pytest.mark.integration

D = dt.date
SEPTEMBER = (D(2024, 9, 1), D(2024, 9, 30))
FULL, PARTIAL, OTHER = "P00001", "P00002", "P00003"


async def load_area(pg: asyncpg.Connection) -> None:
    """FULL and PARTIAL in sub-ICB 91X, OTHER in 91Y; all in ICB QXA; list sizes of 2021."""
    await load_two_sub_icbs(pg, (FULL, PARTIAL), (OTHER,))
    await load_records(
        pg,
        ReferenceKind.LIST_SIZES,
        [
            ListSize(FULL, D(2021, 1, 1), 1000),
            ListSize(PARTIAL, D(2021, 1, 1), 1000),
            ListSize(OTHER, D(2024, 8, 1), 2000),
        ],
        "test list sizes",
    )


async def export_rows(
    pg: asyncpg.Connection, level: Level, period: Period, start: dt.date, end: dt.date
) -> list[dict[str, str]]:
    parts: list[bytes] = []

    async def write(chunk: bytes) -> None:
        parts.append(chunk)

    await export_csv(pg, ExportRequest(level, start, end, end, period), write)
    reader = csv.DictReader(io.StringIO(b"".join(parts).decode()))
    assert tuple(reader.fieldnames or ()) == export_columns(level, period)
    return list(reader)


async def test_a_practice_reporting_6_of_30_days_shows_it_and_its_rate_is_not_diluted(
    pg: asyncpg.Connection,
) -> None:
    await load_area(pg)
    await insert_days(pg, "alpha", FULL, *SEPTEMBER, 10)
    await insert_days(pg, "alpha", PARTIAL, D(2024, 9, 1), D(2024, 9, 6), 10)
    rows = {
        r["practice_code"]: r
        for r in await export_rows(pg, Level.PRACTICE, Period.MONTH, *SEPTEMBER)
    }
    full, partial = rows[FULL], rows[PARTIAL]
    assert (full["period_start"], full["period_end"]) == ("2024-09-01", "2024-09-30")
    assert (full["days_in_period"], full["days_reporting"]) == ("30", "30")
    assert (partial["days_in_period"], partial["days_reporting"]) == ("30", "6")
    assert (full["total_requests"], partial["total_requests"]) == ("300", "60")
    # Same daily demand per patient: the same rate, whatever the days reported.
    assert full["requests_per_1000_per_day"] == partial["requests_per_1000_per_day"] == "10.000"
    assert full["requests_per_1000"] == partial["requests_per_1000"] == "300.000"


async def test_the_list_size_extract_used_is_on_every_row(pg: asyncpg.Connection) -> None:
    await load_area(pg)
    await insert_days(pg, "alpha", FULL, *SEPTEMBER, 10)
    await insert_days(pg, "alpha", OTHER, *SEPTEMBER, 10)
    practices = await export_rows(pg, Level.PRACTICE, Period.MONTH, *SEPTEMBER)
    assert {r["practice_code"]: r["list_size_extract_date"] for r in practices} == {
        FULL: "2021-01-01",
        OTHER: "2024-08-01",
    }
    (icb,) = await export_rows(pg, Level.ICB, Period.MONTH, *SEPTEMBER)
    assert (icb["list_size_extract_from"], icb["list_size_extract_to"]) == (
        "2021-01-01",
        "2024-08-01",
    )


async def test_area_rows_count_practices_and_practice_days_against_those_expected(
    pg: asyncpg.Connection,
) -> None:
    await load_area(pg)
    await insert_days(pg, "alpha", FULL, D(2024, 9, 1), D(2024, 10, 31), 10)
    await insert_days(pg, "alpha", PARTIAL, D(2024, 10, 1), D(2024, 10, 10), 10)
    rows = await export_rows(pg, Level.SUB_ICB, Period.MONTH, D(2024, 9, 1), D(2024, 10, 31))
    by_month = {r["period_start"]: r for r in rows if r["sub_icb_code"] == "91X"}
    september, october = by_month["2024-09-01"], by_month["2024-10-01"]
    assert (september["practices_reporting"], september["practices_expected"]) == ("1", "2")
    assert (september["practice_days_reporting"], september["practice_days_expected"]) == (
        "30",
        "60",
    )
    assert (october["practices_reporting"], october["practice_days_reporting"]) == ("2", "41")
    assert october["practice_days_expected"] == "62"
    assert september["expected_basis"] == "reported in range"


async def test_weeks_are_iso_weeks_cut_to_the_range(pg: asyncpg.Connection) -> None:
    await load_area(pg)
    await insert_days(pg, "alpha", FULL, D(2024, 9, 4), D(2024, 9, 15), 10)  # Wed .. Sun
    rows = await export_rows(pg, Level.NATIONAL, Period.WEEK, D(2024, 9, 4), D(2024, 9, 15))
    assert [(r["period_start"], r["period_end"], r["days_in_period"]) for r in rows] == [
        ("2024-09-02", "2024-09-08", "5"),
        ("2024-09-09", "2024-09-15", "7"),
    ]
    assert [r["total_requests"] for r in rows] == ["50", "70"]


async def test_monthly_national_totals_equal_the_sum_of_sub_icbs(pg: asyncpg.Connection) -> None:
    await load_area(pg)
    await insert_days(pg, "alpha", FULL, *SEPTEMBER, 10)
    await insert_days(pg, "beta", OTHER, *SEPTEMBER, 7)
    await insert_days(pg, "beta", "Q99999", *SEPTEMBER, 1)  # unmapped
    sub_icbs = await export_rows(pg, Level.SUB_ICB, Period.MONTH, *SEPTEMBER)
    (national,) = await export_rows(pg, Level.NATIONAL, Period.MONTH, *SEPTEMBER)
    assert sum(int(r["total_requests"]) for r in sub_icbs) == int(national["total_requests"])
    assert national["total_requests"] == str(30 * (10 + 7 + 1))
    assert national["practices_expected"] == "3"


async def test_day_exports_keep_their_columns_and_add_completeness(
    pg: asyncpg.Connection,
) -> None:
    await load_area(pg)
    await insert_days(pg, "alpha", FULL, D(2024, 9, 1), D(2024, 9, 1), 10)
    (row,) = await export_rows(pg, Level.PRACTICE, Period.DAY, D(2024, 9, 1), D(2024, 9, 1))
    assert row["activity_date"] == "2024-09-01"
    assert (row["requests_per_1000"], row["days_in_period"], row["days_reporting"]) == (
        "10.000",
        "1",
        "1",
    )


async def test_with_a_supplier_roster_the_expected_practices_and_days_come_from_it(
    pg: asyncpg.Connection,
) -> None:
    await load_area(pg)
    await load_records(
        pg,
        ReferenceKind.ROSTER,
        [
            RosterEntry("alpha", FULL, D(2024, 1, 1), None),
            RosterEntry("beta", FULL, D(2024, 9, 20), None),  # a second supplier: counted once
            RosterEntry("alpha", PARTIAL, D(2024, 9, 16), None),  # installed mid-month
            RosterEntry("alpha", OTHER, D(2024, 1, 1), D(2024, 8, 31)),  # removed before
        ],
        "test roster",
    )
    await insert_days(pg, "alpha", FULL, *SEPTEMBER, 10)
    await insert_days(pg, "alpha", PARTIAL, D(2024, 9, 16), D(2024, 9, 21), 10)
    await insert_days(pg, "alpha", OTHER, *SEPTEMBER, 10)  # reports, but is not installed
    rows = await export_rows(pg, Level.SUB_ICB, Period.MONTH, *SEPTEMBER)
    by_unit = {r["sub_icb_code"]: r for r in rows}
    x, y = by_unit["91X"], by_unit["91Y"]
    assert x["expected_basis"] == "roster"
    assert (x["practices_reporting"], x["practices_expected"]) == ("2", "2")
    assert (x["practice_days_reporting"], x["practice_days_expected"]) == ("36", str(30 + 15))
    assert (y["practices_reporting"], y["practices_expected"], y["practice_days_expected"]) == (
        "1",
        "0",
        "0",
    )
