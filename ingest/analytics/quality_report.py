"""A supplier's data-quality report: one self-contained HTML file, or Markdown for email.

``collect`` reads the figures from Postgres (needs the ingest role: it reads
``triage.rejected_events``); ``render_html`` / ``render_markdown`` are pure. The HTML has its
CSS inline and its chart as inline SVG: no scripts, no external assets, so it can be attached
to an email and opened anywhere.

Definitions (also printed in the report):

- period: the ``days`` activity dates ending today (in the service's time zone); rejections
  are those *received* since the period's first midnight.
- late: a practice-day whose first revision arrived more than the supplier's ``warn_after``
  after the end of the activity day.
- missing: a practice the supplier reported in the period or in the ``days`` before it, with
  no row on a day of the period up to the supplier's latest reported day (days after a
  practice's close date in the loaded practice reference are not counted).
- restatement rate: share of the period's practice-days with more than one stored revision.
"""

from __future__ import annotations

import datetime as dt
import html
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from zoneinfo import ZoneInfo

import asyncpg

from ingest.analytics.export import MISSING_SCHEMA_ERRORS
from ingest.contract.model import Reason, topic_for
from ingest.errors import IngestError

SAMPLES_PER_REASON = 3
MAX_MISSING_SHOWN = 100
VALUE_PREVIEW_BYTES = 48

REASON_HELP: dict[str, str] = {
    Reason.UNDECODABLE: "the record value is not Avro single-object or Confluent framed, or "
    "its body does not decode with the writer schema",
    Reason.UNKNOWN_SCHEMA: "the writer schema fingerprint or schema id is not a released "
    "version of uk.nhs.triage.DailyPracticeRequests",
    Reason.UNKNOWN_SUPPLIER: "supplier_id is not a registered supplier",
    Reason.SUPPLIER_MISMATCH: "supplier_id differs from the supplier the topic belongs to",
    Reason.INVALID_PRACTICE_CODE: "practice_code is not an ODS GP practice code (A12345)",
    Reason.ACTIVITY_DATE_OUT_OF_RANGE: "activity_date is after today (UK) or older than the "
    "accepted horizon",
    Reason.NEGATIVE_COUNT: "a count field is negative",
    Reason.INCONSISTENT_BREAKDOWN: "clinical + admin + other requests differ from total_requests",
    Reason.IMPLAUSIBLE_COUNT: "a count is above the plausibility cap",
    Reason.INVALID_REVISION: "revision is below 1",
    Reason.CONFLICTING_REVISION: "this practice-day and revision was already received with "
    "different figures; send a higher revision to restate",
}


class QualityReportError(IngestError):
    """The report could not be produced."""


class ReportFormat(StrEnum):
    HTML = "html"
    MARKDOWN = "md"


@dataclass(frozen=True, slots=True)
class RejectionSample:
    received_at: dt.datetime
    source_topic: str
    source_partition: int
    source_offset: int
    key: bytes | None
    value_head: bytes | None
    value_length: int | None
    detail: str


@dataclass(frozen=True, slots=True)
class ReasonSummary:
    reason: str
    count: int
    first_received: dt.datetime
    last_received: dt.datetime
    samples: tuple[RejectionSample, ...]


@dataclass(frozen=True, slots=True)
class DayVolume:
    activity_date: dt.date
    practices: int
    total_requests: int


@dataclass(frozen=True, slots=True)
class LateDay:
    activity_date: dt.date
    practices: int
    late_practices: int
    worst_delay: dt.timedelta


@dataclass(frozen=True, slots=True)
class MissingPractice:
    practice_code: str
    name: str | None
    close_date: dt.date | None
    days_missing: int
    first_missing: dt.date
    last_missing: dt.date
    last_reported: dt.date | None


@dataclass(frozen=True, slots=True)
class UnknownPractice:
    practice_code: str
    first_activity_date: dt.date
    last_activity_date: dt.date
    days_reported: int


@dataclass(frozen=True, slots=True)
class QualityData:
    supplier_id: str
    supplier_name: str
    period_start: dt.date
    period_end: dt.date
    generated_at: dt.datetime
    timezone: str
    warn_after: dt.timedelta
    practice_days: int
    restated_practice_days: int
    revisions_received: int
    rejected_total: int
    reasons: tuple[ReasonSummary, ...]
    volumes: tuple[DayVolume, ...]
    rejected_by_day: tuple[tuple[dt.date, int], ...]
    late_days: tuple[LateDay, ...]
    missing: tuple[MissingPractice, ...]
    unknown_practices: tuple[UnknownPractice, ...]

    @property
    def restatement_rate(self) -> float | None:
        return None if not self.practice_days else self.restated_practice_days / self.practice_days

    @property
    def rejection_rate(self) -> float | None:
        received = self.rejected_total + self.revisions_received
        return None if not received else self.rejected_total / received


