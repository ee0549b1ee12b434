"""The status page ``/`` for people: server-rendered HTML with an inline SVG heat map (pure).

This module shapes a :class:`StatusSnapshot` into the context of the Jinja2 template
``ingest/web/templates/status_page.html.j2`` (autoescaped; shared stylesheet and SVG chart
helper in ingest/web). Self-contained: inline CSS, inline SVG, no script, no font, image or
stylesheet from anywhere. Every colour is doubled by text (status words, counts in tooltips
and cells' titles) so the page reads without colour too.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

from ingest.contract.model import FreshnessStatus
from ingest.durations import format_duration
from ingest.ops.freshness import (
    CoverageLevel,
    RosterCoverage,
    StatusSnapshot,
    SupplierFreshness,
    coverage_level,
    severity,
    usual_practices,
    worst,
)
from ingest.ops.metrics import UNKNOWN
from ingest.ops.volume import VolumeAssessment
from ingest.web.charts import HeatCell, SvgChart, heat_map
from ingest.web.templates import render_page

VOLUME_MIN_WEEKS = 4  # same weekdays of history before a day is assessed (migration 0043)

REFRESH_SECONDS = 60
MAX_CODES_SHOWN = 12

STATUS_COLOURS: dict[FreshnessStatus, str] = {
    FreshnessStatus.OK: "#1e7b34",
    FreshnessStatus.LATE: "#b35c00",
    FreshnessStatus.SILENT: "#c4161c",
    FreshnessStatus.NEVER_REPORTED: "#5f6b7a",
}
STATUS_WORDS: dict[FreshnessStatus, str] = {
    FreshnessStatus.OK: "ok",
    FreshnessStatus.LATE: "late",
    FreshnessStatus.SILENT: "silent",
    FreshnessStatus.NEVER_REPORTED: "never reported",
}
LEVEL_COLOURS: dict[CoverageLevel, str] = {
    CoverageLevel.NONE: "#d93b3b",
    CoverageLevel.LOW: "#f08c3a",
    CoverageLevel.PARTIAL: "#f5d04a",
    CoverageLevel.FULL: "#2e9b4f",
    CoverageLevel.NOT_DUE: "#e6e9ee",
}
LEVEL_WORDS: dict[CoverageLevel, str] = {
    CoverageLevel.NONE: "nothing reported",
    CoverageLevel.LOW: "under half the usual practices",
    CoverageLevel.PARTIAL: "half to 90% of the usual practices",
    CoverageLevel.FULL: "90% or more of the usual practices",
    CoverageLevel.NOT_DUE: "not due yet",
}


@dataclass(frozen=True, slots=True)
class SupplierRow:
    """One supplier's row of the table, as text (the template escapes it)."""

    supplier_id: str
    name: str
    status: FreshnessStatus
    last_event: str | None
    ago: str
    latest_day: str | None
    warn_after: str
    error_after: str
    stored_events: int
    rejections: tuple[tuple[str, int], ...]
    missing: tuple[str, ...]
    coverage: str | None = None  # with a roster: installed / participating / reporting
    volume: str | None = None  # the latest day against the same weekday of previous weeks
    volume_flagged: bool = False


def render_status_page(snapshot: StatusSnapshot, timezone: str = "Europe/London") -> str:
    """The whole page as one HTML document."""
    return render_page("status_page.html.j2", **status_page_context(snapshot, timezone))


def status_page_context(snapshot: StatusSnapshot, timezone: str) -> dict[str, Any]:
    """What the template shows, worst supplier first."""
    zone = ZoneInfo(timezone)
    suppliers = sorted(snapshot.suppliers, key=lambda s: (-severity(s.status), s.supplier_id))
    overall = worst(s.status for s in suppliers) if suppliers else None
    unattributed = snapshot.activity.get(UNKNOWN)
    return {
        "title": f"Triage ingestion: {STATUS_WORDS[overall]}" if overall else "Triage ingestion",
        "heading": "Supplier feeds: ingestion status",
        "body_class": "",
        "as_of": _when(snapshot.now, zone),
        "refresh_seconds": REFRESH_SECONDS,
        "favicon": _favicon(overall),
        "database_error": snapshot.database_error,
        "status_colours": STATUS_COLOURS,
        "status_words": STATUS_WORDS,
        "counts": [
            (status, sum(1 for s in suppliers if s.status is status)) for status in STATUS_WORDS
        ],
        "rows": [_supplier_row(snapshot, s, zone) for s in suppliers],
        "max_codes_shown": MAX_CODES_SHOWN,
        "unattributed": _by_count(unattributed.rejections) if unattributed else (),
        "heat_map": _heat_map(snapshot, [s.supplier_id for s in suppliers]),
        "heat_map_days": len(snapshot.days),
        "legend": [(LEVEL_COLOURS[level], LEVEL_WORDS[level]) for level in CoverageLevel],
    }


