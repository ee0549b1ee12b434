"""Which months the revisions' partitions must cover before a batch is stored (pure).

``triage.daily_request_revisions`` is partitioned by month of ``activity_date`` (migration
0122). The store makes sure each month a batch carries has its partition, and the month after
it (made ahead, before its first day's rows arrive), by calling
``triage.add_revision_partitions`` once per month a process meets: this class remembers which
days and months were seen, so a batch of known days costs one set difference."""

from __future__ import annotations

import datetime as dt
from collections.abc import Set


def month_of(day: dt.date) -> dt.date:
    """The first day of ``day``'s month."""
    return day.replace(day=1)


def month_after(month: dt.date) -> dt.date:
    """The first day of the month after ``month``'s."""
    return dt.date(month.year + month.month // 12, month.month % 12 + 1, 1)


class MonthsCovered:
    """The months whose partitions this process has made sure of."""

    def __init__(self) -> None:
        self._days: set[dt.date] = set()
        self._months: set[dt.date] = set()

    def to_cover(self, days: Set[dt.date]) -> tuple[dt.date, dt.date] | None:
        """The range of months (the first days of the first and of the last) to ask for
        before storing rows of ``days``: each day's month and the month after it, those not
        covered yet; None when all are."""
        new = days - self._days
        if not new:
            return None
        months = {month_of(d) for d in new}
        missing = (months | {month_after(m) for m in months}) - self._months
        if not missing:
            self._days |= new
            return None
        return min(missing), max(missing)

    def covered(self, first: dt.date, last: dt.date) -> None:
        """Record that every month from ``first``'s to ``last``'s has its partition."""
        month = month_of(first)
        while month <= last:
            self._months.add(month)
            month = month_after(month)
