"""A supplier's data-quality report: one self-contained HTML file, or Markdown for email.

Modules: ``model`` (the figures, pure data), ``collect`` (reads them from Postgres with the
queries in ``sql/``; needs the ingest role: it reads ``triage.rejected_events``), ``wording``
(text shared by both formats), ``html_report`` (Jinja2 template, shared stylesheet and SVG
chart in ingest/web) and ``markdown_report`` (escapes everything it prints).

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

from ingest.analytics.quality_report.collect import collect
from ingest.analytics.quality_report.html_report import render_html
from ingest.analytics.quality_report.markdown_report import render_markdown
from ingest.analytics.quality_report.model import QualityData, QualityReportError, ReportFormat

__all__ = [
    "QualityData",
    "QualityReportError",
    "ReportFormat",
    "collect",
    "render",
    "render_html",
    "render_markdown",
]


def render(data: QualityData, fmt: ReportFormat) -> str:
    """The report in the given format."""
    return render_html(data) if fmt is ReportFormat.HTML else render_markdown(data)
