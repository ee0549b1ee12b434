"""The quality report's words and figures as text (pure), shared by the HTML and Markdown."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from ingest.analytics.quality_report.model import (
    DECODED_PREVIEW_CHARS,
    VALUE_PREVIEW_BYTES,
    QualityData,
    RejectionSample,
)
from ingest.contract.model import Reason

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


def value_preview(sample: RejectionSample) -> str:
    """A rejected value for a human: decoded (as JSON) when a released schema reads it, else
    its first bytes; cut to a bounded size and marked when cut, with its full length."""
    if sample.value_head is None:
        return "(none)"
    if sample.decoded is not None:
        cut = len(sample.decoded) > DECODED_PREVIEW_CHARS
        shown = sample.decoded[:DECODED_PREVIEW_CHARS]
        return f"{shown}{' …' if cut else ''} (decoded Avro, {sample.value_length} bytes)"
    head = sample.value_head[:VALUE_PREVIEW_BYTES]
    more = (sample.value_length or 0) > len(head)
    return f"{show_bytes(head)}{' …' if more else ''} ({sample.value_length} bytes)"


def pct(value: float | None) -> str:
    return "n/a" if value is None else f"{value * 100:.1f}%"


def delay(delta: dt.timedelta) -> str:
    hours = delta.total_seconds() / 3600
    return f"{hours:.1f} h" if hours < 48 else f"{hours / 24:.1f} days"


def ts(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def sparkline(values: Sequence[int]) -> str:
    """A one-line Unicode chart of ``values``."""
    blocks = "▁▂▃▄▅▆▇█"
    peak = max(values, default=0)
    if peak <= 0:
        return blocks[0] * len(values)
    return "".join(blocks[min(len(blocks) - 1, v * len(blocks) // (peak + 1))] for v in values)


def summary_rows(data: QualityData) -> list[tuple[str, str]]:
    """The summary table: (what, figure) pairs."""
    total = sum(v.total_requests for v in data.volumes)
    days_with_data = sum(1 for v in data.volumes if v.practices)
    return [
        ("Period (activity dates)", f"{data.period_start} to {data.period_end}"),
        ("Days with data", f"{days_with_data} of {len(data.volumes)}"),
        ("Practice-days stored", f"{data.practice_days:,}"),
        ("Total requests (current figures)", f"{total:,}"),
        ("Records rejected", f"{data.rejected_total:,}"),
        ("Rejected share of records received", pct(data.rejection_rate)),
        ("Reason codes present", ", ".join(r.reason for r in data.reasons) or "none"),
        ("Days with late practice-days", f"{len(data.late_days)}"),
        ("Practices missing on some days", f"{len(data.missing)}"),
        ("Basis for 'expected'", expected_basis(data)),
        *_roster_rows(data),
        ("Days with unusual volume", volume_flags(data)),
        (
            "Restatement rate",
            f"{pct(data.restatement_rate)} ({data.restated_practice_days:,} of "
            f"{data.practice_days:,} practice-days)",
        ),
        ("Practice codes not GP practices in the ODS reference", f"{len(data.unknown_practices)}"),
        ("Records whose key disagreed with the body", key_mismatches(data)),
    ]


def key_mismatches(data: QualityData) -> str:
    """Valid records whose Kafka key was not their body's practice_code:activity_date."""
    if not data.key_mismatches:
        return "none"
    return (
        f"{data.key_mismatches:,} on {data.key_mismatch_days:,} activity date(s): stored by"
        " their body (keys are advisory), but the key should be practice_code:YYYY-MM-DD of"
        " the body, so that each practice-day stays on one partition"
    )


EXPECTED_BASIS = (
    "a practice you reported in the period or the {days} days before it is expected on each "
    "day from your first report for it up to your latest reported day, except days after its "
    "close date and, unless you have reported it on a weekend, Saturdays and Sundays; the "
    "period ends yesterday, as today's figures are not due yet"
)
_DEFINITIONS = (
    "Rejections are records received since the first day of the period. "
    "A practice-day is late when its first revision arrived more than {warn} after the end "
    "of the activity day ({tz} time). A practice is missing on a day it was expected but has "
    "no row; expected: {basis}. The restatement rate is the share of the period's "
    "practice-days with more than one revision."
)


ROSTER_BASIS = (
    "every practice of your supplier roster (ingest reference roster) is expected on each day "
    "it had your system installed, up to your latest reported day, except days after its "
    "close date and, unless you have reported it on a weekend, Saturdays and Sundays; the "
    "period ends yesterday, as today's figures are not due yet"
)


def expected_basis(data: QualityData) -> str:
    """What 'expected' means in this report: the roster, or the supplier's own history."""
    if data.missing_basis == "roster":
        return ROSTER_BASIS
    return EXPECTED_BASIS.format(days=len(data.volumes))


def _roster_rows(data: QualityData) -> list[tuple[str, str]]:
    roster = data.roster
    if roster is None:
        return []
    participating = (
        "no participation list loaded"
        if roster.participating is None
        else f"{roster.participating:,} participating"
    )
    return [
        (
            f"Coverage on {roster.day} (roster)",
            f"{roster.installed:,} with your system installed, {participating},"
            f" {roster.reporting:,} reporting",
        )
    ]


def volume_flags(data: QualityData) -> str:
    """The flagged days (total against the median of the same weekday of previous weeks)."""
    if not data.volume_flags:
        return "none (each day within the usual range for its weekday)"
    return "; ".join(
        f"{f.activity_date} ({f.change:+.1%}: {f.total_requests:,} vs usual"
        f" {f.baseline_median:,.0f})"
        for f in data.volume_flags
    )


def definitions(data: QualityData) -> str:
    """How to read the report, with this report's threshold, window and time zone."""
    return _DEFINITIONS.format(
        warn=delay(data.warn_after),
        tz=data.timezone,
        basis=expected_basis(data),
    )


def missing_name(name: str | None, close_date: dt.date | None) -> str:
    """A missing practice's name from the ODS reference, with its close date if closed."""
    shown = name or "(not in ODS reference)"
    return f"{shown} (closed {close_date})" if close_date else shown
