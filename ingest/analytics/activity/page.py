"""The ICB activity page (HTML, pure): every practice of the ICB as a point, appointments per
1,000 against online submissions per 1,000, the practices that look quiet in appointments
marked and listed with their figures, and what a commissioner should read before writing to
one of them. Rendered by ``activity_page.html.j2`` (autoescaping)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from fractions import Fraction

from ingest.analytics.activity.collect import PracticeActivity
from ingest.analytics.activity.csv_file import rate_text
from ingest.analytics.activity.rule import lowest_share
from ingest.web.charts import Point, scatter_plot
from ingest.web.templates import render_page


def _name(p: PracticeActivity) -> str:
    return p.practice_name or p.practice_code


def _points(practices: Sequence[PracticeActivity]) -> list[Point]:
    points = []
    for p in practices:
        appts, subs = p.appointments_per_1000, p.submissions_per_1000
        if appts is None or not p.appointments:
            continue  # no list size or no appointments: not on the chart (said below it)
        online = subs if subs is not None else Fraction(0)
        points.append(
            Point(
                float(appts),
                float(online),
                f"{_name(p)} ({p.practice_code}): {rate_text(appts)} appointments and "
                f"{rate_text(online)} online submissions per 1,000 patients",
                p.looks_quiet_in_appointments,
                (("practice", p.practice_code),),
            )
        )
    return points


def render_activity_page(
    icb_code: str,
    month: dt.date,
    practices: Sequence[PracticeActivity],
    generated_at: dt.datetime,
) -> str:
    """The page of one ICB's month (``practices``: the ICB's, as collect_activity gives them)."""
    points = _points(practices)
    flagged = [p for p in practices if p.looks_quiet_in_appointments]
    flagged.sort(key=lambda p: (p.appointments_per_1000 or 0, p.practice_code))
    icb_name = next((p.icb_name for p in practices if p.icb_name), None)
    chart = scatter_plot(
        points,
        label=f"Practices of {icb_code}: appointments per 1,000 patients against online "
        "consultation submissions per 1,000 patients",
        x_label="GP appointments per 1,000 registered patients (GPAD, all statuses)",
        y_label="Online submissions per 1,000 patients",
        element_id="scatter",
    )
    ranked = len(points)
    return render_page(
        "activity_page.html.j2",
        title=f"{icb_code} {month:%B %Y}: appointments beside online requests",
        heading=f"Appointments beside online requests: {icb_name or icb_code}",
        body_class="report",
        icb_code=icb_code,
        icb_name=icb_name,
        month=month,
        generated_at=generated_at,
        chart=chart,
        flagged=flagged,
        practices=len(practices),
        charted=ranked,
        lowest=lowest_share(ranked),
        not_charted=[p for p in practices if p.appointments_per_1000 is None or not p.appointments],
        rate=rate_text,
        name_of=_name,
    )
