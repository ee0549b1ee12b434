"""Time, injectable: the service asks a Clock, tests hand in their own."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from zoneinfo import ZoneInfo

Clock = Callable[[], dt.datetime]


def system_clock() -> dt.datetime:
    """Now, in UTC."""
    return dt.datetime.now(dt.UTC)


def local_today(now: dt.datetime, timezone: str) -> dt.date:
    """The calendar day of ``now`` in ``timezone`` (the UK day for Europe/London)."""
    return now.astimezone(ZoneInfo(timezone)).date()