# ---------------------------------------------------------------------------------------------
# Collection (the only I/O of this module)
# ---------------------------------------------------------------------------------------------

_REJECTED_BY_SUPPLIER = "(r.supplier_id = $1 OR r.source_topic = $2) AND r.received_at >= $3"


async def collect(
    conn: asyncpg.Connection,
    supplier_id: str,
    *,
    days: int = 30,
    timezone: str = "Europe/London",
    now: dt.datetime | None = None,
    samples_per_reason: int = SAMPLES_PER_REASON,
) -> QualityData:
    """Read everything the report shows, in one consistent snapshot."""
    try:
        return await _collect(
            conn,
            supplier_id,
            days=days,
            timezone=timezone,
            now=now,
            samples_per_reason=samples_per_reason,
        )
    except MISSING_SCHEMA_ERRORS as exc:
        raise QualityReportError(
            f"the triage tables are missing ({exc}); apply the migrations first"
        ) from exc
    except asyncpg.InsufficientPrivilegeError as exc:
        raise QualityReportError(
            f"permission denied ({exc}); the report needs the ingest role, not triage_reader"
        ) from exc


async def _collect(
    conn: asyncpg.Connection,
    supplier_id: str,
    *,
    days: int = 30,
    timezone: str = "Europe/London",
    now: dt.datetime | None = None,
    samples_per_reason: int = SAMPLES_PER_REASON,
) -> QualityData:
    if days < 1:
        raise QualityReportError("--days must be at least 1")
    tz = ZoneInfo(timezone)
    now = now or dt.datetime.now(dt.UTC)
    end = now.astimezone(tz).date()
    start = end - dt.timedelta(days=days - 1)
    since = dt.datetime.combine(start, dt.time(), tzinfo=tz)
    topic = topic_for(supplier_id)
    async with conn.transaction(isolation="repeatable_read", readonly=True):
        supplier = await conn.fetchrow(
            "SELECT supplier_id, name, warn_after FROM triage.suppliers WHERE supplier_id = $1",
            supplier_id,
        )
        if supplier is None:
            raise QualityReportError(f"supplier {supplier_id!r} is not registered")
        reason_rows = await conn.fetch(
            f"""SELECT r.reason, count(*)::integer AS n, min(r.received_at) AS first_at,
                       max(r.received_at) AS last_at
                FROM triage.rejected_events r WHERE {_REJECTED_BY_SUPPLIER}
                GROUP BY r.reason ORDER BY n DESC, r.reason""",
            supplier_id,
            topic,
            since,
        )
        sample_rows = await conn.fetch(
            f"""SELECT * FROM (
                    SELECT r.reason, r.received_at, r.source_topic, r.source_partition,
                           r.source_offset, r.key, substring(r.value FROM 1 FOR $4) AS value_head,
                           octet_length(r.value) AS value_length, r.detail,
                           row_number() OVER (PARTITION BY r.reason
                                              ORDER BY r.received_at DESC, r.rejected_id DESC)
                               AS rn
                    FROM triage.rejected_events r WHERE {_REJECTED_BY_SUPPLIER}) s
                WHERE s.rn <= $5 ORDER BY s.reason, s.rn""",
            supplier_id,
            topic,
            since,
            VALUE_PREVIEW_BYTES,
            samples_per_reason,
        )
        rejected_day_rows = await conn.fetch(
            f"""SELECT (r.received_at AT TIME ZONE $4)::date AS day, count(*)::integer AS n
                FROM triage.rejected_events r WHERE {_REJECTED_BY_SUPPLIER}
                GROUP BY 1 ORDER BY 1""",
            supplier_id,
            topic,
            since,
            timezone,
        )
        volume_rows = await conn.fetch(
            """SELECT g::date AS day, coalesce(v.practices, 0) AS practices,
                      coalesce(v.total, 0) AS total
               FROM generate_series($2::date, $3::date, interval '1 day') g
               LEFT JOIN (SELECT activity_date, count(*)::integer AS practices,
                                 sum(total_requests)::bigint AS total
                          FROM triage.daily_requests
                          WHERE supplier_id = $1 AND activity_date BETWEEN $2 AND $3
                          GROUP BY activity_date) v ON v.activity_date = g::date
               ORDER BY 1""",
            supplier_id,
            start,
            end,
        )
        restated = await conn.fetchrow(
            """SELECT count(*)::integer AS practice_days,
                      count(*) FILTER (WHERE n > 1)::integer AS restated
               FROM (SELECT count(*) AS n FROM triage.daily_request_revisions
                     WHERE supplier_id = $1 AND activity_date BETWEEN $2 AND $3
                     GROUP BY practice_code, activity_date) k""",
            supplier_id,
            start,
            end,
        )
        revisions_received = await conn.fetchval(
            "SELECT count(*)::integer FROM triage.daily_request_revisions "
            "WHERE supplier_id = $1 AND ingested_at >= $2",
            supplier_id,
            since,
        )
        late_rows = await conn.fetch(
            """WITH first AS (
                   SELECT activity_date, min(ingested_at) AS first_at,
                          ((activity_date + 1)::timestamp AT TIME ZONE $4) + $5::interval
                              AS deadline
                   FROM triage.daily_request_revisions
                   WHERE supplier_id = $1 AND activity_date BETWEEN $2 AND $3
                   GROUP BY practice_code, activity_date)
               SELECT activity_date, count(*)::integer AS practices,
                      count(*) FILTER (WHERE first_at > deadline)::integer AS late,
                      max(first_at - deadline) AS worst
               FROM first GROUP BY activity_date
               HAVING count(*) FILTER (WHERE first_at > deadline) > 0
               ORDER BY activity_date""",
            supplier_id,
            start,
            end,
            timezone,
            supplier["warn_after"],
        )
        missing_rows = await conn.fetch(
            """WITH last AS (
                   SELECT max(activity_date) AS day FROM triage.daily_requests
                   WHERE supplier_id = $1 AND activity_date BETWEEN $2 AND $3),
               expected AS (
                   SELECT DISTINCT practice_code FROM triage.daily_requests
                   WHERE supplier_id = $1 AND activity_date BETWEEN $2::date - $4::int AND $3),
               grid AS (
                   SELECT e.practice_code, g::date AS day
                   FROM expected e
                   CROSS JOIN last
                   CROSS JOIN generate_series($2::date, last.day, interval '1 day') g)
               SELECT g.practice_code, cp.name, cp.close_date,
                      count(*)::integer AS days_missing,
                      min(g.day) AS first_missing, max(g.day) AS last_missing,
                      (SELECT max(r2.activity_date) FROM triage.daily_requests r2
                       WHERE r2.supplier_id = $1 AND r2.practice_code = g.practice_code)
                          AS last_reported
               FROM grid g
               LEFT JOIN triage.current_practices cp ON cp.practice_code = g.practice_code
               WHERE (cp.close_date IS NULL OR g.day <= cp.close_date)
                 AND NOT EXISTS (SELECT 1 FROM triage.daily_requests r
                                 WHERE r.supplier_id = $1 AND r.practice_code = g.practice_code
                                   AND r.activity_date = g.day)
               GROUP BY g.practice_code, cp.name, cp.close_date
               ORDER BY days_missing DESC, g.practice_code""",
            supplier_id,
            start,
            end,
            days,
        )
        unknown_rows = await conn.fetch(
            "SELECT practice_code, first_activity_date, last_activity_date, days_reported "
            "FROM triage.unknown_practices WHERE supplier_id = $1 ORDER BY practice_code",
            supplier_id,
        )

    samples: dict[str, list[RejectionSample]] = {}
    for r in sample_rows:
        samples.setdefault(r["reason"], []).append(
            RejectionSample(
                r["received_at"],
                r["source_topic"],
                r["source_partition"],
                r["source_offset"],
                r["key"],
                r["value_head"],
                r["value_length"],
                r["detail"],
            )
        )
    assert restated is not None
    return QualityData(
        supplier_id=supplier["supplier_id"],
        supplier_name=supplier["name"],
        period_start=start,
        period_end=end,
        generated_at=now,
        timezone=timezone,
        warn_after=supplier["warn_after"],
        practice_days=restated["practice_days"],
        restated_practice_days=restated["restated"],
        revisions_received=revisions_received or 0,
        rejected_total=sum(r["n"] for r in reason_rows),
        reasons=tuple(
            ReasonSummary(
                r["reason"],
                r["n"],
                r["first_at"],
                r["last_at"],
                tuple(samples.get(r["reason"], ())),
            )
            for r in reason_rows
        ),
        volumes=tuple(DayVolume(r["day"], r["practices"], r["total"]) for r in volume_rows),
        rejected_by_day=tuple((r["day"], r["n"]) for r in rejected_day_rows),
        late_days=tuple(
            LateDay(r["activity_date"], r["practices"], r["late"], r["worst"]) for r in late_rows
        ),
        missing=tuple(
            MissingPractice(
                r["practice_code"],
                r["name"],
                r["close_date"],
                r["days_missing"],
                r["first_missing"],
                r["last_missing"],
                r["last_reported"],
            )
            for r in missing_rows
        ),
        unknown_practices=tuple(
            UnknownPractice(
                r["practice_code"],
                r["first_activity_date"],
                r["last_activity_date"],
                r["days_reported"],
            )
            for r in unknown_rows
        ),
    )


