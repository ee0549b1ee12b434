"""Exports of the boundary-consistent daily series as CSV, streamed with COPY TO STDOUT.

The query is built here (pure); the rows never pass through Python as objects: Postgres
formats the CSV and asyncpg hands over the COPY data chunk by chunk to a writer, so memory
stays constant whatever the date range. The export runs in one read-only, repeatable-read
transaction (a consistent snapshot) with ``DateStyle`` ISO so dates are ``YYYY-MM-DD``.

Only the ``triage.practice_period`` / ``triage.area_period`` functions are used, which
``triage_reader`` may EXECUTE: an analyst can export with their own login role.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from enum import StrEnum

import asyncpg

from ingest.contract.model import BAND_FIELDS
from ingest.db.connection import MISSING_SCHEMA_ERRORS
from ingest.db.queries import queries
from ingest.errors import IngestError


class AnalyticsError(IngestError):
    """An export could not be produced."""


class Level(StrEnum):
    """Aggregation level of an export (``ingest export --by``)."""

    PRACTICE = "practice"
    SUB_ICB = "sub-icb"
    ICB = "icb"
    NATIONAL = "national"


class Period(StrEnum):
    """What one export row sums (``ingest export --period``): a day, an ISO week, a month."""

    DAY = "day"
    WEEK = "week"
    MONTH = "month"


# Completeness and rate columns added in v1.1 (appended: the columns before them keep their
# names and meaning). Rules: migration 0031_period_exports.sql and docs/analytics.md.
_PRACTICE_COMPLETENESS = (
    "days_in_period",
    "days_reporting",
    "list_size_extract_date",
    "requests_per_1000_per_day",
)
_AREA_COMPLETENESS = (
    "days_in_period",
    "practices_reporting",
    "practices_expected",
    "practice_days_reporting",
    "practice_days_expected",
    "expected_basis",
    "list_size_extract_from",
    "list_size_extract_to",
    "requests_per_1000_per_day",
)

# The CSV columns of each level for --period day, in order (part of the export's interface:
# add, never rename). For week and month, activity_date becomes period_start, period_end.
EXPORT_COLUMNS: dict[Level, tuple[str, ...]] = {
    Level.PRACTICE: (
        "activity_date",
        "practice_code",
        "practice_name",
        "sub_icb_code",
        "sub_icb_name",
        "icb_code",
        "icb_name",
        "mapping_basis",
        "suppliers",
        "total_requests",
        "clinical_requests",
        "admin_requests",
        "other_requests",
        "registered_patients",
        "requests_per_1000",
        *_PRACTICE_COMPLETENESS,
    ),
    Level.SUB_ICB: (
        "activity_date",
        "sub_icb_code",
        "sub_icb_name",
        "icb_code",
        "icb_name",
        "practices",
        "total_requests",
        "clinical_requests",
        "admin_requests",
        "other_requests",
        "practices_with_list_size",
        "registered_patients",
        "requests_per_1000",
        *_AREA_COMPLETENESS,
    ),
    Level.ICB: (
        "activity_date",
        "icb_code",
        "icb_name",
        "sub_icbs",
        "practices",
        "total_requests",
        "clinical_requests",
        "admin_requests",
        "other_requests",
        "practices_with_list_size",
        "registered_patients",
        "requests_per_1000",
        *_AREA_COMPLETENESS,
    ),
    Level.NATIONAL: (
        "activity_date",
        "practices",
        "total_requests",
        "clinical_requests",
        "admin_requests",
        "other_requests",
        "practices_with_list_size",
        "registered_patients",
        "requests_per_1000",
        *_AREA_COMPLETENESS,
    ),
}

SQL = queries("ingest.analytics")

_SOURCES: dict[Level, tuple[str, str]] = {
    # level -> (function call, ORDER BY after the period)
    Level.PRACTICE: ("triage.practice_period($1, $2, $3, $4)", "practice_code"),
    Level.SUB_ICB: ("triage.area_period($1, $2, $3, 'sub_icb', $4)", "sub_icb_code NULLS LAST"),
    Level.ICB: ("triage.area_period($1, $2, $3, 'icb', $4)", "icb_code NULLS LAST"),
    Level.NATIONAL: ("triage.area_period($1, $2, $3, 'national', $4)", ""),
}


# ``--by-band``: submissions by UK local time of day (schema v3's nine time bands), appended
# after the level's columns. Each band sums what suppliers sent in it; requests_time_unknown
# is what they sent as "time not known"; requests_time_not_reported is the total of the
# practice-days sent without bands (every v1 and v2 event, and v3 events with null bands). The
# ten sum to total_requests; NHS England's Table 3 "Unknown" is the last two together.
BAND_EXPORT_COLUMNS: tuple[str, ...] = (*BAND_FIELDS, "requests_time_not_reported")
# The column of each level's rows that names its area (None: one row per period).
_UNIT_COLUMNS: dict[Level, str | None] = {
    Level.PRACTICE: "practice_code",
    Level.SUB_ICB: "sub_icb_code",
    Level.ICB: "icb_code",
    Level.NATIONAL: None,
}


def export_columns(
    level: Level, period: Period = Period.DAY, by_band: bool = False
) -> tuple[str, ...]:
    """The CSV header of an export."""
    columns = EXPORT_COLUMNS[level]
    if period is not Period.DAY:
        columns = ("period_start", "period_end", *columns[1:])
    return (*columns, *BAND_EXPORT_COLUMNS) if by_band else columns


@dataclass(frozen=True, slots=True)
class ExportRequest:
    """What to export; ``vintage`` is the boundary date the whole series is attributed under."""

    level: Level
    start: dt.date
    end: dt.date
    vintage: dt.date
    period: Period = Period.DAY
    by_band: bool = False

    def __post_init__(self) -> None:
        if self.end < self.start:
            raise AnalyticsError(f"--to {self.end} is before --from {self.start}")


@dataclass(frozen=True, slots=True)
class ExportStats:
    """What an export produced: data rows (header excluded), bytes and COPY chunks written."""

    rows: int
    bytes: int
    chunks: int
    largest_chunk: int


# Text that comes from reference files: made safe for spreadsheets (triage.csv_text, 0032).
_NAME_COLUMNS = frozenset({"practice_name", "sub_icb_name", "icb_name"})


def _select_item(column: str) -> str:
    if column == "activity_date":
        return "period_start AS activity_date"
    if column in _NAME_COLUMNS:
        return f"triage.csv_text({column}) AS {column}"
    return column


def export_query(request: ExportRequest) -> tuple[str, tuple[dt.date | str, ...]]:
    """The SELECT (with $n parameters) behind an export, and its arguments."""
    source, order = _SOURCES[request.level]
    columns = ", ".join(_select_item(c) for c in export_columns(request.level, request.period))
    ordering = ", ".join(part for part in ("period_start", order) if part)
    args = (request.start, request.end, request.period.value, request.vintage)
    if not request.by_band:
        return SQL["export"].format(columns=columns, source=source, ordering=ordering), args
    query = SQL["export_by_band"].format(
        columns=columns,
        source=source,
        ordering=ordering,
        band_sums=_band_sums(),
        band_columns=", ".join(f"b.{c}" for c in BAND_EXPORT_COLUMNS),
        band_items=", ".join(f"coalesce(bu.{c}, 0) AS {c}" for c in BAND_EXPORT_COLUMNS),
        **_band_totals(request.level),
    )
    return query, args


def _band_sums() -> str:
    """The band sums of one practice and period (the total of rows without bands too)."""
    return ",\n".join(
        [
            *(f"        coalesce(sum(r.{b}), 0)::bigint AS {b}" for b in BAND_FIELDS),
            "        coalesce(sum(r.total_requests) FILTER (WHERE r.requests_00_06 IS NULL), 0)"
            "::bigint AS requests_time_not_reported",
        ]
    )


def _band_totals(level: Level) -> dict[str, str]:
    """The band sums of each export row's period and area, grouped to the row's level, and
    how a row finds its own."""
    unit = _UNIT_COLUMNS[level]
    area = {"practice_code": "b_practice", "sub_icb_code": "b_sub_icb", "icb_code": "b_icb"}
    sums = ", ".join(f"sum({c})::bigint AS {c}" for c in BAND_EXPORT_COLUMNS)
    if unit is None:
        return {"band_totals": SQL["band_totals"].format(sums=sums), "area_match": ""}
    return {
        "band_totals": SQL["band_totals_by_area"].format(sums=sums, area=area[unit]),
        "area_match": f" AND bu.b_unit IS NOT DISTINCT FROM e.{unit}",
    }


Writer = Callable[[bytes], Awaitable[None]]


@contextlib.contextmanager
def analytics_errors() -> Iterator[None]:
    """The Postgres errors an analyst can act on, as one AnalyticsError line each."""
    try:
        yield
    except MISSING_SCHEMA_ERRORS as exc:
        raise AnalyticsError(
            f"the analytics functions are missing ({exc}); apply the migrations first"
        ) from exc
    except asyncpg.InsufficientPrivilegeError as exc:
        raise AnalyticsError(
            f"permission denied ({exc}); connect as a member of triage_reader"
        ) from exc


async def export_csv(
    conn: asyncpg.Connection, request: ExportRequest, write: Writer
) -> ExportStats:
    """Stream the export as CSV (header row first) to ``write``, one COPY chunk per call."""
    query, args = export_query(request)
    total = chunks = largest = 0

    async def sink(chunk: bytes) -> None:
        nonlocal total, chunks, largest
        total += len(chunk)
        chunks += 1
        largest = max(largest, len(chunk))
        await write(chunk)

    with analytics_errors():
        async with conn.transaction(isolation="repeatable_read", readonly=True):
            await conn.execute(SQL["iso_dates"])
            status: str = await conn.copy_from_query(
                query, *args, output=sink, format="csv", header=True
            )
    return ExportStats(int(status.rsplit(maxsplit=1)[-1]), total, chunks, largest)
