"""The data package descriptor (ingest/analytics/datapackage.json) describes the files the
commands really write: validated with the `frictionless` library, as other teams read them."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from frictionless import Package

from ingest.analytics.datapackage import descriptor, package_for
from ingest.settings import Settings
from tests.support.activity_month import set_up_month
from tests.support.cli import cli_env, run_cli
from tests.support.daily_rows import insert_days
from tests.support.frictionless_csv import keep_csv_field_limit  # noqa: F401 (autouse)

pytestmark = pytest.mark.integration


def problems(folder: Path, paths: dict[str, str]) -> list[list[Any]]:
    """What frictionless finds wrong with the files at ``paths`` (resource name -> file name
    in ``folder``), described by the project's descriptor."""
    descriptor = folder / "datapackage.json"
    descriptor.write_text(json.dumps(package_for(paths)))
    report = Package(str(descriptor)).validate()
    found: list[list[Any]] = report.flatten(["rowNumber", "fieldName", "type", "note"])
    return found


async def write_activity(settings: Settings, pg: asyncpg.Connection, folder: Path) -> Path:
    await set_up_month(pg, 4)
    out = folder / "activity-2024-10.csv"
    done = await run_cli("activity", "--month", "2024-10", "--out", str(out), env=cli_env(settings))
    assert done.code == 0, done.output
    return out


async def test_the_activity_csv_the_command_writes_is_valid(
    settings: Settings, pg: asyncpg.Connection, tmp_path: Path
) -> None:
    out = await write_activity(settings, pg, tmp_path)
    assert len(out.read_text().splitlines()) > 10  # a real month, not a header alone
    assert problems(tmp_path, {"activity": out.name}) == []


async def test_a_wrong_figure_in_the_activity_csv_is_found(
    settings: Settings, pg: asyncpg.Connection, tmp_path: Path
) -> None:
    out = await write_activity(settings, pg, tmp_path)
    rows = list(csv.reader(io.StringIO(out.read_text())))
    rows[3][rows[0].index("appointments")] = "many"
    rows[5][rows[0].index("looks_quiet_in_appointments")] = "2"
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerows(rows)
    out.write_text(buffer.getvalue())
    found = {(r[0], r[1], r[2]) for r in problems(tmp_path, {"activity": out.name})}
    assert found == {
        (4, "appointments", "type-error"),
        (6, "looks_quiet_in_appointments", "constraint-error"),
    }


async def test_the_publications_files_the_command_writes_are_valid(
    db_url: str, pg: asyncpg.Connection, tmp_path: Path
) -> None:
    await insert_days(pg, "alpha", "A81001", dt.date(2024, 9, 1), dt.date(2024, 9, 30), 10)
    folder = tmp_path / "publication"
    done = await run_cli(
        "publish", "--month", "2024-09", "--out", str(folder), env={"INGEST_DATABASE_URL": db_url}
    )
    assert done.code == 0, done.output
    paths = {
        "practices": "practices.csv",
        "national": "national.csv",
        "time_bands": "time_bands.csv",
    }
    assert all((folder / name).exists() for name in paths.values())
    assert problems(folder, paths) == []


async def test_ingest_datapackage_writes_the_descriptor(settings: Settings, tmp_path: Path) -> None:
    out = tmp_path / "datapackage.json"
    done = await run_cli("datapackage", "--out", str(out), env=cli_env(settings))
    assert done.code == 0, done.output
    assert json.loads(out.read_text()) == descriptor()
