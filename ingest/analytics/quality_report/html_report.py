"""The quality report as one self-contained HTML document (pure).

Rendered by the Jinja2 template ``ingest/web/templates/quality_report.html.j2`` (autoescaped),
with the shared stylesheet and SVG chart helper: CSS inline, the chart inline SVG, no scripts
and no external reference, so it can be attached to an email and opened anywhere.
"""

from __future__ import annotations

from collections.abc import Sequence

from ingest.analytics.quality_report import wording
from ingest.analytics.quality_report.model import MAX_MISSING_SHOWN, DayVolume, QualityData
from ingest.web.charts import Bar, SvgChart, bar_chart
from ingest.web.templates import render_page

BAR_COLOUR = "#005eb8"
NO_DATA_COLOUR = "#d5281b"


def render_html(data: QualityData) -> str:
    """The report as one self-contained HTML document."""
    title = f"Feed quality report: {data.supplier_name} ({data.supplier_id})"
    return render_page(
        "quality_report.html.j2",
        title=title,
        heading=title,
        body_class="report",
        data=data,
        summary=wording.summary_rows(data),
        volume_chart=volume_chart(data.volumes),
        reason_help=wording.REASON_HELP,
        max_missing_shown=MAX_MISSING_SHOWN,
        ts=wording.ts,
        delay=wording.delay,
        pct=wording.pct,
        show_bytes=wording.show_bytes,
        value_preview=wording.value_preview,
        missing_name=wording.missing_name,
        definitions=wording.definitions,
    )


def volume_chart(volumes: Sequence[DayVolume]) -> SvgChart:
    """Daily total requests as bars; a day with no data is marked red at the base."""
    return bar_chart(
        [
            Bar(
                value=v.total_requests,
                label=v.activity_date.isoformat(),
                title=(
                    f"{v.activity_date.isoformat()}: {v.total_requests:,} requests,"
                    f" {v.practices} practices"
                ),
                fill=BAR_COLOUR if v.practices else NO_DATA_COLOUR,
                marked=not v.practices,
            )
            for v in volumes
        ],
        label="Daily total requests by activity date",
    )
