"""`ingest publish --month YYYY-MM --out DIR`: the publication's files (Tables 1-3 as CSV,
the workbook, the summary page, README); the window of earlier months as the database holds
them; publishing again after a restatement writes a new edition, what changed and a note; the
reader role can publish."""

from __future__ import annotations

import csv
import datetime as dt
import io
from decimal import Decimal
from pathlib import Path

import asyncpg
import pytest

from ingest.analytics.export import AnalyticsError
from ingest.analytics.publication.publish import collect_month, previous_edition, write_edition
from ingest.analytics.publication.time_bands import BAND_FIELDS
from ingest.reference.records import ListSize, Membership, Practice, ReferenceKind, SubIcb
from ingest.reference.store import load_file, load_records
from tests.support.cli import run_cli
from tests.support.daily_rows import insert_days, insert_revision

pytestmark = pytest.mark.integration

ODS = Path(__file__).resolve().parents[1] / "fixtures" / "reference" / "ods"
D = dt.date
SEPTEMBER = (D(2024, 9, 1), D(2024, 9, 30))
NOW = dt.datetime(2024, 10, 5, 9, 0, tzinfo=dt.UTC)


async def load_reference(pg: asyncpg.Connection) -> None:
    await load_file(pg, ReferenceKind.PRACTICES, ODS / "epraccur_2019_excerpt.csv")
    await load_records(
        pg,
        ReferenceKind.MEMBERSHIPS,
        [
            Membership("A81001", "16C", D(2020, 4, 1), None),
            Membership("A81632", "16C", D(2020, 4, 1), None),
        ],
        "test memberships",
    )
    await load_records(
        pg,
        ReferenceKind.SUB_ICBS,
        [SubIcb("16C", "Tees Valley", "QHM", "North East", D(2020, 4, 1), None)],
        "test sub-icbs",
    )
    await load_records(
        pg,
        ReferenceKind.LIST_SIZES,
        [
            ListSize("A81001", D(2024, 6, 1), 900),
            ListSize("A81001", D(2024, 8, 1), 1000),
            ListSize("A81632", D(2021, 1, 1), 2000),
        ],
        "test list sizes",
    )


def read_csv(path: Path) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8"))))


async def test_a_month_is_published_with_practice_and_national_files_and_a_readme(
    pg: asyncpg.Connection, tmp_path: Path
) -> None:
    await load_reference(pg)
    await insert_days(pg, "alpha", "A81001", *SEPTEMBER, 10)
    await insert_days(pg, "beta", "A81632", D(2024, 9, 1), D(2024, 9, 6), 20)
    edition = write_edition(tmp_path, await collect_month(pg, "2024-09"), NOW)
    assert (edition.number, edition.created) == (1, True)
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "README.md",
        "edition.json",
        "index.html",
        "national.csv",
        "practices.csv",
        "publication.xlsx",
        "time_bands.csv",
    ]
    practices = {r["practice_code"]: r for r in read_csv(tmp_path / "practices.csv")}
    assert practices["A81001"]["submissions"] == "300"
    assert Decimal(practices["A81001"]["submissions_per_1000"]) == Decimal(300 * 1000) / 1000
    assert practices["A81001"]["region_code"] == "Y63"
    assert (practices["A81632"]["days_reporting"], practices["A81632"]["day_coverage"]) == (
        "6",
        "0.200",
    )
    assert practices["A81632"]["list_size_extract_date"] == "2021-01-01"
    assert practices["A81632"]["suppliers"] == "beta"
    (national,) = read_csv(tmp_path / "national.csv")
    assert national["submissions"] == str(300 + 6 * 20)
    assert national["practices_receiving_submissions"] == "2"
    readme = (tmp_path / "README.md").read_text()
    assert "edition 1" in readme
    assert "Rate per 1,000" in readme