def _supplier_row(snapshot: StatusSnapshot, s: SupplierFreshness, zone: ZoneInfo) -> SupplierRow:
    activity = snapshot.activity_of(s.supplier_id)
    return SupplierRow(
        supplier_id=s.supplier_id,
        name=s.name,
        status=s.status,
        last_event=_when(s.last_event_at, zone) if s.last_event_at is not None else None,
        ago=_ago(s.age(snapshot.now)),
        latest_day=(
            s.latest_activity_date.isoformat() if s.latest_activity_date is not None else None
        ),
        warn_after=format_duration(s.warn_after),
        error_after=format_duration(s.error_after),
        stored_events=activity.stored_events,
        rejections=_by_count(activity.rejections),
        missing=tuple(snapshot.missing.get(s.supplier_id, ())),
        coverage=_roster_text(snapshot.roster.get(s.supplier_id)),
        volume=_volume_text(snapshot.volume.get(s.supplier_id)),
        volume_flagged=bool((v := snapshot.volume.get(s.supplier_id)) and v.flagged),
    )


def _roster_text(coverage: RosterCoverage | None) -> str | None:
    if coverage is None:
        return None
    participating = (
        "" if coverage.participating is None else f", {coverage.participating} participating"
    )
    return (
        f"{coverage.installed} installed{participating}, {coverage.reporting} reporting"
        f" on {coverage.day.isoformat()}"
    )


def _volume_text(volume: VolumeAssessment | None) -> str | None:
    if volume is None:
        return None
    if volume.weeks < VOLUME_MIN_WEEKS or volume.change is None:
        return f"{volume.weeks} weeks of history: not assessed yet"
    verdict = f"flagged {volume.direction}" if volume.flagged else "in line"
    return (
        f"{volume.change:+.1%} against the median of {volume.weeks} same weekdays"
        f" ({volume.total_requests:,} vs {volume.baseline_median or 0:,.0f}): {verdict}"
    )


def _by_count(by_reason: Mapping[str, int]) -> tuple[tuple[str, int], ...]:
    return tuple(sorted(by_reason.items(), key=lambda kv: (-kv[1], kv[0])))


def _favicon(status: FreshnessStatus | None) -> str:
    """A traffic-light dot of the overall status, inline (no request for /favicon.ico)."""
    colour = STATUS_COLOURS[status] if status is not None else "#5f6b7a"
    svg = (
        "<svg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 16 16'>"
        f"<circle cx='8' cy='8' r='7' fill='{colour}'/></svg>"
    )
    return "data:image/svg+xml," + quote(svg)


def _when(moment: dt.datetime, zone: ZoneInfo) -> str:
    return moment.astimezone(zone).strftime("%Y-%m-%d %H:%M:%S %Z")


def _ago(age: dt.timedelta | None) -> str:
    if age is None:
        return ""
    seconds = int(age.total_seconds())
    if seconds < 0:
        return "just now"
    if seconds < 60:
        return f"{seconds} s ago"
    minutes = seconds // 60
    if minutes < 120:
        return f"{minutes} min ago"
    hours, minutes = divmod(minutes, 60)
    if hours < 72:
        return f"{hours} h {minutes:02d} min ago"
    return f"{hours // 24} days {hours % 24} h ago"


def _heat_map(snapshot: StatusSnapshot, supplier_ids: Sequence[str]) -> SvgChart | None:
    days = list(snapshot.days)
    if not supplier_ids or not days:
        return None
    return heat_map_chart(snapshot, supplier_ids, days)


def heat_map_chart(
    snapshot: StatusSnapshot, supplier_ids: Iterable[str], days: Sequence[dt.date]
) -> SvgChart:
    """One row per supplier, one column per day, coloured by coverage level.

    A supplier that never reported has nothing due yet: its row is grey, not red.
    """
    ids = list(supplier_ids)
    never = {
        s.supplier_id for s in snapshot.suppliers if s.status is FreshnessStatus.NEVER_REPORTED
    }
    rows: list[list[HeatCell]] = []
    for supplier in ids:
        counts = [snapshot.coverage.get((supplier, d), 0) for d in days]
        usual = usual_practices(counts)
        row = []
        for day, n in zip(days, counts, strict=True):
            level = coverage_level(n, usual, due=day < snapshot.today and supplier not in never)
            row.append(
                HeatCell(
                    fill=LEVEL_COLOURS[level],
                    title=f"{supplier} {day.isoformat()}: {n} practices ({LEVEL_WORDS[level]})",
                    css_class=f"cell level-{level.name.lower()}",
                    data=(("supplier", supplier), ("day", day.isoformat()), ("practices", str(n))),
                )
            )
        rows.append(row)
    columns = [
        day.strftime("%d %b") if col in (0, len(days) - 1) or day.weekday() == 0 else None
        for col, day in enumerate(days)
    ]
    return heat_map(
        ids,
        columns,
        rows,
        label="Coverage heat map of practices reported per supplier and day",
        element_id="coverage",
    )
