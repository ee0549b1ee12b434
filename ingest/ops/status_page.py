"""The status page ``/`` for people: server-rendered HTML with an inline SVG heat map (pure).

Self-contained: inline CSS, inline SVG, no script, no font, image or stylesheet from
anywhere. Every colour is doubled by text (status words, counts in tooltips and cells'
titles) so the page reads without colour too.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from html import escape
from urllib.parse import quote
from zoneinfo import ZoneInfo

from ingest.contract.model import FreshnessStatus
from ingest.durations import format_duration
from ingest.ops.freshness import (
    CoverageLevel,
    StatusSnapshot,
    SupplierFreshness,
    coverage_level,
    severity,
    usual_practices,
    worst,
)
from ingest.ops.metrics import UNKNOWN

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

_CSS = """
:root { color-scheme: light; }
* { box-sizing: border-box; }
body { margin: 0; font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, Arial,
       sans-serif; color: #1d2430; background: #f4f6f9; }
header { background: #1d2d44; color: #fff; padding: 16px 28px; }
header h1 { margin: 0; font-size: 22px; font-weight: 600; }
header p { margin: 4px 0 0; color: #c9d3e0; }
main { padding: 20px 28px 40px; max-width: 1400px; }
section { background: #fff; border: 1px solid #dde3ea; border-radius: 8px; padding: 16px 20px;
          margin-bottom: 20px; }
h2 { font-size: 17px; margin: 0 0 12px; }
.summary { display: flex; gap: 12px; flex-wrap: wrap; margin-bottom: 20px; }
.tile { background: #fff; border: 1px solid #dde3ea; border-radius: 8px; padding: 10px 16px;
        min-width: 150px; }
.tile .n { font-size: 26px; font-weight: 700; }
.banner { background: #fdecea; border: 1px solid #c4161c; color: #7a0c10; padding: 10px 16px;
          border-radius: 8px; margin-bottom: 20px; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; padding: 8px 10px; border-bottom: 1px solid #e7ebf0;
         vertical-align: top; }
th { font-size: 13px; color: #4a5668; font-weight: 600; background: #f8fafc; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
.badge { display: inline-flex; align-items: center; gap: 7px; font-weight: 600;
         white-space: nowrap; }
.dot { width: 14px; height: 14px; border-radius: 50%; display: inline-block;
       box-shadow: 0 0 0 2px rgba(0,0,0,.08); }
.muted { color: #6b7687; }
.small { font-size: 13px; }
code { font: 13px/1.3 ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; }
ul.reasons { margin: 0; padding: 0; list-style: none; }
.legend { display: flex; gap: 16px; flex-wrap: wrap; margin-top: 10px; font-size: 13px; }
.legend span.sw { width: 14px; height: 14px; display: inline-block; border-radius: 3px;
                  vertical-align: -2px; margin-right: 5px; border: 1px solid rgba(0,0,0,.1); }
footer { color: #6b7687; font-size: 13px; }
"""


def render_status_page(snapshot: StatusSnapshot, timezone: str = "Europe/London") -> str:
    """The whole page as one HTML document."""
    zone = ZoneInfo(timezone)
    suppliers = sorted(snapshot.suppliers, key=lambda s: (-severity(s.status), s.supplier_id))
    overall = worst(s.status for s in suppliers)
    title = f"Triage ingestion: {STATUS_WORDS[overall]}" if suppliers else "Triage ingestion"
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f'<meta http-equiv="refresh" content="{REFRESH_SECONDS}">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{escape(title)}</title>",
        f'<link rel="icon" href="{_favicon(overall if suppliers else None)}">',
        f"<style>{_CSS}</style></head><body>",
        "<header><h1>Supplier feeds: ingestion status</h1>",
        f"<p>As of {escape(_when(snapshot.now, zone))}; refreshes every"
        f" {REFRESH_SECONDS} s.</p></header><main>",
    ]
    if snapshot.database_error:
        parts.append(
            '<div class="banner" role="alert"><strong>Postgres is unreachable:</strong> the'
            " statuses below are the last ones read, re-evaluated now; activity, missing"
            f" practices and coverage are unavailable. <code>{escape(snapshot.database_error)}"
            "</code></div>"
        )
    parts.append(_summary(suppliers))
    parts.append(_supplier_table(snapshot, suppliers, zone))
    parts.append(_unattributed(snapshot))
    parts.append(_heat_map_section(snapshot, [s.supplier_id for s in suppliers]))
    parts.append(
        "<footer>Statuses: ok while the latest valid event is at most <em>warn after</em> old,"
        " late up to <em>error after</em>, silent beyond; never reported until a first valid"
        ' event. Machine-readable: <a href="/metrics">/metrics</a>,'
        ' <a href="/healthz">/healthz</a>, <a href="/readyz">/readyz</a>.</footer>'
    )
    parts.append("</main></body></html>")
    return "\n".join(parts)


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


def _badge(status: FreshnessStatus) -> str:
    return (
        f'<span class="badge status-{status.value}" data-status="{status.value}">'
        f'<span class="dot" style="background:{STATUS_COLOURS[status]}"></span>'
        f"{STATUS_WORDS[status]}</span>"
    )


def _summary(suppliers: Sequence[SupplierFreshness]) -> str:
    tiles = []
    for status in (
        FreshnessStatus.OK,
        FreshnessStatus.LATE,
        FreshnessStatus.SILENT,
        FreshnessStatus.NEVER_REPORTED,
    ):
        n = sum(1 for s in suppliers if s.status is status)
        tiles.append(
            f'<div class="tile" id="count-{status.value}">{_badge(status)}'
            f'<div class="n">{n}</div></div>'
        )
    return f'<div class="summary">{"".join(tiles)}</div>'


def _supplier_table(
    snapshot: StatusSnapshot, suppliers: Sequence[SupplierFreshness], zone: ZoneInfo
) -> str:
    if not suppliers:
        return (
            "<section><h2>Suppliers</h2><p>No active supplier is registered"
            " (<code>ingest suppliers add</code>).</p></section>"
        )
    rows = []
    for s in suppliers:
        activity = snapshot.activity_of(s.supplier_id)
        last = (
            f"{escape(_when(s.last_event_at, zone))}<br>"
            f'<span class="muted small">{_ago(s.age(snapshot.now))}</span>'
            if s.last_event_at is not None
            else '<span class="muted">never</span>'
        )
        latest = (
            s.latest_activity_date.isoformat()
            if s.latest_activity_date is not None
            else '<span class="muted">none</span>'
        )
        rows.append(
            f'<tr id="supplier-{escape(s.supplier_id)}" data-status="{s.status.value}">'
            f"<td>{_badge(s.status)}</td>"
            f"<td><strong>{escape(s.supplier_id)}</strong><br>"
            f'<span class="muted small">{escape(s.name)}</span></td>'
            f"<td>{last}</td><td>{latest}</td>"
            f'<td class="small">late after {format_duration(s.warn_after)}<br>'
            f"silent after {format_duration(s.error_after)}</td>"
            f'<td class="num">{activity.stored_events}</td>'
            f"<td>{_rejections(activity.rejections)}</td>"
            f"<td>{_missing(snapshot.missing.get(s.supplier_id, ()))}</td></tr>"
        )
    return (
        '<section><h2>Suppliers</h2><table id="suppliers"><thead><tr>'
        "<th>Status</th><th>Supplier</th><th>Last valid event</th><th>Latest day reported</th>"
        "<th>Thresholds</th><th>Events stored (24 h)</th><th>Rejections (24 h)</th>"
        "<th>Missing practices</th></tr></thead><tbody>"
        + "".join(rows)
        + "</tbody></table></section>"
    )


def _rejections(by_reason: Mapping[str, int]) -> str:
    items = sorted(by_reason.items(), key=lambda kv: (-kv[1], kv[0]))
    if not items:
        return '<span class="muted">none</span>'
    lines = "".join(f"<li><code>{escape(r)}</code>: {n}</li>" for r, n in items)
    return f'<strong>{sum(n for _, n in items)}</strong><ul class="reasons small">{lines}</ul>'


def _missing(codes: Sequence[str]) -> str:
    if not codes:
        return '<span class="muted">none</span>'
    shown = ", ".join(f"<code>{escape(c)}</code>" for c in codes[:MAX_CODES_SHOWN])
    more = len(codes) - MAX_CODES_SHOWN
    extra = f" and {more} more" if more > 0 else ""
    return (
        f'<strong class="missing-count">{len(codes)}</strong><br>'
        f'<span class="small">{shown}{extra}</span>'
    )


def _unattributed(snapshot: StatusSnapshot) -> str:
    activity = snapshot.activity.get(UNKNOWN)
    if activity is None or not activity.rejections:
        return ""
    return (
        '<section id="unattributed"><h2>Rejections not attributed to an active supplier'
        ' (24 h)</h2><p class="small muted">Records on unregistered topics, from'
        " deactivated suppliers or that could not be decoded far enough to tell.</p>"
        f"{_rejections(activity.rejections)}</section>"
    )


# --- heat map --------------------------------------------------------------------------

CELL = 22
GAP = 2
LABEL_WIDTH = 150
HEADER_HEIGHT = 52
RIGHT_MARGIN = 48  # room for the last, slanted day label


def _heat_map_section(snapshot: StatusSnapshot, supplier_ids: Sequence[str]) -> str:
    days = list(snapshot.days)
    if not supplier_ids or not days:
        return ""
    legend = "".join(
        f'<span><span class="sw" style="background:{LEVEL_COLOURS[level]}"></span>'
        f"{LEVEL_WORDS[level]}</span>"
        for level in CoverageLevel
    )
    return (
        "<section><h2>Coverage: practices reported per supplier and day (last"
        f" {len(days)} days)</h2>"
        f"{heat_map_svg(snapshot, supplier_ids, days)}"
        f'<div class="legend">{legend}</div>'
        "<p class=\"small muted\">Colour = the day's practice count against the supplier's"
        " highest count in the window; hover a cell for the figures. Today is not due until"
        " tomorrow's feed, nor anything from a supplier that never reported.</p></section>"
    )


def heat_map_svg(
    snapshot: StatusSnapshot, supplier_ids: Iterable[str], days: Sequence[dt.date]
) -> str:
    """Inline SVG: one row per supplier, one column per day, coloured by coverage level.

    A supplier that never reported has nothing due yet: its row is grey, not red.
    """
    ids = list(supplier_ids)
    never = {
        s.supplier_id for s in snapshot.suppliers if s.status is FreshnessStatus.NEVER_REPORTED
    }
    width = LABEL_WIDTH + len(days) * (CELL + GAP) + RIGHT_MARGIN
    height = HEADER_HEIGHT + len(ids) * (CELL + GAP)
    out = [
        f'<svg id="coverage" xmlns="http://www.w3.org/2000/svg" width="{width}"'
        f' height="{height}" viewBox="0 0 {width} {height}" role="img"'
        ' aria-label="Coverage heat map of practices reported per supplier and day"'
        ' font-family="system-ui, Arial, sans-serif" font-size="11">'
    ]
    for col, day in enumerate(days):
        x = LABEL_WIDTH + col * (CELL + GAP) + CELL / 2
        if col == 0 or col == len(days) - 1 or day.weekday() == 0:
            out.append(
                f'<text x="{x:.0f}" y="{HEADER_HEIGHT - 8}" text-anchor="start"'
                f' transform="rotate(-45 {x:.0f} {HEADER_HEIGHT - 8})"'
                f' fill="#4a5668">{day.strftime("%d %b")}</text>'
            )
    for row, supplier in enumerate(ids):
        y = HEADER_HEIGHT + row * (CELL + GAP)
        out.append(
            f'<text x="{LABEL_WIDTH - 8}" y="{y + CELL - 5}" text-anchor="end"'
            f' fill="#1d2430" font-size="12">{escape(supplier)}</text>'
        )
        counts = [snapshot.coverage.get((supplier, d), 0) for d in days]
        usual = usual_practices(counts)
        for col, (day, n) in enumerate(zip(days, counts, strict=True)):
            level = coverage_level(n, usual, due=day < snapshot.today and supplier not in never)
            x = LABEL_WIDTH + col * (CELL + GAP)
            out.append(
                f'<rect class="cell level-{level.name.lower()}" data-supplier="{escape(supplier)}"'
                f' data-day="{day.isoformat()}" data-practices="{n}" x="{x}" y="{y}"'
                f' width="{CELL}" height="{CELL}" rx="3" fill="{LEVEL_COLOURS[level]}">'
                f"<title>{escape(supplier)} {day.isoformat()}: {n} practices"
                f" ({LEVEL_WORDS[level]})</title></rect>"
            )
    out.append("</svg>")
    return "".join(out)
