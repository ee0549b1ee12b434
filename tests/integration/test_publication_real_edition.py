"""The publication reproduces a real edition of NHS England's: daily feeds built to sum to
each practice's published figures (tests/fixtures/publication, February 2026), with the
reference data the edition implies, come out of ``ingest publish`` as published, practice by
practice; the national row follows NHS England's definitions from the same rows. Every
expected figure is read from the fixture or derived from it."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from decimal import Decimal
from pathlib import Path

import asyncpg
import pytest
from openpyxl import load_workbook

from ingest.analytics.publication.publish import collect_month, write_edition
from ingest.contract.participation import ParticipationPeriod
from ingest.durations import parse_duration
from ingest.ops.suppliers import add_supplier
from ingest.reference.records import (
    ListSize,
    Membership,
    Practice,
    PracticePcn,
    ReferenceKind,
    SubIcb,
)
from ingest.reference.store import load_records
from tests.support.daily_rows import insert_month, insert_untyped_month, spread

pytestmark = pytest.mark.integration

FIXTURE = (
    Path(__file__).resolve().parents[1]
    / "fixtures"
    / "publication"
    / "oc_table2_feb2026_excerpt.csv"
)
FIRST = dt.date(2026, 2, 1)
DAYS = 28
NOW = dt.datetime(2026, 3, 26, 9, 30, tzinfo=dt.UTC)
NO_DATA = {"no data", ""}


def published() -> list[dict[str, str]]:
    """The excerpt's rows, keyed by the header without its footnote marks."""
    reader = csv.reader(io.StringIO(FIXTURE.read_text(encoding="utf-8")))
    header = [re.sub(r"\s*\[[^]]*\]$", "", h) for h in next(reader)]
    return [dict(zip(header, row, strict=True)) for row in reader]


def supplier_id(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:40]


def suppliers_of(row: dict[str, str]) -> list[str]:
    names = [s.strip() for s in row["Supplier"].split(",")]
    return [] if row["Supplier"].strip().lower() in NO_DATA else names


async def load_edition(pg: asyncpg.Connection, rows: list[dict[str, str]]) -> None:
    """Reference data as the edition implies it, then feeds summing to its figures."""
    practices = [
        Practice(r["GP Code"], r["GP Name"], r["Region Code"], None, None, None, None, None,
                 None, None, dt.date(1974, 4, 1), None, "A", "B", r["Sub ICB Code"], None, None,
                 None, None, None, 4, None, "england", "gp_practice")
        for r in rows
    ]  # fmt: skip
    await load_records(pg, ReferenceKind.PRACTICES, practices, "edition practices")
    await load_records(
        pg,
        ReferenceKind.MEMBERSHIPS,
        [Membership(r["GP Code"], r["Sub ICB Code"], dt.date(2022, 7, 1), None) for r in rows],
        "edition memberships",
    )
    sub_icbs = {
        r["Sub ICB Code"]: SubIcb(
            r["Sub ICB Code"], r["Sub ICB Name"], r["ICB Code"], r["ICB Name"],
            dt.date(2022, 7, 1), None,
        )
        for r in rows
    }  # fmt: skip
    await load_records(pg, ReferenceKind.SUB_ICBS, list(sub_icbs.values()), "edition sub-icbs")
    await load_records(
        pg,
        ReferenceKind.LIST_SIZES,
        [ListSize(r["GP Code"], FIRST, int(r["Registered Patient Count"])) for r in rows],
        "edition list sizes",
    )
    await load_records(
        pg,
        ReferenceKind.PCNS,
        [
            PracticePcn(r["GP Code"], FIRST, r["PCN Code"], r["PCN Name"], r["Region Code"],
                        r["Region Name"])
            for r in rows
        ],
        "edition pcns",
    )  # fmt: skip
    await load_records(
        pg,
        ReferenceKind.PARTICIPATION,
        [ParticipationPeriod(r["GP Code"], FIRST, None) for r in rows if r["Participation"] == "1"],
        "edition participation",
    )
    names = sorted({name for r in rows for name in suppliers_of(r)})
    for name in names:
        await add_supplier(
            pg, supplier_id(name), name, parse_duration("26h"), parse_duration("50h")
        )
    for r in rows:
        await feed(pg, r)


async def feed(pg: asyncpg.Connection, r: dict[str, str]) -> None:
    """The practice's month as its suppliers would send it: typed figures from the first
    supplier(s); submissions of other/unknown type untyped from the last when several, typed
    "other" when one supplier also types the rest, untyped when nothing is typed."""
    names = suppliers_of(r)
    if not names:
        return
    clinical, admin = int(r["Clinical Submissions"]), int(r["Administrative Submissions"])
    other = int(r["Other/Unknown Type Submissions"])
    code = r["GP Code"]
    if clinical + admin == 0:
        for name, total in zip(names, spread(other, len(names)), strict=True):
            await insert_untyped_month(pg, supplier_id(name), code, FIRST, DAYS, total)
        return
    typed = names if other == 0 or len(names) == 1 else names[:-1]
    for i, name in enumerate(typed):
        c, a = spread(clinical, len(typed))[i], spread(admin, len(typed))[i]
        await insert_month(
            pg,
            supplier_id(name),
            code,
            FIRST,
            DAYS,
            c,
            a,
            other if i == 0 and len(names) == 1 else 0,
        )
    if other and len(names) > 1:
        await insert_untyped_month(pg, supplier_id(names[-1]), code, FIRST, DAYS, other)


def read_csv(path: Path) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8"))))


