"""Freshness, missing practices, label safety and the status sources against the real stack.

Time: the service and the SQL function ``triage.supplier_freshness_at(ts)`` take an injected
clock; ``triage.supplier_activity.last_event_at`` is stamped by Postgres when an event is
stored (ingest/consumer/store.py), so the cycle that needs an event to arrive *after* the
injected time has passed is run with second-scale thresholds in real time, and the SQL rule
itself is checked with activity rows written at injected instants.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import os
import random
import string
import subprocess
import sys
from pathlib import Path

import aiohttp
import asyncpg
import pytest
from prometheus_client import generate_latest
from prometheus_client.parser import text_string_to_metric_families

from ingest.consumer.service import IngestService
from ingest.contract.model import FreshnessStatus as S
from ingest.contract.model import topic_for
from ingest.ops.freshness_store import fetch_status_snapshot
from ingest.ops.http_server import start_http_server
from ingest.ops.metrics import IngestMetrics
from ingest.ops.process import serve
from ingest.ops.refresher import FreshnessRefresher
from ingest.ops.suppliers import remove_supplier, update_supplier
from ingest.settings import Settings
from tests.support.events import event
from tests.support.kafka import CreateTopics, produce_events, produce_values
from tests.support.polling import wait_until
from tests.support.service import serving
from tests.support.suppliers import register
from tests.support.tcp_proxy import TcpProxy

from .helpers import (
    FakeClock,
    H,
    events_for,
    fast,
    status_of,
    stored_events,
    wait_status,
)

REPO = Path(__file__).resolve().parents[3]
CONTRACT_COLUMNS = ["supplier_id", "last_event_at", "latest_activity_date", "status"]


async def _status_at(pg: asyncpg.Connection, supplier: str, at: dt.datetime) -> str:
    value = await pg.fetchval(
        "SELECT status FROM triage.supplier_freshness_at($1) WHERE supplier_id = $2", at, supplier
    )
    assert isinstance(value, str)
    return value


async def _view_status(pg: asyncpg.Connection, supplier: str) -> str:
    value = await pg.fetchval(
        "SELECT status FROM triage.supplier_freshness WHERE supplier_id = $1", supplier
    )
    assert isinstance(value, str)
    return value


async def test_injected_clock_moves_view_and_metrics_and_a_restart_keeps_the_status(
    pg: asyncpg.Connection, settings: Settings, token: str, create_topics: CreateTopics
) -> None:
    supplier, fresh = f"{token}-clock", f"{token}-fresh"
    for s in (supplier, fresh):
        await register(pg, s)
    await create_topics(topic_for(supplier), topic_for(fresh))
    clock = FakeClock()
    cfg = fast(settings)

    async with serving(cfg, clock) as service:
        # Registered suppliers that never sent anything. that never sent anything.
        await wait_status(service.metrics, supplier, S.NEVER_REPORTED)
        assert await _status_at(pg, supplier, clock()) == "never_reported"
        assert await _view_status(pg, supplier) == "never_reported"

        await produce_events(cfg, [event(supplier)])
        await wait_until(
            lambda: stored_events(pg, supplier), within=30, what="the event to be stored"
        )
        await wait_status(service.metrics, supplier, S.OK)
        assert await _status_at(pg, supplier, clock()) == "ok"

        clock.advance(27 * H)
        await wait_status(service.metrics, supplier, S.LATE)
        assert await _status_at(pg, supplier, clock()) == "late"
        assert await _view_status(pg, supplier) == "ok"  # the view itself is at real now()

        clock.advance(24 * H)  # 51 h after the event
        await wait_status(service.metrics, supplier, S.SILENT)
        assert await _status_at(pg, supplier, clock()) == "silent"
        get = service.metrics.registry.get_sample_value
        stamped = await pg.fetchval(
            "SELECT last_event_at FROM triage.supplier_activity WHERE supplier_id = $1", supplier
        )
        assert get(
            "triage_supplier_last_event_timestamp_seconds", {"supplier": supplier}
        ) == pytest.approx(stamped.timestamp(), abs=1e-3)
        assert status_of(service.metrics, fresh) is S.NEVER_REPORTED

    # Restart: a new process, new metrics, same clock. No status is published before the
    # first refresh, and the first one already says silent (it comes from Postgres).
    restarted = IngestMetrics()
    assert status_of(restarted, supplier) is None
    service2 = IngestService(cfg, restarted, clock=clock)
    task = asyncio.create_task(serve(cfg, service2))
    try:
        await wait_until(
            lambda: status_of(restarted, supplier) is not None, within=30, what="a refresh"
        )
        assert status_of(restarted, supplier) is S.SILENT
    finally:
        service2.request_stop()
        await asyncio.wait_for(task, 60)


async def test_silent_supplier_turns_ok_when_events_arrive_real_time(
    pg: asyncpg.Connection, settings: Settings, token: str, create_topics: CreateTopics
) -> None:
    """ok -> late -> silent -> ok with events through Kafka (thresholds of seconds)."""
    supplier = f"{token}-quick"
    await register(pg, supplier, warn="3s", error="6s")
    await create_topics(topic_for(supplier))
    cfg = fast(settings)
    async with serving(cfg) as service:
        await wait_status(service.metrics, supplier, S.NEVER_REPORTED)
        seen: list[S] = []

        async def record() -> None:
            while True:
                status = status_of(service.metrics, supplier)
                if status is not None and (not seen or seen[-1] is not status):
                    seen.append(status)
                await asyncio.sleep(0.05)

        watcher = asyncio.create_task(record())
        try:
            await produce_events(cfg, [event(supplier, practice_code="A81001")])
            await wait_status(service.metrics, supplier, S.OK, within=20)
            assert await _view_status(pg, supplier) in {"ok", "late"}
            await wait_status(service.metrics, supplier, S.LATE, within=10)
            await wait_status(service.metrics, supplier, S.SILENT, within=10)
            assert await _view_status(pg, supplier) == "silent"
            await produce_events(cfg, [event(supplier, practice_code="A81002")])
            await wait_status(service.metrics, supplier, S.OK, within=20)
        finally:
            watcher.cancel()
        # the watcher samples every 50 ms: take the last status too, which wait_status saw
        final = status_of(service.metrics, supplier)
        if final is not None and seen[-1] is not final:
            seen.append(final)
        assert seen == [S.NEVER_REPORTED, S.OK, S.LATE, S.SILENT, S.OK]


async def test_freshness_rule_in_sql_with_injected_instants(pg: asyncpg.Connection) -> None:
    """The SQL rule (triage.freshness_status via supplier_freshness_at) over a full cycle,
    with events "arriving" at injected instants, and per-supplier thresholds."""
    await pg.execute(
        "INSERT INTO triage.suppliers (supplier_id, name, warn_after, error_after)"
        " VALUES ('sqlrule', 'SQL rule', '26 hours', '50 hours'),"
        " ('shortfuse', 'Short fuse', '10 minutes', '30 minutes')"
    )
    t0 = dt.datetime(2026, 11, 25, 9, tzinfo=dt.UTC)

    async def arrive(supplier: str, at: dt.datetime) -> None:
        await pg.execute(
            "INSERT INTO triage.supplier_activity VALUES ($1, $2, $3)"
            " ON CONFLICT (supplier_id) DO UPDATE SET last_event_at = EXCLUDED.last_event_at",
            supplier,
            at,
            at.date(),
        )

    seen = [await _status_at(pg, "sqlrule", t0)]
    await arrive("sqlrule", t0)
    for hours in (0, 26, 27, 50, 51):
        seen.append(await _status_at(pg, "sqlrule", t0 + hours * H))
    await arrive("sqlrule", t0 + 52 * H)
    seen.append(await _status_at(pg, "sqlrule", t0 + 53 * H))
    assert seen == ["never_reported", "ok", "ok", "late", "late", "silent", "ok"]

    await arrive("shortfuse", t0)
    assert await _status_at(pg, "shortfuse", t0 + dt.timedelta(minutes=20)) == "late"
    assert await _status_at(pg, "shortfuse", t0 + H) == "silent"


async def test_view_keeps_contract_columns_and_is_readable_by_triage_reader(
    pg: asyncpg.Connection,
) -> None:
    columns = await pg.fetch(
        "SELECT column_name FROM information_schema.columns"
        " WHERE table_schema = 'triage' AND table_name = 'supplier_freshness'"
        " ORDER BY ordinal_position"
    )
    assert [c["column_name"] for c in columns][:4] == CONTRACT_COLUMNS
    await pg.execute("INSERT INTO triage.suppliers (supplier_id, name) VALUES ('reader', 'R')")
    async with pg.transaction():
        await pg.execute("SET LOCAL ROLE triage_reader")
        rows = await pg.fetch("SELECT supplier_id, status FROM triage.supplier_freshness")
    assert [(r["supplier_id"], r["status"]) for r in rows] == [("reader", "never_reported")]


async def test_missing_practices_in_view_gauge_and_snapshot(
    pg: asyncpg.Connection, settings: Settings, token: str, create_topics: CreateTopics
) -> None:
    supplier, steady = f"{token}-gaps", f"{token}-steady"
    for s in (supplier, steady):
        await register(pg, s)
    await create_topics(topic_for(supplier), topic_for(steady))
    latest = dt.date.today() - dt.timedelta(days=1)

    def day(n: int) -> dt.date:
        return latest - dt.timedelta(days=n)

    payloads = [
        *events_for(supplier, day(9), ["A81009"]),  # outside the 7-day window
        *events_for(supplier, day(7), ["A81007"]),  # inside it
        *events_for(supplier, day(3), ["A81001", "A81002", "A81003"]),
        *events_for(supplier, day(1), ["A81001", "A81002"]),
        *events_for(supplier, day(0), ["A81001"]),
        *events_for(steady, day(1), ["B82001", "B82002"]),
        *events_for(steady, day(0), ["B82001", "B82002"]),
    ]
    cfg = fast(settings)
    async with serving(cfg) as service:
        await produce_events(cfg, payloads)
        await wait_until(
            lambda: pg.fetchval("SELECT count(*) = $1 FROM triage.daily_requests", len(payloads)),
            within=30,
            what="every event stored",
        )
        get = service.metrics.registry.get_sample_value

        def gauge(s: str) -> float | None:
            return get("triage_supplier_missing_practices", {"supplier": s})

        await wait_until(
            lambda: gauge(supplier) == 3, within=30, what=f"3 missing (is {gauge(supplier)})"
        )
        assert gauge(steady) == 0
        latest_day = get("triage_supplier_latest_activity_date_seconds", {"supplier": supplier})
        assert (
            latest_day
            == dt.datetime(latest.year, latest.month, latest.day, tzinfo=dt.UTC).timestamp()
        )

    rows = await pg.fetch(
        "SELECT supplier_id, practice_code, latest_activity_date, last_reported_date"
        " FROM triage.supplier_missing_practices ORDER BY practice_code"
    )
    assert [(r["supplier_id"], r["practice_code"], r["last_reported_date"]) for r in rows] == [
        (supplier, "A81002", day(1)),
        (supplier, "A81003", day(3)),
        (supplier, "A81007", day(7)),
    ]
    assert {r["latest_activity_date"] for r in rows} == {latest}

    snapshot = await fetch_status_snapshot(pg, dt.datetime.now(dt.UTC))
    assert snapshot.missing[supplier] == ("A81002", "A81003", "A81007")
    assert steady not in snapshot.missing
    assert snapshot.activity_of(supplier).stored_events == 8
    assert snapshot.coverage[(supplier, day(3))] == 3
    assert snapshot.coverage[(steady, day(0))] == 2
    assert (supplier, day(9)) in snapshot.coverage  # inside the 30-day heat map


async def test_a_flood_from_random_topics_and_ids_adds_no_series(
    pg: asyncpg.Connection, settings: Settings, token: str, create_topics: CreateTopics
) -> None:
    supplier = f"{token}-real"
    await register(pg, supplier)
    rng = random.Random(7)
    junk_topics = [
        topic_for(f"{token}-" + "".join(rng.choices(string.ascii_lowercase, k=8))) for _ in range(8)
    ]
    await create_topics(topic_for(supplier), settings.dlq_topic, *junk_topics)
    cfg = fast(settings)
    async with serving(cfg) as service:
        await produce_events(cfg, [event(supplier)])
        for topic in junk_topics:
            # An unregistered supplier on its own topic, a mismatching id, and garbage.
            junk_id = topic.removeprefix("triage.daily.")
            await produce_events(cfg, [event(junk_id)], topic=topic)
            await produce_events(cfg, [event(f"{token}-other{rng.randint(0, 999)}")], topic=topic)
            await produce_values(cfg, topic, [b"\x00garbage", os.urandom(20)])
        # Mismatching ids on the registered supplier's own topic.
        await produce_events(
            cfg, [event(f"{token}-x{n}") for n in range(10)], topic=topic_for(supplier)
        )
        expected = 1 + len(junk_topics) * 4 + 10
        get = service.metrics.registry.get_sample_value

        def counted() -> float:
            return sum(
                get("triage_events_total", {"supplier": s, "outcome": o}) or 0.0
                for s in (supplier, "unknown")
                for o in ("accepted", "rejected", "duplicate", "superseded")
            )

        await wait_until(
            lambda: counted() == expected, within=30, what=f"{expected} records counted"
        )
        await wait_status(service.metrics, supplier, S.OK)
        text = generate_latest(service.metrics.registry).decode()

    labels = {
        sample.labels["supplier"]
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if "supplier" in sample.labels
    }
    assert labels == {supplier, "unknown"}
    get = service.metrics.registry.get_sample_value
    assert get("triage_events_total", {"supplier": supplier, "outcome": "rejected"}) == 10
    assert (
        get("triage_rejected_events_total", {"supplier": supplier, "reason": "supplier_mismatch"})
        == 10
    )
    unknown = sum(
        sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name == "triage_rejected_events_total" and sample.labels["supplier"] == "unknown"
    )
    assert unknown == 4 * len(junk_topics)


async def test_deactivated_supplier_series_disappear_and_thresholds_apply(
    pg: asyncpg.Connection, settings: Settings, token: str
) -> None:
    keep, drop = f"{token}-keep", f"{token}-drop"
    for s in (keep, drop):
        await register(pg, s)
    await pg.execute(
        "INSERT INTO triage.supplier_activity VALUES ($1, now() - interval '30 hours', $2),"
        " ($3, now() - interval '30 hours', $2)",
        keep,
        dt.date.today(),
        drop,
    )
    metrics = IngestMetrics()
    refresher = FreshnessRefresher(fast(settings), metrics)
    try:
        assert await refresher.refresh_once()
        assert status_of(metrics, keep) is S.LATE and status_of(metrics, drop) is S.LATE
        # Two processes agree: another refresher on the same database says the same.
        other = IngestMetrics()
        other_refresher = FreshnessRefresher(fast(settings), other)
        assert await other_refresher.refresh_once()
        await other_refresher.close()
        assert generate_latest(other.registry).count(b"triage_supplier_status{") == 8

        await remove_supplier(pg, drop)
        await update_supplier(pg, keep, warn_after=dt.timedelta(hours=40))
        assert await refresher.refresh_once()
        assert status_of(metrics, keep) is S.OK  # new per-supplier threshold
        text = generate_latest(metrics.registry).decode()
        assert drop not in text
        assert metrics.label(drop) == "unknown"
    finally:
        await refresher.close()


async def test_refresher_and_status_page_survive_a_postgres_outage(
    pg: asyncpg.Connection,
    settings: Settings,
    token: str,
    pg_proxy: tuple[TcpProxy, str],
) -> None:
    proxy, proxied_url = pg_proxy
    supplier = f"{token}-outage"
    await register(pg, supplier)
    await pg.execute(
        "INSERT INTO triage.supplier_activity VALUES ($1, now() - interval '1 hour', $2)",
        supplier,
        dt.date.today(),
    )
    cfg = fast(settings, database_url=proxied_url)
    metrics = IngestMetrics()
    refresher = FreshnessRefresher(cfg, metrics)

    class Ready:
        ready = True

    class Service:
        readiness = Ready()

    Service.metrics = metrics  # type: ignore[attr-defined]
    refresher.start()
    http = await start_http_server(cfg, Service(), refresher)  # type: ignore[arg-type]
    port = http.addresses[0][1]
    get = metrics.registry.get_sample_value
    try:
        async with asyncio.timeout(30):
            await refresher.wait_for_refresh(0)
        assert status_of(metrics, supplier) is S.OK
        async with aiohttp.ClientSession() as http_client:
            page = await http_client.get(f"http://127.0.0.1:{port}/")
            assert page.status == 200
            assert supplier in await page.text()

            await proxy.cut()
            await wait_until(
                lambda: (get("triage_freshness_refresh_failures_total") or 0) >= 2,
                within=30,
                what="failed refreshes while Postgres is cut",
            )
            assert status_of(metrics, supplier) is S.OK  # last values kept, not dropped
            page = await http_client.get(f"http://127.0.0.1:{port}/")
            assert page.status == 503
            body = await page.text()
            assert "Postgres is unreachable" in body and supplier in body
            metrics_page = await http_client.get(f"http://127.0.0.1:{port}/metrics")
            assert metrics_page.status == 200

            # Meanwhile the supplier is deactivated; once Postgres is back, it is gone.
            await remove_supplier(pg, supplier)
            done = refresher.refreshes
            await proxy.restore()
            async with asyncio.timeout(30):
                await refresher.wait_for_refresh(done)
            assert status_of(metrics, supplier) is None
            page = await http_client.get(f"http://127.0.0.1:{port}/")
            assert page.status == 200
    finally:
        await http.cleanup()
        await refresher.close()


def _cli(db_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "INGEST_DATABASE_URL": db_url, "COLUMNS": "200"}
    return subprocess.run(
        [str(Path(sys.executable).with_name("ingest")), "status", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        cwd=REPO,
    )


async def test_ingest_status_exit_codes(pg: asyncpg.Connection, db_url: str, token: str) -> None:
    ok, new = f"{token}-ok", f"{token}-new"
    for s in (ok, new):
        await register(pg, s)
    await pg.execute(
        "INSERT INTO triage.supplier_activity VALUES ($1, now() - interval '2 hours', $2)",
        ok,
        dt.date.today(),
    )
    result = await asyncio.to_thread(_cli, db_url)
    assert result.returncode == 0, result.stdout + result.stderr
    assert ok in result.stdout and "never_reported" in result.stdout
    strict = await asyncio.to_thread(_cli, db_url, "--strict")
    assert strict.returncode == 1

    await pg.execute(
        "UPDATE triage.supplier_activity SET last_event_at = now() - interval '3 days'"
        " WHERE supplier_id = $1",
        ok,
    )
    silent = await asyncio.to_thread(_cli, db_url, "--json")
    assert silent.returncode == 1, silent.stdout + silent.stderr
    statuses = {s["supplier_id"]: s["status"] for s in json.loads(silent.stdout)["suppliers"]}
    assert statuses == {ok: "silent", new: "never_reported"}

    down = await asyncio.to_thread(_cli, "postgresql://postgres@127.0.0.1:1/none")
    assert down.returncode == 2 and "cannot read freshness" in down.stderr
