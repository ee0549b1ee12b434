"""The quality report with the collection's own rules (roster and volume anomalies): with a supplier
roster, installed practices are expected (never-reported ones included) and the coverage is
shown; days whose volume is out of line with the same weekday of previous weeks are listed."""

from __future__ import annotations

import datetime as dt

import asyncpg

from ingest.analytics.quality_report import collect, render_html, render_markdown
from ingest.reference.records import ReferenceKind, RosterEntry
from ingest.reference.store import load_records
from ingest.supplier.simulator import demo_suppliers
from tests.support.simulated_history import write_history

LAST = dt.date(2026, 11, 29)  # a Sunday
NOW = dt.datetime(2026, 11, 30, 12, 0, tzinfo=dt.UTC)  # the report's period ends on LAST


async def test_roster_expectations_coverage_and_volume_flags(
    pg: asyncpg.Connection, token: str
) -> None:
    (supplier,) = demo_suppliers(prefix=f"{token}-", practice_count=300, seed=11)[:1]
    await write_history(pg, [supplier], LAST - dt.timedelta(weeks=12) + dt.timedelta(days=1), LAST)
    sid = supplier.supplier_id
    drop_day = LAST - dt.timedelta(days=6)  # a Monday
    await pg.execute(
        "UPDATE triage.daily_requests SET total_requests = round(total_requests * 0.89)"
        " WHERE supplier_id = $1 AND activity_date = $2",
        sid,
        drop_day,
    )
    before = await collect(pg, sid, days=14, now=NOW)
    assert before.missing_basis == "history" and before.roster is None
    assert [f.activity_date for f in before.volume_flags] == [drop_day]

    installed = [p.code for p in supplier.practices[:5]]
    await load_records(
        pg,
        ReferenceKind.ROSTER,
        [RosterEntry(sid, code, LAST - dt.timedelta(days=400), None) for code in installed]
        + [RosterEntry(sid, "Y89999", LAST - dt.timedelta(days=400), None)],  # never reported
        "roster.csv",
    )
    data = await collect(pg, sid, days=14, now=NOW)
    assert data.missing_basis == "roster"
    never = [m for m in data.missing if m.practice_code == "Y89999"]
    assert len(never) == 1 and never[0].last_reported is None
    assert never[0].days_missing == 10  # the 10 weekdays of the 14 days (weekends not expected)
    assert {m.practice_code for m in data.missing} <= {*installed, "Y89999"}
    assert data.roster is not None
    reporting = await pg.fetchval(
        "SELECT count(*) FROM triage.daily_requests WHERE supplier_id = $1"
        " AND activity_date = $2 AND practice_code = ANY($3::text[])",
        sid,
        LAST,
        installed,
    )
    assert (data.roster.day, data.roster.installed, data.roster.reporting) == (LAST, 6, reporting)
    assert reporting >= 4  # the simulator drops few rows

    text = render_markdown(data)
    page = render_html(data)
    for shown in (text, page):
        assert "every practice of your supplier roster" in shown
        assert f"Coverage on {LAST} (roster)" in shown
        assert f"{drop_day} (-1" in shown  # e.g. "2026-11-23 (-10.4%: 13,024 vs usual 14,541)"