async def test_every_practice_of_a_real_edition_comes_out_as_published(
    pg: asyncpg.Connection, tmp_path: Path
) -> None:
    rows = published()
    await load_edition(pg, rows)
    write_edition(tmp_path, await collect_month(pg, "2026-02"), NOW)
    ours = {r["practice_code"]: r for r in read_csv(tmp_path / "practices.csv")}
    assert sorted(ours) == sorted(r["GP Code"] for r in rows)
    for r in rows:
        mine = ours[r["GP Code"]]
        for theirs, column in (
            ("GP Name", "practice_name"),
            ("PCN Code", "pcn_code"),
            ("PCN Name", "pcn_name"),
            ("Sub ICB Code", "sub_icb_code"),
            ("Sub ICB Name", "sub_icb_name"),
            ("ICB Code", "icb_code"),
            ("ICB Name", "icb_name"),
            ("Region Code", "region_code"),
            ("Region Name", "region_name"),
            ("Registered Patient Count", "registered_patients"),
            ("Participation", "participation"),
        ):
            assert mine[column] == r[theirs], (r["GP Code"], column)
        if r["Participation"] == "0":
            assert mine["submissions"] == mine["submissions_per_1000"] == "", r["GP Code"]
            continue
        assert sorted(mine["suppliers"].split(", ") if mine["suppliers"] else []) == sorted(
            suppliers_of(r)
        )
        for theirs, column in (
            ("Submissions", "submissions"),
            ("Clinical Submissions", "clinical_submissions"),
            ("Administrative Submissions", "admin_submissions"),
            ("Other/Unknown Type Submissions", "other_submissions"),
        ):
            assert mine[column] == r[theirs], (r["GP Code"], column)
        assert abs(
            Decimal(mine["submissions_per_1000"]) - Decimal(r["Rate per 1,000 Registered Patients"])
        ) < Decimal("0.000001")


async def test_the_national_row_follows_the_definitions_from_the_edition_s_rows(
    pg: asyncpg.Connection, tmp_path: Path
) -> None:
    rows = published()
    await load_edition(pg, rows)
    write_edition(tmp_path, await collect_month(pg, "2026-02"), NOW)
    (national,) = read_csv(tmp_path / "national.csv")
    included = [r for r in rows if r["Participation"] == "1"]
    receiving = [r for r in included if int(r["Submissions"]) > 0]
    patients_receiving = sum(int(r["Registered Patient Count"]) for r in receiving)
    submissions = sum(int(r["Submissions"]) for r in included)
    assert int(national["open_active_practices"]) == len(rows)
    assert int(national["practices_included"]) == len(included)
    assert int(national["practices_receiving_submissions"]) == len(receiving)
    assert int(national["registered_patients_open_active"]) == sum(
        int(r["Registered Patient Count"]) for r in rows
    )
    assert int(national["registered_patients_receiving"]) == patients_receiving
    assert int(national["submissions"]) == submissions
    for theirs, column in (
        ("Clinical Submissions", "clinical_submissions"),
        ("Administrative Submissions", "admin_submissions"),
        ("Other/Unknown Type Submissions", "other_submissions"),
    ):
        assert int(national[column]) == sum(int(r[theirs]) for r in included), column
    rate = Decimal(submissions * 1000) / Decimal(patients_receiving)
    assert abs(Decimal(national["submissions_per_1000"]) - rate) < Decimal("0.000001")


async def test_the_workbook_holds_the_figures_of_the_csv_files(
    pg: asyncpg.Connection, tmp_path: Path
) -> None:
    await load_edition(pg, published())
    write_edition(tmp_path, await collect_month(pg, "2026-02"), NOW)
    book = load_workbook(tmp_path / "publication.xlsx", read_only=True)
    assert book.sheetnames == ["Title sheet", "Data Quality", "Table 1", "Table 2", "Table 3"]
    practices = read_csv(tmp_path / "practices.csv")
    table_2 = [r for r in book["Table 2"].iter_rows(min_row=13, values_only=True) if r[1]]
    assert [r[1] for r in table_2] == [p["practice_code"] for p in practices]
    figures = ("submissions", "clinical_submissions", "admin_submissions", "other_submissions",
               "registered_patients", "submissions_per_1000", "participation")  # fmt: skip
    for sheet_row, p in zip(table_2, practices, strict=True):
        for offset, column in enumerate(figures, start=12):
            expected = None if p[column] == "" else float(p[column])
            assert sheet_row[offset] == expected, (p["practice_code"], column)
    (national,) = read_csv(tmp_path / "national.csv")
    table_1 = {
        r[1]: r[2]
        for r in book["Table 1"].iter_rows(min_row=12, max_row=24, values_only=True)
        if r[1]
    }
    assert table_1["Open active practices"] == int(national["open_active_practices"])
    assert table_1["Total submissions received by practices, of which:"] == int(
        national["submissions"]
    )
    assert table_1["Other/unknown type submissions [2]"] == int(national["other_submissions"])
    bands = read_csv(tmp_path / "time_bands.csv")
    sheet_3 = book["Table 3"]
    (header,) = sheet_3.iter_rows(min_row=12, max_row=12, values_only=True)
    table_3 = {
        (str(r[0]), str(band)): value
        for r in sheet_3.iter_rows(min_row=13, max_row=19, values_only=True)
        for band, value in zip(header[1:10], r[1:10], strict=True)
    }
    assert len(table_3) == len(bands)
    for b in bands:
        assert table_3[b["weekday"], b["band"]] == float(b["average_submissions"])
