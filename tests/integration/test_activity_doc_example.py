"""The worked example of docs/analytics.md ("Appointments beside online requests"), run: its
inputs become GPAD crosstab rows, list sizes and feed days, `ingest activity` runs on them,
and what it writes is the example's output, row for row."""

from __future__ import annotations

import csv
import datetime as dt
import io
from pathlib import Path

import asyncpg
import pytest

from ingest.reference.appointment_store import load_appointment_files
from ingest.reference.records import ListSize, Membership, ReferenceKind, SubIcb
from ingest.reference.store import load_records
from ingest.settings import Settings
from tests.support.cli import cli_env, run_cli
from tests.support.daily_rows import insert_days
from tests.support.doc_examples import example
from tests.support.gpad import crosstab_text

pytestmark = pytest.mark.integration

D = dt.date


def rows_of(name: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(example(name).text)))


async def test_the_worked_example_is_what_the_command_writes(
    settings: Settings, pg: asyncpg.Connection, tmp_path: Path
) -> None:
    inputs = rows_of("activity-worked-inputs")
    crosstab = []
    for p in inputs:
        n = int(p["appointments"])
        fixed = ["01OCT2024", p["practice_code"], "A PRACTICE", "EMIS", "U00001", "PCN", "16C", "X"]
        crosstab.append([*fixed, "GP", "Face-to-Face", "Planned Clinics", "Same Day", n - n // 3,
                         "Attended"])  # fmt: skip
        crosstab.append([*fixed, "GP", "Telephone", "Clinical Triage", "1 Day", n // 3, "DNA"])
    gpad = tmp_path / "Practice_Level_Crosstab_Oct_24.csv"
    gpad.write_text(crosstab_text(crosstab))
    await load_appointment_files(pg, [gpad])
    codes = [p["practice_code"] for p in inputs]
    await load_records(
        pg,
        ReferenceKind.MEMBERSHIPS,
        [Membership(c, "16C", D(2022, 7, 1), None) for c in codes],
        "example memberships",
    )
    await load_records(
        pg, ReferenceKind.SUB_ICBS, [SubIcb("16C", None, "QHM", None, D(2022, 7, 1), None)], "sub"
    )
    await load_records(
        pg,
        ReferenceKind.LIST_SIZES,
        [
            ListSize(p["practice_code"], D(2024, 10, 1), int(p["registered_patients"]))
            for p in inputs
            if p["registered_patients"]
        ],
        "example list sizes",
    )
    for p in inputs:
        day = D(2024, 10, 15)
        await insert_days(pg, "sa", p["practice_code"], day, day, int(p["submissions"]))

    out = tmp_path / "activity.csv"
    done = await run_cli("activity", "--month", "2024-10", "--out", str(out), env=cli_env(settings))
    assert done.code == 0, done.output
    written = list(csv.DictReader(io.StringIO(out.read_text())))
    expected = rows_of("activity-worked-output")
    assert [{k: row[k] for k in expected[0]} for row in written] == expected
    for row, p in zip(written, inputs, strict=True):  # the other figures follow the inputs
        assert (row["appointments"], row["submissions"]) == (p["appointments"], p["submissions"])
