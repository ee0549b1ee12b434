"""Collecting a month from Postgres and writing it to a folder as an edition.

The folder holds one month: ``practices.csv``, ``national.csv``, ``README.md`` and
``edition.json`` (month, edition number, time). Publishing the same month again writes a new
edition only when a file's content changed: the earlier one moves to
``editions/edition-N/`` and ``changes_since_edition_N.csv`` lists every changed figure. The folder
is handled through directory descriptors (``folder``): links anywhere under it and a folder
writable by others are refused, and no file is ever half-written.
"""

from __future__ import annotations

import datetime as dt
import json
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
from ingest.analytics.publication.folder import PublicationFolder
from ingest.analytics.publication.readme import readme

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


def _current_edition(folder: PublicationFolder, month: str) -> int:
    if not folder.exists(EDITION_FILE):
        if folder.names():
            raise AnalyticsError(
                f"{folder.shown} is not empty and holds no publication; use a new folder"
            )
        return 0
    try:
        meta = json.loads(folder.read(EDITION_FILE).decode("utf-8"))
        held, number = str(meta["month"]), int(meta["edition"])
    except (ValueError, KeyError, TypeError) as exc:
        raise AnalyticsError(f"{folder.shown}/{EDITION_FILE} cannot be read ({exc})") from exc
    if held != month:
        raise AnalyticsError(
            f"{folder.shown} holds the {held} publication; publish {month} elsewhere"
        )
    return number


def write_edition(out: Path, month_files: MonthFiles, now: dt.datetime) -> Edition:
    """Write ``month_files`` into ``out`` as its next edition (see the module docstring)."""
    with PublicationFolder.open(out) as folder:
        return _write_edition(folder, month_files, now)


def _write_edition(folder: PublicationFolder, month_files: MonthFiles, now: dt.datetime) -> Edition:
    current = _current_edition(folder, month_files.month)
    changed: int | None = None
    if current:
        previous = {name: folder.read(name).decode("utf-8") for name in DATA_FILES}
        if previous == month_files.data:
            return Edition(current, False, None)
        found = [
            c for name in DATA_FILES for c in changes(name, previous[name], month_files.data[name])
        ]
        with (
            folder.subfolder("editions") as editions,
            editions.subfolder(f"edition-{current}") as archive,
        ):
            for name in (*DATA_FILES, "README.md", EDITION_FILE):
                if folder.exists(name):
                    archive.write(name, folder.read(name))
            for stale in folder.names():
                if stale.startswith("changes_since_edition_") and stale.endswith(".csv"):
                    folder.move_to(stale, archive)
        folder.write(f"changes_since_edition_{current}.csv", changes_csv(found).encode("utf-8"))
        changed = len(found)
    number = current + 1
    for name, text in month_files.data.items():
        folder.write(name, text.encode("utf-8"))
    folder.write(
        "README.md",
        readme(month_files.month, number, now, month_files.national, changed).encode("utf-8"),
    )
    folder.write(
        EDITION_FILE,
        (
            json.dumps(
                {"month": month_files.month, "edition": number, "published_at": now.isoformat()},
                indent=2,
            )
            + "\n"
        ).encode("utf-8"),
    )
    return Edition(number, True, changed)
