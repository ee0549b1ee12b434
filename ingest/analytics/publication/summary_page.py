"""``index.html``: the publication's summary page (pure; Jinja2 with autoescaping).

The national series over the window drawn as an SVG bar chart (submissions per month), the
month's headline figures, the data quality notes, and the largest changes since the previous
edition (submissions of the nation and of practices, by absolute difference).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Sequence
from typing import TYPE_CHECKING

from ingest.analytics.publication.files import Change, largest_changes
from ingest.analytics.publication.quality import month_name
from ingest.web.charts import Bar, bar_chart
from ingest.web.templates import render_page

if TYPE_CHECKING:
    from ingest.analytics.publication.publish import MonthFiles


def summary_page(
    month_files: MonthFiles,
    edition: int,
    published_at: dt.datetime,
    found: Sequence[Change] | None,
) -> str:
    """The page's HTML."""
    national = month_files.national
    bars = [
        Bar(
            int(row["submissions"]),
            month_name(row["month"]),
            f"{month_name(row['month'])}: {int(row['submissions']):,} submissions",
            "#005eb8",
        )
        for row in national
    ]
    chart = dataclasses.replace(
        bar_chart(bars, label="Submissions per month, England"), element_id="national-series"
    )
    return render_page(
        "publication.html.j2",
        title=f"Online consultation submissions: {month_name(month_files.month)}",
        heading=f"Online consultation submissions: {month_name(month_files.month)}",
        body_class="publication",
        edition=edition,
        published_at=f"{published_at:%Y-%m-%d %H:%M %Z}",
        chart=chart,
        latest=national[-1],
        national=national,
        month_name=month_name,
        notes=[n.text for n in month_files.notes],
        previous=None if found is None else edition - 1,
        changes=largest_changes(found or []),
    )
