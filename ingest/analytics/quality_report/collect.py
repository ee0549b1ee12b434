"""Collection of the quality report's figures from Postgres (the report's only I/O).

Needs the ingest role: it reads ``triage.rejected_events``. The queries are the named ones of
``queries.sql`` beside this module, run in one read-only repeatable-read transaction (one
consistent snapshot).
"""

from __future__ import annotations

import datetime as dt
import json
from zoneinfo import ZoneInfo

import asyncpg

from ingest.analytics.quality_report.model import (
    SAMPLES_PER_REASON,
    VALUE_DECODE_BYTES,
    DayVolume,
    LateDay,
    MissingPractice,
    QualityData,
    QualityReportError,
    ReasonSummary,
    RejectionSample,
    UnknownPractice,
    VolumeFlag,
)
from ingest.consumer.decoding import Decoder
from ingest.contract.model import topic_for
from ingest.db.connection import MISSING_SCHEMA_ERRORS
from ingest.db.queries import queries
from ingest.errors import DecodeError
from ingest.ops.freshness import RosterCoverage


def decoded_value(decoder: Decoder, value: bytes | None, length: int | None) -> str | None:
    """A whole value decoded with a released schema, as JSON (fields in schema order, empty
    ones left out); None when it was cut or does not decode (the report then shows its first
    bytes)."""
    if value is None or length is None or length > len(value):
        return None
    try:
        record = decoder.decode(value)
    except DecodeError:
        return None
    present = {k: v for k, v in record.items() if v is not None}  # schema order, nulls left out
    return json.dumps(present, default=str, ensure_ascii=False)


SQL = queries("ingest.analytics.quality_report")


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
    days: int,
    timezone: str,
    now: dt.datetime | None,
    samples_per_reason: int,
) -> QualityData:
    if days < 1:
        raise QualityReportError("--days must be at least 1")
    tz = ZoneInfo(timezone)
    now = now or dt.datetime.now(dt.UTC)
    # Today's figures are not due yet: the period ends yesterday (local time).
    end = now.astimezone(tz).date() - dt.timedelta(days=1)
    start = end - dt.timedelta(days=days - 1)
    since = dt.datetime.combine(start, dt.time(), tzinfo=tz)
    topic = topic_for(supplier_id)
    async with conn.transaction(isolation="repeatable_read", readonly=True):
        supplier = await conn.fetchrow(SQL["supplier"], supplier_id)
        if supplier is None:
            raise QualityReportError(f"supplier {supplier_id!r} is not registered")
        reason_rows = await conn.fetch(SQL["rejections_by_reason"], supplier_id, topic, since)
        sample_rows = await conn.fetch(
            SQL["rejection_samples"],
            supplier_id,
            topic,
            since,
            VALUE_DECODE_BYTES,
            samples_per_reason,
        )
        rejected_day_rows = await conn.fetch(
            SQL["rejections_by_day"], supplier_id, topic, since, timezone
        )
        volume_rows = await conn.fetch(SQL["volumes"], supplier_id, start, end)
        restated = await conn.fetchrow(SQL["restatements"], supplier_id, start, end)
        revisions_received = await conn.fetchval(SQL["revisions_received"], supplier_id, since)
        late_rows = await conn.fetch(
            SQL["late_days"], supplier_id, start, end, timezone, supplier["warn_after"]
        )
        rostered = await conn.fetchval(
            SQL["rostered"],
            supplier_id,
        )
        missing_sql = SQL["missing_practices_roster"] if rostered else SQL["missing_practices"]
        missing_rows = await conn.fetch(missing_sql, supplier_id, start, end, days)
        roster_row = await conn.fetchrow(SQL["roster_coverage"], supplier_id)
        flag_rows = await conn.fetch(SQL["volume_flags"], supplier_id, start, end)
        unknown_rows = await conn.fetch(SQL["unknown_practices"], supplier_id)
        keys = await conn.fetchrow(SQL["key_mismatches"], supplier_id, start, end)

    decoder = Decoder()
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
                decoded_value(decoder, r["value_head"], r["value_length"]),
            )
        )
    assert restated is not None and keys is not None
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
        missing_basis="roster" if rostered else "history",
        roster=None
        if roster_row is None
        else RosterCoverage(
            roster_row["latest_activity_date"],
            roster_row["installed"],
            roster_row["participating"],
            roster_row["reporting"],
        ),
        volume_flags=tuple(
            VolumeFlag(
                r["activity_date"],
                r["total_requests"],
                float(r["baseline_median"]),
                float(r["change"]),
            )
            for r in flag_rows
        ),
        key_mismatches=keys["records"],
        key_mismatch_days=keys["days"],
    )
