"""Counting a day's submissions into schema v3's time bands, by UK local time (pure, no I/O).

A band is chosen by the submission's wall-clock time in the UK (Europe/London), the same
clock that decides its ``activity_date``: GMT in winter, BST (UTC+1) in summer. So on the day
the clocks go forward (last Sunday of March) 01:00-01:59 never happens and ``requests_00_06``
covers five hours; on the day they go back (last Sunday of October) 01:00-01:59 happens twice
and that band covers seven. Each submission still counts once, in the band its UK clock
showed. A submission whose time is not known counts in ``requests_time_unknown``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from zoneinfo import ZoneInfo

from ingest.contract.model import BAND_FIELDS
from ingest.errors import IngestError

UK = ZoneInfo("Europe/London")
# The first UK hour of each of the eight timed bands, in BAND_FIELDS order.
_BAND_STARTS = (0, 6, 8, 10, 12, 14, 16, 18)


class TimeBandError(IngestError):
    """A submission time that cannot be placed (no time zone, or another UK day)."""


def uk_time(moment: dt.datetime) -> dt.datetime:
    """An instant as the UK clock showed it; an instant without a time zone is refused (it
    could be UTC or UK time, an hour apart half the year)."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise TimeBandError(
            f"submission time {moment.isoformat()} has no time zone: give UTC or UK time"
        )
    return moment.astimezone(UK)


def band_of(moment: dt.datetime) -> str:
    """The band field a submission at ``moment`` counts in (its UK clock hour)."""
    hour = uk_time(moment).hour
    index = sum(1 for start in _BAND_STARTS if hour >= start) - 1
    return BAND_FIELDS[index]


def day_bands(day: dt.date, submitted: Iterable[dt.datetime | None]) -> dict[str, int]:
    """The nine band fields of one UK day's submissions (``None``: time not known), ready for
    ``DailyCounts(**...)``; they sum to the number of submissions. A time on another UK day
    is refused: it belongs to that day's counts."""
    bands = dict.fromkeys(BAND_FIELDS, 0)
    for moment in submitted:
        if moment is None:
            bands["requests_time_unknown"] += 1
            continue
        local = uk_time(moment)
        if local.date() != day:
            raise TimeBandError(
                f"submission at {moment.isoformat()} is on {local.date().isoformat()} in UK"
                f" time, not {day.isoformat()}"
            )
        bands[band_of(moment)] += 1
    return bands
