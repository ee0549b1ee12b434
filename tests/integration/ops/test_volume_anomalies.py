"""Volume anomalies (flagged, never rejected) on the simulator's traffic: an 11% drop in a
supplier's day is flagged, a normal week is not, a supplier's first weeks raise nothing; the
false-alarm rates over twelve weeks of simulated history are measured and printed."""

from __future__ import annotations

import datetime as dt

import asyncpg
import pytest

from ingest.ops.metrics import IngestMetrics
from ingest.ops.refresher import FreshnessRefresher
from ingest.settings import Settings
from ingest.supplier.simulator import demo_suppliers
from tests.support.simulated_history import write_history

LAST = dt.date(2026, 11, 29)  # a Sunday
WEEKS = 12
FIRST = LAST - dt.timedelta(weeks=WEEKS) + dt.timedelta(days=1)


@pytest.fixture
def suppliers(token: str) -> list:  # type: ignore[type-arg]
    return demo_suppliers(prefix=f"{token}-", practice_count=300, seed=11)


async def assess(pg: asyncpg.Connection, supplier: str, day: dt.date) -> asyncpg.Record:
    row = await pg.fetchrow(
        "SELECT * FROM triage.supplier_volume_assessment($1, $2)", supplier, day
    )
    assert row is not None
    return row


async def test_an_11_percent_drop_is_flagged_and_a_normal_week_is_not(
    pg: asyncpg.Connection,
    suppliers: list,
    capsys: pytest.CaptureFixture[str],  # type: ignore[type-arg]
) -> None:
    await write_history(pg, suppliers, FIRST, LAST)
    big = suppliers[0].supplier_id
    normal_week = [LAST - dt.timedelta(days=n) for n in range(7)]
    flagged = [
        (s.supplier_id, d)
        for s in suppliers
        for d in normal_week
        if (await assess(pg, s.supplier_id, d))["flagged"]
    ]
    assert flagged == []

    drop_day = LAST - dt.timedelta(days=6)  # a Monday
    before = await assess(pg, big, drop_day)
    await pg.execute(
        "UPDATE triage.daily_requests SET total_requests = round(total_requests * 0.89)"
        " WHERE supplier_id = $1 AND activity_date = $2",
        big,
        drop_day,
    )
    after = await assess(pg, big, drop_day)
    with capsys.disabled():
        print(
            f"\n11% drop on {drop_day} ({big}): total {before['total_requests']} ->"
            f" {after['total_requests']}, median of 6 Mondays {after['baseline_median']},"
            f" change {after['change']}, robust z {after['robust_z']}, flagged {after['flagged']}"
        )
    assert not before["flagged"]
    assert after["flagged"]
    view = await pg.fetchrow(
        "SELECT flagged, direction FROM triage.supplier_volume_anomalies WHERE supplier_id = $1",
        big,
    )
    assert view is not None and not view["flagged"]  # the latest day (Sunday) is normal


async def test_a_supplier_s_first_weeks_raise_no_alarm(
    pg: asyncpg.Connection,
    suppliers: list,  # type: ignore[type-arg]
) -> None:
    start = LAST - dt.timedelta(weeks=3)
    await write_history(pg, suppliers[:1], start, LAST)
    supplier = suppliers[0].supplier_id
    await pg.execute(
        "UPDATE triage.daily_requests SET total_requests = total_requests / 2"
        " WHERE supplier_id = $1 AND activity_date = $2",
        supplier,
        LAST,
    )  # halved, but only 3 weeks of history
    result = await assess(pg, supplier, LAST)
    assert (result["weeks"], result["flagged"]) == (3, False)


async def test_false_alarm_rates_on_twelve_weeks_of_simulated_traffic(
    pg: asyncpg.Connection,
    suppliers: list,
    capsys: pytest.CaptureFixture[str],  # type: ignore[type-arg]
) -> None:
    rows = await write_history(pg, suppliers, FIRST, LAST)
    assessed = await pg.fetch(
        "SELECT a.* FROM unnest($1::text[]) AS s(id)"
        " CROSS JOIN generate_series($2::date, $3::date, interval '1 day') AS g(day)"
        " CROSS JOIN LATERAL triage.supplier_volume_assessment(s.id, g.day::date) a"
        " WHERE a.weeks >= 4",
        [s.supplier_id for s in suppliers],
        FIRST,
        LAST,
    )
    practice = await pg.fetch(
        "SELECT a.flagged FROM unnest($1::text[]) AS s(id)"
        " CROSS JOIN generate_series($2::date, $3::date, interval '1 day') AS g(day)"
        " CROSS JOIN LATERAL triage.practice_volume_assessment(s.id, g.day::date) a"
        " WHERE a.weeks >= 4",
        [s.supplier_id for s in suppliers],
        FIRST,
        LAST,
    )
    supplier_alarms = sum(r["flagged"] for r in assessed)
    practice_alarms = sum(r["flagged"] for r in practice)
    with capsys.disabled():
        print(
            f"\nfalse alarms on {WEEKS} weeks of simulated traffic ({rows} rows, 4 suppliers,"
            f" 300 practices): supplier-days {supplier_alarms}/{len(assessed)}"
            f" ({supplier_alarms / len(assessed):.2%}), practice-days"
            f" {practice_alarms}/{len(practice)} ({practice_alarms / len(practice):.3%})"
        )
    assert len(assessed) > 100 and len(practice) > 10_000
    assert supplier_alarms / len(assessed) < 0.01
    assert practice_alarms / len(practice) < 0.005


async def test_the_service_gauges_flag_the_dropped_supplier_only(
    pg: asyncpg.Connection,
    settings: Settings,
    suppliers: list,  # type: ignore[type-arg]
) -> None:
    await write_history(pg, suppliers, FIRST, LAST)
    dropped = suppliers[1].supplier_id
    await pg.execute(
        "UPDATE triage.daily_requests SET total_requests = round(total_requests * 0.85)"
        " WHERE supplier_id = $1 AND activity_date = $2",
        dropped,
        LAST,
    )
    metrics = IngestMetrics()
    refresher = FreshnessRefresher(settings, metrics)
    try:
        assert await refresher.refresh_once()
    finally:
        await refresher.close()
    get = metrics.registry.get_sample_value
    flags = {s.supplier_id: get("triage_supplier_volume_anomaly", {"supplier": s.supplier_id})
             for s in suppliers}  # fmt: skip
    assert flags == {s.supplier_id: (1.0 if s.supplier_id == dropped else 0.0) for s in suppliers}
    change = get("triage_supplier_volume_change_ratio", {"supplier": dropped})
    assert change is not None and -0.2 < change < -0.1


async def test_the_reader_role_sees_the_anomaly_views(
    pg: asyncpg.Connection,
    suppliers: list,  # type: ignore[type-arg]
) -> None:
    await write_history(pg, suppliers[:1], FIRST, LAST)
    async with pg.transaction():
        await pg.execute("SET LOCAL ROLE triage_reader")
        rows = await pg.fetch("SELECT supplier_id, weeks FROM triage.supplier_volume_anomalies")
        await pg.fetch("SELECT * FROM triage.practice_volume_anomalies")
    assert [(r["supplier_id"], r["weeks"]) for r in rows] == [(suppliers[0].supplier_id, 6)]
