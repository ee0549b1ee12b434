"""``time_bands.csv`` (NHS England's Table 3): the average submissions per weekday and
submission time band of a month (pure).

For each weekday (Monday..Sunday) and band, the month's submissions on that weekday in that
band divided by the number of such weekdays in the month (a calendar count: a weekday with
no data still counts). Submissions without times (a day whose bands are unknown, and every
event of schema v1 or v2) count in the ``Unknown`` band, beside ``requests_time_unknown``.
"""

from __future__ import annotations

import calendar
import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal

from ingest.analytics.publication.files import month_bounds

BANDS = (
    "00:00 - 05:59",
    "06:00 - 07:59",
    "08:00 - 09:59",
    "10:00 - 11:59",
    "12:00 - 13:59",
    "14:00 - 15:59",
    "16:00 - 17:59",
    "18:00 - 23:59",
    "Unknown",
)
# The schema v3 fields (and triage.daily_requests columns) feeding each band, in BANDS order.
BAND_FIELDS = (
    "requests_00_06",
    "requests_06_08",
    "requests_08_10",
    "requests_10_12",
    "requests_12_14",
    "requests_14_16",
    "requests_16_18",
    "requests_18_24",
    "requests_time_unknown",
)
WEEKDAYS = tuple(calendar.day_name)  # Monday..Sunday
TIME_BAND_COLUMNS = ("weekday", "band", "average_submissions")


@dataclass(frozen=True, slots=True)
class DayBands:
    """A day's national submissions: those with known bands (BANDS order, the last being
    ``requests_time_unknown``) and those without times at all."""

    by_band: tuple[int, ...]
    without_times: int


def weekdays_in_month(month: str) -> dict[str, int]:
    """How many Mondays..Sundays the month has."""
    first, last = month_bounds(month)
    counts = dict.fromkeys(WEEKDAYS, 0)
    day = first
    while day <= last:
        counts[WEEKDAYS[day.weekday()]] += 1
        day += dt.timedelta(days=1)
    return counts


def time_band_rows(month: str, days: Mapping[dt.date, DayBands]) -> list[dict[str, str]]:
    """One row per weekday and band (weekday order, then band order)."""
    totals = {(w, b): 0 for w in WEEKDAYS for b in BANDS}
    for day, figures in days.items():
        weekday = WEEKDAYS[day.weekday()]
        for band, n in zip(BANDS, figures.by_band, strict=True):
            totals[weekday, band] += n
        totals[weekday, "Unknown"] += figures.without_times
    counts = weekdays_in_month(month)
    return [
        {
            "weekday": w,
            "band": b,
            "average_submissions": str(Decimal(totals[w, b]) / Decimal(counts[w])),
        }
        for w in WEEKDAYS
        for b in BANDS
    ]