async def test_table_1_holds_the_earlier_months_as_the_database_holds_them_now(
    pg: asyncpg.Connection, tmp_path: Path
) -> None:
    await load_reference(pg)
    await insert_days(pg, "alpha", "A81001", D(2024, 7, 1), D(2024, 7, 31), 4)
    await insert_days(pg, "alpha", "A81001", *SEPTEMBER, 10)  # nothing in August
    await pg.execute(
        "UPDATE triage.daily_requests SET total_requests = 9, revision = 2 "
        "WHERE practice_code = 'A81001' AND activity_date = '2024-07-31'"
    )
    write_edition(tmp_path, await collect_month(pg, "2024-09"), NOW)
    national = {r["month"]: r for r in read_csv(tmp_path / "national.csv")}
    assert sorted(national) == ["2024-07", "2024-09"]
    assert national["2024-07"]["submissions"] == str(30 * 4 + 9)
    assert national["2024-09"]["submissions"] == str(30 * 10)


async def test_a_restatement_after_an_edition_is_noted_by_supplier(
    pg: asyncpg.Connection, tmp_path: Path
) -> None:
    await load_reference(pg)
    await insert_days(pg, "alpha", "A81001", *SEPTEMBER, 10)
    first = write_edition(tmp_path, await collect_month(pg, "2024-09"), NOW)
    held = previous_edition(tmp_path, "2024-09")
    assert held is not None and held.number == first.number
    later = NOW + dt.timedelta(hours=1)
    await insert_revision(pg, "alpha", "A81001", D(2024, 9, 10), 2, 16, later, 0)
    write_edition(tmp_path, await collect_month(pg, "2024-09", held), later)
    readme = (tmp_path / "README.md").read_text()
    assert "alpha restated 1 practice\\-day\\(s\\) of September 2024 since edition 1" in readme


async def test_republishing_after_a_restatement_writes_edition_2_and_what_changed(
    pg: asyncpg.Connection, tmp_path: Path
) -> None:
    await load_reference(pg)
    await insert_days(pg, "alpha", "A81001", *SEPTEMBER, 10)
    write_edition(tmp_path, await collect_month(pg, "2024-09"), NOW)
    unchanged = write_edition(tmp_path, await collect_month(pg, "2024-09"), NOW)
    assert (unchanged.number, unchanged.created) == (1, False)

    await pg.execute(
        "UPDATE triage.daily_requests SET total_requests = 16, revision = 2 "
        "WHERE practice_code = 'A81001' AND activity_date = '2024-09-10'"
    )
    second = write_edition(tmp_path, await collect_month(pg, "2024-09"), NOW)
    assert (second.number, second.created) == (2, True)
    found = read_csv(tmp_path / "changes_since_edition_1.csv")
    by_column = {(r["file"], r["key"], r["column"]): (r["previous"], r["current"]) for r in found}
    assert by_column[("practices.csv", "A81001", "submissions")] == ("300", "306")
    assert by_column[("national.csv", "2024-09", "submissions")] == ("300", "306")
    assert read_csv(tmp_path / "editions" / "edition-1" / "practices.csv")[0]["submissions"] == (
        "300"
    )
    assert "changes_since_edition_1.csv" in (tmp_path / "README.md").read_text()


async def test_a_folder_holding_another_month_is_refused(
    pg: asyncpg.Connection, tmp_path: Path
) -> None:
    await insert_days(pg, "alpha", "A81001", *SEPTEMBER, 10)
    write_edition(tmp_path, await collect_month(pg, "2024-09"), NOW)
    with pytest.raises(AnalyticsError, match="holds the 2024-09 publication"):
        write_edition(tmp_path, await collect_month(pg, "2024-10"), NOW)


async def test_publish_runs_as_the_reader_role(
    db_url: str, pg: asyncpg.Connection, tmp_path: Path
) -> None:
    await load_reference(pg)
    await insert_days(pg, "alpha", "A81001", *SEPTEMBER, 10)
    # The session takes the role triage_reader from its start (a startup setting): every
    # read of publish then has the reader's privileges and no others.
    as_reader = f"{db_url}{'&' if '?' in db_url else '?'}role=triage_reader"
    check = await asyncpg.connect(as_reader)
    try:
        assert await check.fetchval("SELECT current_user") == "triage_reader"
    finally:
        await check.close()
    out = tmp_path / "p"
    done = await run_cli(
        "publish", "--month", "2024-09", "--out", str(out), env={"INGEST_DATABASE_URL": as_reader}
    )
    assert done.code == 0, done.stderr
    published = {r["practice_code"]: r for r in read_csv(out / "practices.csv")}
    assert published["A81001"]["submissions"] == str(30 * 10)
    assert (out / "publication.xlsx").exists()