# ---------------------------------------------------------------------------------------------
# Formatting helpers (pure)
# ---------------------------------------------------------------------------------------------


def show_bytes(data: bytes | None) -> str:
    """Bytes for a human: the text when it is printable UTF-8, else spaced hex."""
    if data is None:
        return "(none)"
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        text = None
    if text is not None and text.isprintable():
        return text
    return data.hex(" ")


def _value_preview(sample: RejectionSample) -> str:
    if sample.value_head is None:
        return "(none)"
    more = (sample.value_length or 0) > len(sample.value_head)
    return f"{show_bytes(sample.value_head)}{' …' if more else ''} ({sample.value_length} bytes)"


def _pct(value: float | None) -> str:
    return "n/a" if value is None else f"{value * 100:.1f}%"


def _delay(delta: dt.timedelta) -> str:
    hours = delta.total_seconds() / 3600
    return f"{hours:.1f} h" if hours < 48 else f"{hours / 24:.1f} days"


def _ts(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def _nice_ceiling(value: int) -> int:
    """The smallest of 1, 2, 2.5, 5 x 10^k that is >= value (chart axis top)."""
    if value <= 0:
        return 1
    magnitude = 1
    while magnitude * 10 < value:
        magnitude *= 10
    for step in (1, 2, 2.5, 5, 10):
        top = int(step * magnitude)
        if top >= value:
            return top
    return magnitude * 10


def svg_chart(volumes: Sequence[DayVolume], width: int = 720, height: int = 220) -> str:
    """Inline SVG bar chart of daily total requests (no scripts, no external references)."""
    left, right, top, bottom = 56, 12, 16, 36
    plot_w, plot_h = width - left - right, height - top - bottom
    peak = _nice_ceiling(max((v.total_requests for v in volumes), default=0))
    n = max(len(volumes), 1)
    slot = plot_w / n
    bar_w = max(slot * 0.8, 1.0)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" '
        'aria-label="Daily total requests by activity date">',
        f'<rect x="0" y="0" width="{width}" height="{height}" fill="#fff"/>',
    ]
    for frac in (0.0, 0.5, 1.0):
        y = top + plot_h - frac * plot_h
        parts.append(
            f'<line x1="{left}" y1="{y:.1f}" x2="{width - right}" y2="{y:.1f}" '
            'stroke="#ddd" stroke-width="1"/>'
        )
        parts.append(
            f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end" font-size="11" '
            f'fill="#444">{int(peak * frac):,}</text>'
        )
    for i, v in enumerate(volumes):
        h = plot_h * v.total_requests / peak
        x = left + i * slot + (slot - bar_w) / 2
        colour = "#005eb8" if v.practices else "#d5281b"
        label = html.escape(
            f"{v.activity_date.isoformat()}: {v.total_requests:,} requests, {v.practices} practices"
        )
        parts.append(
            f'<rect x="{x:.1f}" y="{top + plot_h - h:.1f}" width="{bar_w:.1f}" '
            f'height="{max(h, 0.0):.1f}" fill="{colour}"><title>{label}</title></rect>'
        )
        if not v.practices:
            parts.append(
                f'<rect x="{x:.1f}" y="{top + plot_h - 3:.1f}" width="{bar_w:.1f}" height="3" '
                f'fill="{colour}"><title>{label}</title></rect>'
            )
    if volumes:
        for i in sorted({0, len(volumes) // 2, len(volumes) - 1}):
            x = left + i * slot + slot / 2
            parts.append(
                f'<text x="{x:.1f}" y="{height - 12}" text-anchor="middle" font-size="11" '
                f'fill="#444">{volumes[i].activity_date.isoformat()}</text>'
            )
    parts.append(
        f'<line x1="{left}" y1="{top + plot_h}" x2="{width - right}" y2="{top + plot_h}" '
        'stroke="#444" stroke-width="1"/>'
    )
    parts.append("</svg>")
    return "".join(parts)


def sparkline(values: Sequence[int]) -> str:
    """A one-line Unicode chart of ``values``."""
    blocks = "▁▂▃▄▅▆▇█"
    peak = max(values, default=0)
    if peak <= 0:
        return blocks[0] * len(values)
    return "".join(blocks[min(len(blocks) - 1, v * len(blocks) // (peak + 1))] for v in values)


def _summary_rows(data: QualityData) -> list[tuple[str, str]]:
    total = sum(v.total_requests for v in data.volumes)
    days_with_data = sum(1 for v in data.volumes if v.practices)
    return [
        ("Period (activity dates)", f"{data.period_start} to {data.period_end}"),
        ("Days with data", f"{days_with_data} of {len(data.volumes)}"),
        ("Practice-days stored", f"{data.practice_days:,}"),
        ("Total requests (current figures)", f"{total:,}"),
        ("Records rejected", f"{data.rejected_total:,}"),
        ("Rejected share of records received", _pct(data.rejection_rate)),
        ("Reason codes present", ", ".join(r.reason for r in data.reasons) or "none"),
        ("Days with late practice-days", f"{len(data.late_days)}"),
        ("Practices missing on some days", f"{len(data.missing)}"),
        (
            "Restatement rate",
            f"{_pct(data.restatement_rate)} ({data.restated_practice_days:,} of "
            f"{data.practice_days:,} practice-days)",
        ),
        ("Practice codes not in the ODS reference", f"{len(data.unknown_practices)}"),
    ]


_DEFINITIONS = (
    "Rejections are records received since the first day of the period. "
    "A practice-day is late when its first revision arrived more than {warn} after the end "
    "of the activity day ({tz} time). A practice is missing on a day of the period (up to "
    "your latest reported day) when it was reported in the period or the {days} days before "
    "it but has no row that day; days after a practice's close date are not counted. The "
    "restatement rate is the share of the period's practice-days with more than one revision."
)


def _definitions(data: QualityData) -> str:
    return _DEFINITIONS.format(
        warn=_delay(data.warn_after), days=len(data.volumes), tz=data.timezone
    )


# ---------------------------------------------------------------------------------------------
# HTML
# ---------------------------------------------------------------------------------------------

_CSS = """
body{font-family:Arial,Helvetica,sans-serif;color:#212b32;margin:24px;max-width:1000px}
h1{font-size:22px;margin-bottom:4px}h2{font-size:18px;margin-top:28px;border-bottom:2px solid
#005eb8;padding-bottom:4px}table{border-collapse:collapse;margin:8px 0;font-size:13px}
th,td{border:1px solid #d8dde0;padding:4px 8px;text-align:left;vertical-align:top}
th{background:#f0f4f5}td.num{text-align:right}code{font-family:Consolas,monospace;
font-size:12px;overflow-wrap:anywhere}.muted{color:#4c6272;font-size:13px}
"""


def _table(headers: Sequence[str], rows: Sequence[Sequence[str]], numeric: set[int]) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in headers)
    thead = f"<thead><tr>{head}</tr></thead>" if any(headers) else ""
    body = "".join(
        "<tr>"
        + "".join(
            f'<td class="num">{html.escape(c)}</td>' if i in numeric else f"<td>{c}</td>"
            for i, c in enumerate(row)
        )
        + "</tr>"
        for row in rows
    )
    return f"<table>{thead}<tbody>{body}</tbody></table>"


def render_html(data: QualityData) -> str:
    """The report as one self-contained HTML document."""
    e = html.escape
    title = f"Feed quality report: {data.supplier_name} ({data.supplier_id})"
    out = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{e(title)}</title><style>{_CSS}</style></head><body>",
        f"<h1>{e(title)}</h1>",
        f'<p class="muted">Activity dates {data.period_start} to {data.period_end}; '
        f"generated {e(_ts(data.generated_at))}.</p>",
        "<h2>Summary</h2>",
        _table(["", ""], [(e(k), e(v)) for k, v in _summary_rows(data)], set()),
        "<h2>Daily volume</h2>",
        svg_chart(data.volumes),
        '<p class="muted">Total requests per activity date (current figures); red marks days '
        "with no data.</p>",
        "<h2>Rejections by reason</h2>",
    ]
    if not data.reasons:
        out.append("<p>No records were rejected in the period.</p>")
    else:
        out.append(
            _table(
                ["Reason", "Rejected", "First received", "Last received", "Meaning"],
                [
                    (
                        f"<code>{e(r.reason)}</code>",
                        f"{r.count:,}",
                        e(_ts(r.first_received)),
                        e(_ts(r.last_received)),
                        e(REASON_HELP.get(r.reason, "")),
                    )
                    for r in data.reasons
                ],
                {1},
            )
        )
        for r in data.reasons:
            out.append(
                f"<h3>Latest <code>{e(r.reason)}</code> rejections "
                f"({len(r.samples)} of {r.count:,})</h3>"
            )
            out.append(
                _table(
                    ["Received", "Topic / partition / offset", "Key", "Value (start)", "Detail"],
                    [
                        (
                            e(_ts(s.received_at)),
                            f"<code>{e(s.source_topic)} / {s.source_partition} / "
                            f"{s.source_offset}</code>",
                            f"<code>{e(show_bytes(s.key))}</code>",
                            f"<code>{e(_value_preview(s))}</code>",
                            f"<code>{e(s.detail)}</code>",
                        )
                        for s in r.samples
                    ],
                    set(),
                )
            )
    out.append("<h2>Days reported late</h2>")
    if not data.late_days:
        out.append("<p>No practice-day arrived late.</p>")
    else:
        out.append(
            _table(
                ["Activity date", "Practices", "Late", "Worst delay past deadline"],
                [
                    (
                        e(d.activity_date.isoformat()),
                        f"{d.practices:,}",
                        f"{d.late_practices:,}",
                        e(_delay(d.worst_delay)),
                    )
                    for d in data.late_days
                ],
                {1, 2},
            )
        )
    out.append("<h2>Practices missing from the feed</h2>")
    if not data.missing:
        out.append("<p>Every practice was reported on every day.</p>")
    else:
        shown = data.missing[:MAX_MISSING_SHOWN]
        out.append(
            _table(
                [
                    "Practice",
                    "Name",
                    "Days missing",
                    "First missing",
                    "Last missing",
                    "Last reported",
                ],
                [
                    (
                        f"<code>{e(m.practice_code)}</code>",
                        e(m.name or "(not in ODS reference)")
                        + (e(f" (closed {m.close_date})") if m.close_date else ""),
                        f"{m.days_missing:,}",
                        e(m.first_missing.isoformat()),
                        e(m.last_missing.isoformat()),
                        e(m.last_reported.isoformat() if m.last_reported else "never"),
                    )
                    for m in shown
                ],
                {2},
            )
        )
        if len(data.missing) > len(shown):
            out.append(f"<p>… and {len(data.missing) - len(shown):,} more practices.</p>")
    out.append("<h2>Practice codes not in the ODS reference</h2>")
    if not data.unknown_practices:
        out.append("<p>None (or no practice reference loaded).</p>")
    else:
        out.append(
            _table(
                ["Practice code", "First day", "Last day", "Days reported"],
                [
                    (
                        f"<code>{e(u.practice_code)}</code>",
                        e(u.first_activity_date.isoformat()),
                        e(u.last_activity_date.isoformat()),
                        f"{u.days_reported:,}",
                    )
                    for u in data.unknown_practices
                ],
                {3},
            )
        )
    out.append("<h2>Restatements</h2>")
    out.append(
        f"<p>{e(_pct(data.restatement_rate))} of the period's practice-days were restated "
        f"({data.restated_practice_days:,} of {data.practice_days:,}).</p>"
    )
    out.append("<h2>How to read this report</h2>")
    out.append(f'<p class="muted">{e(_definitions(data))}</p>')
    out.append("</body></html>")
    return "\n".join(out) + "\n"


# ---------------------------------------------------------------------------------------------
# Markdown
# ---------------------------------------------------------------------------------------------


def _md(text: str) -> str:
    """Text safe inside a Markdown table cell (no pipes, no raw HTML, one line)."""
    return (
        text.replace("\\", "\\\\")
        .replace("|", "\\|")
        .replace("\n", " ")
        .replace("`", "'")
        .replace("<", "&lt;")
        .replace(">", "&gt;")
    )


def _md_table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return lines


def render_markdown(data: QualityData) -> str:
    """The report as Markdown (for the body of an email)."""
    lines = [
        f"# Feed quality report: {_md(data.supplier_name)} ({data.supplier_id})",
        "",
        f"Activity dates {data.period_start} to {data.period_end}; "
        f"generated {_ts(data.generated_at)}.",
        "",
        "## Summary",
        "",
        *_md_table(["", ""], [(_md(k), _md(v)) for k, v in _summary_rows(data)]),
        "",
        "## Daily volume",
        "",
        f"`{sparkline([v.total_requests for v in data.volumes])}` "
        f"({data.period_start} to {data.period_end}; peak "
        f"{max((v.total_requests for v in data.volumes), default=0):,} requests)",
        "",
        "## Rejections by reason",
        "",
    ]
    if not data.reasons:
        lines.append("No records were rejected in the period.")
    else:
        lines += _md_table(
            ["Reason", "Rejected", "First received", "Last received", "Meaning"],
            [
                (
                    f"`{r.reason}`",
                    f"{r.count:,}",
                    _ts(r.first_received),
                    _ts(r.last_received),
                    _md(REASON_HELP.get(r.reason, "")),
                )
                for r in data.reasons
            ],
        )
        for r in data.reasons:
            lines += [
                "",
                f"### Latest `{r.reason}` rejections ({len(r.samples)} of {r.count:,})",
                "",
            ]
            lines += _md_table(
                ["Received", "Topic / partition / offset", "Key", "Value (start)", "Detail"],
                [
                    (
                        _ts(s.received_at),
                        f"{s.source_topic} / {s.source_partition} / {s.source_offset}",
                        _md(show_bytes(s.key)),
                        _md(_value_preview(s)),
                        _md(s.detail),
                    )
                    for s in r.samples
                ],
            )
    lines += ["", "## Days reported late", ""]
    if not data.late_days:
        lines.append("No practice-day arrived late.")
    else:
        lines += _md_table(
            ["Activity date", "Practices", "Late", "Worst delay past deadline"],
            [
                (
                    d.activity_date.isoformat(),
                    f"{d.practices:,}",
                    f"{d.late_practices:,}",
                    _delay(d.worst_delay),
                )
                for d in data.late_days
            ],
        )
    lines += ["", "## Practices missing from the feed", ""]
    if not data.missing:
        lines.append("Every practice was reported on every day.")
    else:
        shown = data.missing[:MAX_MISSING_SHOWN]
        lines += _md_table(
            ["Practice", "Name", "Days missing", "First missing", "Last missing", "Last reported"],
            [
                (
                    m.practice_code,
                    _md(m.name or "(not in ODS reference)")
                    + (f" (closed {m.close_date})" if m.close_date else ""),
                    f"{m.days_missing:,}",
                    m.first_missing.isoformat(),
                    m.last_missing.isoformat(),
                    m.last_reported.isoformat() if m.last_reported else "never",
                )
                for m in shown
            ],
        )
        if len(data.missing) > len(shown):
            lines.append(f"\n… and {len(data.missing) - len(shown):,} more practices.")
    lines += ["", "## Practice codes not in the ODS reference", ""]
    if not data.unknown_practices:
        lines.append("None (or no practice reference loaded).")
    else:
        lines += _md_table(
            ["Practice code", "First day", "Last day", "Days reported"],
            [
                (
                    u.practice_code,
                    u.first_activity_date.isoformat(),
                    u.last_activity_date.isoformat(),
                    f"{u.days_reported:,}",
                )
                for u in data.unknown_practices
            ],
        )
    lines += [
        "",
        "## Restatements",
        "",
        f"{_pct(data.restatement_rate)} of the period's practice-days were restated "
        f"({data.restated_practice_days:,} of {data.practice_days:,}).",
        "",
        "## How to read this report",
        "",
        _definitions(data),
        "",
    ]
    return "\n".join(lines)


def render(data: QualityData, fmt: ReportFormat) -> str:
    """The report in the given format."""
    return render_html(data) if fmt is ReportFormat.HTML else render_markdown(data)
