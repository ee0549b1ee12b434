"""Collecting a month from Postgres and writing it to a folder as an edition.

The folder holds one month: ``practices.csv``, ``national.csv``, ``README.md`` and
``edition.json`` (month, edition number, time). Publishing the same month again writes a new
edition only when a file's content changed: the earlier one moves to
``editions/edition-N/`` and ``changes_since_edition_N.csv`` lists every changed figure. Each
file is written through ``ingest.output_file.atomic_output`` (a new file of random name beside
it, then one rename), so none is ever half-written and no planted link is followed.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path
from typing import Any

import asyncpg

from ingest.analytics.export import AnalyticsError, analytics_errors
from ingest.analytics.publication.files import (
    NATIONAL_COLUMNS,
    PRACTICE_COLUMNS,
    changes,
    changes_csv,
    month_bounds,
    national_row,
    practice_rows,
    to_csv,
)
from ingest.analytics.publication.readme import readme
from ingest.output_file import atomic_output

_PRACTICE_SQL = files("ingest.analytics.publication.sql").joinpath("practice_month.sql")
EDITION_FILE = "edition.json"
DATA_FILES = ("practices.csv", "national.csv")


@dataclass(frozen=True, slots=True)
class MonthFiles:
    """The data files of a month (name -> CSV text) and the national row."""

    month: str
    data: dict[str, str]
    national: dict[str, str]
    practices: int


@dataclass(frozen=True, slots=True)
class Edition:
    """What ``write_edition`` did."""

    number: int
    created: bool  # False: the same content as the current edition, nothing written
    changed_figures: int | None  # None on a first edition


async def collect_month(conn: asyncpg.Connection, month: str) -> MonthFiles:
    """The month's figures, read in one consistent snapshot (works as triage_reader)."""
    first, last = month_bounds(month)
    with analytics_errors():
        async with conn.transaction(isolation="repeatable_read", readonly=True):
            rows: list[Any] = await conn.fetch(_PRACTICE_SQL.read_text(), first, last)
            without: int = await conn.fetchval(
                "SELECT count(*) FROM triage.practices_without_data($1, $2, $2)", first, last
            )
    days = (last - first).days + 1
    national = national_row(month, days, rows, without)
    data = {
        "practices.csv": to_csv(PRACTICE_COLUMNS, practice_rows(month, rows)),
        "national.csv": to_csv(NATIONAL_COLUMNS, [national]),
    }
    return MonthFiles(month, data, national, len(rows))


def _write(path: Path, text: str) -> None:
    _write_bytes(path, text.encode("utf-8"))


def _write_bytes(path: Path, data: bytes) -> None:
    with atomic_output(path) as sink:
        sink.write(data)


def _current_edition(out: Path, month: str) -> int:
    marker = out / EDITION_FILE
    if not marker.exists():
        if any(out.iterdir()):
            raise AnalyticsError(f"{out} is not empty and holds no publication; use a new folder")
        return 0
    try:
        meta = json.loads(marker.read_text(encoding="utf-8"))
        held, number = str(meta["month"]), int(meta["edition"])
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise AnalyticsError(f"{marker} cannot be read ({exc})") from exc
    if held != month:
        raise AnalyticsError(f"{out} holds the {held} publication; publish {month} elsewhere")
    return number


def write_edition(out: Path, month_files: MonthFiles, now: dt.datetime) -> Edition:
    """Write ``month_files`` into ``out`` as its next edition (see the module docstring)."""
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise AnalyticsError(f"cannot create {out}: {exc.strerror or exc}") from exc
    if not out.is_dir():
        raise AnalyticsError(f"{out} is not a folder")
    current = _current_edition(out, month_files.month)
    changed: int | None = None
    if current:
        previous = {name: (out / name).read_bytes().decode("utf-8") for name in DATA_FILES}
        if previous == month_files.data:
            return Edition(current, False, None)
        found = [
            c for name in DATA_FILES for c in changes(name, previous[name], month_files.data[name])
        ]
        archive = out / "editions" / f"edition-{current}"
        archive.mkdir(parents=True, exist_ok=True)
        for name in (*DATA_FILES, "README.md", EDITION_FILE):
            if (out / name).exists():
                _write_bytes(archive / name, (out / name).read_bytes())
        for stale in out.glob("changes_since_edition_*.csv"):
            shutil.move(stale, archive / stale.name)
        _write(out / f"changes_since_edition_{current}.csv", changes_csv(found))
        changed = len(found)
    number = current + 1
    for name, text in month_files.data.items():
        _write(out / name, text)
    _write(out / "README.md", readme(month_files.month, number, now, month_files.national, changed))
    _write(
        out / EDITION_FILE,
        json.dumps(
            {"month": month_files.month, "edition": number, "published_at": now.isoformat()},
            indent=2,
        )
        + "\n",
    )
    return Edition(number, True, changed)