async def test_the_command_writes_an_edition_and_refuses_a_bad_month_in_one_line(
    db_url: str, pg: asyncpg.Connection, tmp_path: Path
) -> None:
    await insert_days(pg, "alpha", "A81001", *SEPTEMBER, 10)
    env = {"INGEST_DATABASE_URL": db_url}
    done = await run_cli("publish", "--month", "2024-09", "--out", str(tmp_path / "p"), env=env)
    assert done.code == 0, done.stderr
    assert "2024-09: edition 1 written" in done.stdout
    bad = await run_cli("publish", "--month", "2024-13", "--out", str(tmp_path / "q"), env=env)
    assert bad.code == 2
    assert "is not a month YYYY-MM" in bad.stderr
    assert "Traceback" not in bad.output


async def test_table_3_averages_each_weekday_s_submissions_by_time_band(
    pg: asyncpg.Connection, tmp_path: Path
) -> None:
    await load_reference(pg)
    await insert_days(pg, "alpha", "A81001", *SEPTEMBER, 10)
    timed = {"requests_08_10": 7, "requests_10_12": 2, "requests_time_unknown": 1}
    others = [f for f in BAND_FIELDS if f not in timed]
    await pg.execute(
        "UPDATE triage.daily_requests SET "
        + ", ".join([f"{f} = {n}" for f, n in timed.items()] + [f"{f} = 0" for f in others])
        + " WHERE activity_date < '2024-09-16'"
    )
    write_edition(tmp_path, await collect_month(pg, "2024-09"), NOW)
    averages = {
        (r["weekday"], r["band"]): Decimal(r["average_submissions"])
        for r in read_csv(tmp_path / "time_bands.csv")
    }
    days = [D(2024, 9, d) for d in range(1, 31)]
    for weekday in range(7):
        of_weekday = [d for d in days if d.weekday() == weekday]
        name = of_weekday[0].strftime("%A")
        timed_days = sum(1 for d in of_weekday if d.day < 16)
        count = Decimal(len(of_weekday))
        assert averages[name, "08:00 - 09:59"] == 7 * timed_days / count
        assert averages[name, "10:00 - 11:59"] == 2 * timed_days / count
        assert (
            averages[name, "Unknown"] == (timed_days + 10 * (len(of_weekday) - timed_days)) / count
        )
        assert averages[name, "00:00 - 05:59"] == 0


async def test_a_practice_without_a_status_is_listed_and_a_closed_or_proposed_one_is_not(
    pg: asyncpg.Connection, tmp_path: Path
) -> None:
    def practice(code: str, status: str | None, closed: dt.date | None = None) -> Practice:
        return Practice(code, f"SURGERY {code}", "Y63", None, None, None, None, None, None,
                        None, D(1990, 1, 1), closed, status, "B", "16C", None, None, None,
                        None, None, 4, None, "england", "gp_practice")  # fmt: skip

    practices = [
        practice("A81001", None),
        practice("A81002", "A"),
        practice("A81003", "C", D(2024, 8, 31)),
        practice("A81004", "C", D(2024, 9, 15)),  # open for half the month
        practice("A81005", "P"),
        practice("A81006", "C"),  # closed, no date: not open
    ]
    await load_records(pg, ReferenceKind.PRACTICES, practices, "practices")
    await load_records(
        pg,
        ReferenceKind.LIST_SIZES,
        [ListSize(p.practice_code, D(2024, 9, 1), 1000) for p in practices],
        "list sizes",
    )
    write_edition(tmp_path, await collect_month(pg, "2024-09"), NOW)
    listed = [r["practice_code"] for r in read_csv(tmp_path / "practices.csv")]
    assert listed == ["A81001", "A81002", "A81004"]
