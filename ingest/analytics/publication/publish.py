"""Collecting a month from Postgres and writing it to a folder as an edition.

The folder holds one month: ``practices.csv``, ``national.csv``, ``time_bands.csv``,
``publication.xlsx``, ``index.html``, ``README.md`` and ``edition.json`` (month, edition
number, time). Publishing the same month again writes a new edition only when a data file's
content changed: the earlier one moves to ``editions/edition-N/`` and
``changes_since_edition_N.csv`` lists every changed figure. The folder is handled through
directory descriptors (``folder``): links anywhere under it and a folder writable by others
are refused, and no file is ever half-written.

Everything is read through functions and views granted to ``triage_reader``.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from pathlib import Path

import asyncpg

from ingest.analytics.export import AnalyticsError, analytics_errors
from ingest.analytics.publication.files import (
    NATIONAL_COLUMNS,
    PRACTICE_COLUMNS,
    Change,
    changes,
    changes_csv,
    month_bounds,
    national_row,
    practice_rows,
    to_csv,
)
from ingest.analytics.publication.folder import PublicationFolder
from ingest.analytics.publication.quality import Note, quality_notes
from ingest.analytics.publication.readme import readme
from ingest.analytics.publication.summary_page import summary_page
from ingest.analytics.publication.time_bands import (
    BAND_FIELDS,
    TIME_BAND_COLUMNS,
    DayBands,
    time_band_rows,
)
from ingest.analytics.publication.workbook import workbook
from ingest.db.queries import queries

EDITION_FILE = "edition.json"
DATA_FILES = ("practices.csv", "national.csv", "time_bands.csv")
WINDOW_MONTHS = 18
SQL = queries("ingest.analytics.publication")


@dataclass(frozen=True, slots=True)
class MonthFiles:
    """A month's publication: its data files (name -> CSV text) and the rows behind them."""

    month: str
    data: dict[str, str]
    practices: list[dict[str, str]] = field(default_factory=list)
    national: list[dict[str, str]] = field(default_factory=list)  # newest month last
    time_bands: list[dict[str, str]] = field(default_factory=list)
    notes: list[Note] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Edition:
    """What ``write_edition`` did."""

    number: int
    created: bool  # False: the same content as the current edition, nothing written
    changed_figures: int | None  # None on a first edition


@dataclass(frozen=True, slots=True)
class Published:
    """The edition a folder holds now (``previous_edition``)."""

    number: int
    published_at: dt.datetime


async def submissions_by_day_and_band(
    conn: asyncpg.Connection, first: dt.date
) -> dict[dt.date, DayBands]:
    """Each day's submissions of the practices included, by submission time band (Table
    3's input): schema v3's nine band columns, and those without times (null bands)."""
    rows = await conn.fetch(SQL["publication_time_bands"], first)
    return {
        r["activity_date"]: DayBands(tuple(int(r[f]) for f in BAND_FIELDS), int(r["without_times"]))
        for r in rows
    }


async def collect_month(
    conn: asyncpg.Connection, month: str, since: Published | None = None
) -> MonthFiles:
    """The month's figures and its window, read in one consistent snapshot (as
    triage_reader); ``since``: the edition the folder holds (for restatement notes)."""
    first, _ = month_bounds(month)
    with analytics_errors():
        async with conn.transaction(isolation="repeatable_read", readonly=True):
            months = [
                m for (m,) in await conn.fetch(SQL["publication_months"], first, WINDOW_MONTHS)
            ]
            national = []
            practices: list[dict[str, str]] = []
            for m in months:
                label = f"{m:%Y-%m}"
                if m == first:
                    rows = await conn.fetch(SQL["publication_practices"], first)
                    practices = practice_rows(label, rows)
                else:  # only the national figures: no names, PCNs or boundaries
                    rows = await conn.fetch(SQL["publication_base"], m)
                national.append(national_row(label, rows))
            bands = time_band_rows(month, await submissions_by_day_and_band(conn, first))
            suppliers = await conn.fetch(
                SQL["publication_suppliers"],
                first,
                since.published_at if since else None,
            )
    notes = quality_notes(month, suppliers, since.number if since else None)
    data = {
        "practices.csv": to_csv(PRACTICE_COLUMNS, practices),
        "national.csv": to_csv(NATIONAL_COLUMNS, national),
        "time_bands.csv": to_csv(TIME_BAND_COLUMNS, bands),
    }
    return MonthFiles(month, data, practices, national, bands, notes)


def _current_edition(folder: PublicationFolder, month: str | None) -> Published | None:
    if not folder.exists(EDITION_FILE):
        if folder.names():
            raise AnalyticsError(
                f"{folder.shown} is not empty and holds no publication; use a new folder"
            )
        return None
    try:
        meta = json.loads(folder.read(EDITION_FILE).decode("utf-8"))
        held, number = str(meta["month"]), int(meta["edition"])
        published_at = dt.datetime.fromisoformat(str(meta["published_at"]))
    except (ValueError, KeyError, TypeError) as exc:
        raise AnalyticsError(f"{folder.shown}/{EDITION_FILE} cannot be read ({exc})") from exc
    if month is not None and held != month:
        raise AnalyticsError(
            f"{folder.shown} holds the {held} publication; publish {month} elsewhere"
        )
    return Published(number, published_at)


def previous_edition(out: Path, month: str) -> Published | None:
    """The edition ``out`` holds of ``month`` (None: a new or absent folder); the same
    refusals as ``write_edition`` (links, a folder others may write, another month)."""
    if not out.exists() and not out.is_symlink():
        return None
    with PublicationFolder.open(out) as folder:
        return _current_edition(folder, month)


def write_edition(out: Path, month_files: MonthFiles, now: dt.datetime) -> Edition:
    """Write ``month_files`` into ``out`` as its next edition (see the module docstring)."""
    with PublicationFolder.open(out) as folder:
        return _write_edition(folder, month_files, now)


def _write_edition(folder: PublicationFolder, month_files: MonthFiles, now: dt.datetime) -> Edition:
    held = _current_edition(folder, month_files.month)
    current = held.number if held else 0
    found: list[Change] | None = None
    if current:
        previous = {
            name: folder.read(name).decode("utf-8") if folder.exists(name) else ""
            for name in DATA_FILES
        }
        if previous == month_files.data:
            return Edition(current, False, None)
        found = [
            c for name in DATA_FILES for c in changes(name, previous[name], month_files.data[name])
        ]
        with (
            folder.subfolder("editions") as editions,
            editions.subfolder(f"edition-{current}") as archive,
        ):
            for name in folder.names():
                if name == EDITION_FILE or name.endswith((".csv", ".md", ".xlsx", ".html")):
                    if name.startswith("changes_since_edition_"):
                        folder.move_to(name, archive)
                    else:
                        archive.write(name, folder.read(name))
        folder.write(f"changes_since_edition_{current}.csv", changes_csv(found).encode("utf-8"))
    number = current + 1
    for name, text in month_files.data.items():
        folder.write(name, text.encode("utf-8"))
    folder.write("publication.xlsx", workbook(month_files, number, now))
    folder.write("index.html", summary_page(month_files, number, now, found).encode("utf-8"))
    folder.write("README.md", readme(month_files, number, now, found).encode("utf-8"))
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
    return Edition(number, True, None if found is None else len(found))
