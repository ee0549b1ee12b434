"""What triage_reader can answer on its own (analysts need no writer's rights): practices with no
data from any supplier, restatement history without raw bytes, `ingest status`, and spreadsheet-safe
names in exports."""

from __future__ import annotations

import csv
import datetime as dt
import io
from pathlib import Path

import asyncpg
import pytest

from ingest.analytics.export import ExportRequest, Level, export_csv
from ingest.cli.status_cmd import read_status
from ingest.contract.model import BAND_FIELDS
from ingest.reference.records import Membership, ReferenceKind, SubIcb
from ingest.reference.store import load_file, load_records
from tests.support.daily_rows import insert_days, insert_revision

pytestmark = pytest.mark.integration

ODS = Path(__file__).resolve().parents[1] / "fixtures" / "reference" / "ods"
REAL_2019 = ODS / "epraccur_2019_excerpt.csv"
D = dt.date
OCTOBER = (D(2024, 10, 1), D(2024, 10, 31))


async def as_reader(pg: asyncpg.Connection, query: str, *args: object) -> list[asyncpg.Record]:
    await pg.execute("SET ROLE triage_reader")
    try:
        return list(await pg.fetch(query, *args))
    finally:
        await pg.execute("RESET ROLE")


async def test_active_gp_practices_without_data_from_any_supplier(pg: asyncpg.Connection) -> None:
    await load_file(pg, ReferenceKind.PRACTICES, REAL_2019)
    await load_records(
        pg,
        ReferenceKind.MEMBERSHIPS,
        [Membership("A81632", "00K", D(2013, 4, 1), None)],
        "test memberships",
    )
    await load_records(
        pg,
        ReferenceKind.SUB_ICBS,
        [SubIcb("00K", "Tees", "QHM", "North East", D(2013, 4, 1), None)],
        "test sub-icbs",
    )
    await insert_days(pg, "alpha", "A81001", *OCTOBER, 5)
    await insert_days(pg, "alpha", "A81632", D(2024, 9, 1), D(2024, 9, 30), 5)  # before
    rows = await as_reader(
        pg,
        "SELECT practice_code, status_code, sub_icb_code, mapping_basis, last_activity_date "
        "FROM triage.practices_without_data($1, $2, $3)",
        *OCTOBER,
        OCTOBER[1],
    )
    # A81001 reported; A81003 closed in 2017; the rest are not English GP practices.
    assert [tuple(r) for r in rows] == [("A81632", "D", "00K", "vintage", D(2024, 9, 30))]


async def test_without_data_means_no_day_inside_the_range_whatever_the_month(
    pg: asyncpg.Connection,
) -> None:
    await load_file(pg, ReferenceKind.PRACTICES, REAL_2019)
    await insert_days(pg, "alpha", "A81632", D(2024, 9, 14), D(2024, 9, 14), 5)
    await insert_days(pg, "beta", "A81632", D(2024, 10, 1), D(2024, 10, 1), 5)
    query = "SELECT practice_code, last_activity_date FROM triage.practices_without_data($1, $2)"
    inside = {
        r["practice_code"] for r in await as_reader(pg, query, D(2024, 9, 14), D(2024, 9, 14))
    }
    assert "A81632" not in inside
    for first, last in ((D(2024, 9, 15), D(2024, 9, 30)), (D(2024, 8, 1), D(2024, 9, 13))):
        rows = {r["practice_code"]: r for r in await as_reader(pg, query, first, last)}
        assert rows["A81632"]["last_activity_date"] == D(2024, 10, 1), (first, last)
    across = {
        r["practice_code"] for r in await as_reader(pg, query, D(2024, 9, 15), D(2024, 10, 1))
    }
    assert "A81632" not in across


async def test_restatement_history_shows_each_revision_its_change_and_arrival(
    pg: asyncpg.Connection,
) -> None:
    first = dt.datetime(2024, 10, 2, 6, tzinfo=dt.UTC)
    day = D(2024, 10, 1)
    await insert_revision(pg, "alpha", "A81001", day, 1, 40, first, 1, current=False)
    later = first + dt.timedelta(days=3)
    await insert_revision(pg, "alpha", "A81001", day, 2, 46, later, 2, current=False)
    rows = await as_reader(
        pg,
        "SELECT * FROM triage.restatement_history ORDER BY revision",
    )
    assert [(r["revision"], r["total_requests"], r["total_change"]) for r in rows] == [
        (1, 40, None),
        (2, 46, 6),
    ]
    assert rows[1]["after_previous"] == dt.timedelta(days=3)
    assert [r["is_current"] for r in rows] == [False, True]
    columns = set(rows[0].keys())
    assert not columns & {"event_id", "source_offset", "key", "value"}


async def test_restatement_history_shows_a_restatement_of_time_bands_only(
    pg: asyncpg.Connection,
) -> None:
    first = dt.datetime(2024, 10, 2, 6, tzinfo=dt.UTC)
    day = D(2024, 10, 1)
    before, after = (1, 0, 3, 2, 1, 1, 1, 0, 1), (1, 0, 2, 3, 1, 1, 1, 0, 1)
    await insert_revision(pg, "alpha", "A81001", day, 1, 10, first, 1, bands=before)
    later = first + dt.timedelta(hours=5)
    await insert_revision(pg, "alpha", "A81001", day, 2, 10, later, 2, bands=after)
    rows = await as_reader(pg, "SELECT * FROM triage.restatement_history ORDER BY revision")
    assert [r["total_change"] for r in rows] == [None, 0]
    assert [tuple(r[name] for name in BAND_FIELDS) for r in rows] == [before, after]


async def test_ingest_status_reads_as_the_reader(pg: asyncpg.Connection) -> None:
    await pg.execute(
        "INSERT INTO triage.suppliers (supplier_id, name, warn_after, error_after) "
        "VALUES ('alpha', 'Alpha', interval '1 hour', interval '2 hours')"
    )
    await pg.execute("SET ROLE triage_reader")
    try:
        report = await read_status(pg, dt.datetime.now(dt.UTC))
    finally:
        await pg.execute("RESET ROLE")
    assert [s.supplier_id for s in report.suppliers] == ["alpha"]
    assert report.activity["alpha"].stored_events == 0


async def test_exported_names_cannot_become_spreadsheet_formulas(
    pg: asyncpg.Connection, tmp_path: Path
) -> None:
    hostile = tmp_path / "epraccur.csv"
    hostile.write_text(
        REAL_2019.read_text().replace('"THE DENSHAM SURGERY"', '"=HYPERLINK(""http://x"")"')
    )
    await load_file(pg, ReferenceKind.PRACTICES, hostile)
    await insert_days(pg, "alpha", "A81001", D(2024, 10, 1), D(2024, 10, 1), 5)
    parts: list[bytes] = []

    async def write(chunk: bytes) -> None:
        parts.append(chunk)

    day = D(2024, 10, 1)
    await export_csv(pg, ExportRequest(Level.PRACTICE, day, day, day), write)
    (row,) = csv.DictReader(io.StringIO(b"".join(parts).decode()))
    assert row["practice_name"] == '\'=HYPERLINK("http://x")'
