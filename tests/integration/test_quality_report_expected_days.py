"""Which days the quality report expects a practice (so no day is called missing unfairly), on a
fixed calendar: today is not due, days before the supplier's first report for a practice are not
missing, weekends are expected only of practices reported on a weekend, and the report states that
basis."""

from __future__ import annotations

import datetime as dt

import asyncpg
import pytest

from ingest.analytics.quality_report import collect, render_markdown
from tests.support.daily_rows import insert_days

pytestmark = pytest.mark.integration

D = dt.date
NOW = dt.datetime(2024, 10, 10, 11, 0, tzinfo=dt.UTC)  # Thursday 10 October, 12:00 in London
SUPPLIER = "expected-days"


async def report_days(pg: asyncpg.Connection) -> dict[str, tuple[int, dt.date, dt.date]]:
    data = await collect(pg, SUPPLIER, days=7, now=NOW)
    assert (data.period_start, data.period_end) == (D(2024, 10, 3), D(2024, 10, 9))
    return {
        m.practice_code: (m.days_missing, m.first_missing, m.last_missing) for m in data.missing
    }


async def weekdays(pg: asyncpg.Connection, practice: str, days: list[dt.date]) -> None:
    for day in days:
        await insert_days(pg, SUPPLIER, practice, day, day, 5)


async def test_expected_days_follow_first_reports_weekends_and_today(
    pg: asyncpg.Connection,
) -> None:
    await pg.execute(
        "INSERT INTO triage.suppliers (supplier_id, name) VALUES ($1, 'Expected Days')", SUPPLIER
    )
    # P00001: weekdays only since September; misses Tuesday 8 October; nothing yet for today.
    september = [D(2024, 9, 23) + dt.timedelta(days=i) for i in range(17)]  # to 9 October
    await weekdays(
        pg, "P00001", [d for d in september if d.isoweekday() < 6 and d != D(2024, 10, 8)]
    )
    # P00002: first reported Monday 7 October, then Wednesday 9: only Tuesday 8 is missing.
    await weekdays(pg, "P00002", [D(2024, 10, 7), D(2024, 10, 9)])
    # P00003: every day including weekends, except Sunday 6 October.
    await weekdays(
        pg, "P00003", [D(2024, 10, 3) + dt.timedelta(days=i) for i in range(7) if i != 3]
    )
    missing = await report_days(pg)
    assert missing == {
        "P00001": (1, D(2024, 10, 8), D(2024, 10, 8)),  # not the weekend, not today
        "P00002": (1, D(2024, 10, 8), D(2024, 10, 8)),  # not the days before 7 October
        "P00003": (1, D(2024, 10, 6), D(2024, 10, 6)),  # it reports weekends
    }
    text = render_markdown(await collect(pg, SUPPLIER, days=7, now=NOW))
    assert "Basis for 'expected'" in text
    assert "today's figures are not due yet" in text
