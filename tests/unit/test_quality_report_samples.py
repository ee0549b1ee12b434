"""Quality report details (what a supplier needs to fix a rejection): rejected values decoded where
a released schema reads them and size-capped either way; chart labels inside the chart."""

from __future__ import annotations

import datetime as dt

import pytest

from ingest.analytics.quality_report.collect import decoded_value
from ingest.analytics.quality_report.model import (
    DECODED_PREVIEW_CHARS,
    VALUE_PREVIEW_BYTES,
    RejectionSample,
)
from ingest.analytics.quality_report.wording import value_preview
from ingest.consumer.decoding import Decoder
from ingest.web.charts import Bar, bar_chart
from tests.support.events import encoded, event

pytestmark = pytest.mark.unit
NOW = dt.datetime(2026, 11, 25, 9, 0, tzinfo=dt.UTC)


def sample(value: bytes, decoded: str | None = None, length: int | None = None) -> RejectionSample:
    return RejectionSample(
        NOW, "triage.daily.alpha", 0, 1, None, value, length or len(value), "detail", decoded
    )


def test_a_value_a_released_schema_reads_is_shown_decoded() -> None:
    value = encoded(event(practice_code="B99001", total=-3, activity_date=dt.date(2026, 11, 24)))
    decoded = decoded_value(Decoder(), value, len(value))
    assert decoded is not None
    shown = value_preview(sample(value, decoded))
    assert '"practice_code": "B99001"' in shown
    assert '"total_requests": -3' in shown
    assert shown.endswith(f"(decoded Avro, {len(value)} bytes)")


def test_a_value_cut_by_the_read_limit_is_not_decoded() -> None:
    value = encoded(event())
    assert decoded_value(Decoder(), value[:20], len(value)) is None


def test_an_undecodable_value_shows_its_first_bytes_only() -> None:
    value = b"\xc3\x01" + bytes(range(200))
    assert decoded_value(Decoder(), value, len(value)) is None
    shown = value_preview(sample(value))
    assert shown.startswith("c3 01 00 01 02")
    assert shown.count(" ") < VALUE_PREVIEW_BYTES + 5  # 48 bytes at most, then the length
    assert shown.endswith(" … (202 bytes)")


def test_a_long_decoded_value_is_capped() -> None:
    shown = value_preview(sample(b"\xc3\x01", "x" * 5000, 6000))
    assert shown == "x" * DECODED_PREVIEW_CHARS + " … (decoded Avro, 6000 bytes)"


def test_the_first_and_last_axis_labels_stay_inside_the_chart() -> None:
    days = [dt.date(2026, 11, 1) + dt.timedelta(days=i) for i in range(30)]
    chart = bar_chart(
        [Bar(i, d.isoformat(), d.isoformat(), "#369") for i, d in enumerate(days)],
        label="volume",
    )
    labels = {t.text: t for t in chart.texts if t.text.startswith("2026-")}
    first, last = labels["2026-11-01"], labels["2026-11-30"]
    assert (first.anchor, last.anchor) == ("start", "end")
    assert first.x >= 0 and last.x <= chart.width
