"""Exactly-once effect: restarts, two consumers with a rebalance, SIGTERM, replay."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time

import asyncpg
import pytest

from ingest.contract.model import Reason
from ingest.kafka import make_producer
from ingest.ops.replay import ReplayFilter, replay
from ingest.settings import Settings
from tests.support.events import encoded, event, key_of, yesterday
from tests.support.kafka import produce
from tests.support.polling import wait_until
from tests.support.service import running, sample, wait_consumed
from tests.support.suppliers import register_with_topic

pytestmark = pytest.mark.integration


def traffic(supplier: str, n: int, start: int = 0) -> list[tuple[bytes, bytes]]:
    """n distinct valid events (one practice-day each) plus a re-send of every tenth."""
    day = yesterday()
    out = []
    for i in range(start, start + n):
        e = event(supplier, f"A{i:05d}", day, total=i % 50)
        out.append((key_of(e), encoded(e)))
        if i % 10 == 0:
            again = dict(e, event_id=str(__import__("uuid").uuid4()))
            out.append((key_of(again), encoded(again)))
    return out


async def counts(pg: asyncpg.Connection) -> tuple[int, int, int]:
    row = await pg.fetchrow(
        "SELECT (SELECT count(*) FROM triage.daily_requests),"
        " (SELECT count(*) FROM triage.daily_request_revisions),"
        " (SELECT count(*) FROM triage.rejected_events)"
    )
    return (row[0], row[1], row[2])


async def test_restart_processes_nothing_twice(
    settings: Settings, pg: asyncpg.Connection, token: str
) -> None:
    supplier = f"{token}-restart"
    topic = await register_with_topic(pg, settings, supplier, partitions=3)
    await produce(settings, topic, traffic(supplier, 300))
    async with running(settings) as first:
        await wait_consumed(pg, settings, [topic])
    await produce(settings, topic, traffic(supplier, 200, start=300))
    async with running(settings) as second:
        await wait_consumed(pg, settings, [topic])
    assert await counts(pg) == (500, 500, 0)
    # the second run read only what was new: nothing was fenced off as already stored
    assert first.batches_committed >= 1 and second.batches_committed >= 1
    redone = await pg.fetchval(
        "SELECT count(*) - count(DISTINCT (source_partition, source_offset))"
        " FROM triage.daily_request_revisions"
    )
    assert redone == 0


async def test_two_consumers_in_one_group_with_rebalances_store_each_event_once(
    settings: Settings, pg: asyncpg.Connection, token: str
) -> None:
    supplier = f"{token}-pair"
    topic = await register_with_topic(pg, settings, supplier, partitions=6)
    await produce(settings, topic, traffic(supplier, 400))
    async with running(settings):
        await asyncio.sleep(1.0)
        async with running(settings):  # joins: rebalance while the first is mid-backlog
            await produce(settings, topic, traffic(supplier, 400, start=400))
            await asyncio.sleep(1.0)
        # the second leaves: another rebalance; the first takes everything back
        await produce(settings, topic, traffic(supplier, 200, start=800))
        await wait_consumed(pg, settings, [topic], timeout=90)
    assert await counts(pg) == (1000, 1000, 0)


async def test_sigterm_finishes_the_batch_stores_offsets_and_exits_zero(
    settings: Settings, pg: asyncpg.Connection, token: str
) -> None:
    supplier = f"{token}-sigterm"
    topic = await register_with_topic(pg, settings, supplier, partitions=2)
    await produce(settings, topic, traffic(supplier, 3000))
    env = {
        **os.environ,
        "INGEST_KAFKA_BOOTSTRAP": settings.kafka(),
        "INGEST_DATABASE_URL": settings.database(),
        "INGEST_TOPIC_PATTERN": settings.topic_pattern,
        "INGEST_DLQ_TOPIC": settings.dlq_topic,
        "INGEST_CONSUMER_GROUP": settings.consumer_group,
        "INGEST_METRICS_PORT": "0",
        "INGEST_BATCH_MAX_RECORDS": "500",
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", "ingest.ops.process"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:

        async def some_stored() -> bool:
            return bool(await pg.fetchval("SELECT count(*) FROM triage.daily_request_revisions"))

        await wait_until(some_stored, 60, "the first batch")
        proc.send_signal(signal.SIGTERM)
        started = time.monotonic()
        code = await asyncio.to_thread(proc.wait, 60)
        elapsed = time.monotonic() - started
    finally:
        if proc.poll() is None:
            proc.kill()
    stderr = proc.stderr.read().decode() if proc.stderr else ""
    assert code == 0, stderr[-2000:]
    assert elapsed < settings.shutdown_timeout_seconds
    assert "LeaveGroup request succeeded" in stderr
    stored_rows = (await counts(pg))[1]
    offsets = await pg.fetchval(
        "SELECT sum(next_offset) FROM triage.consumer_offsets WHERE group_id = $1",
        settings.consumer_group,
    )
    # every record up to the stored offsets is stored, and nothing beyond them
    stored_records = await pg.fetchval(
        "SELECT count(*) FROM triage.daily_request_revisions"
    ) + await pg.fetchval("SELECT count(*) FROM triage.rejected_events")
    assert stored_rows > 0
    assert offsets >= stored_records
    # a restart finishes the backlog with each event once
    async with running(settings):
        await wait_consumed(pg, settings, [topic], timeout=90)
    assert await counts(pg) == (3000, 3000, 0)


async def test_replay_resubmits_rejected_events_and_records_what_happened(
    settings: Settings, pg: asyncpg.Connection, token: str
) -> None:
    supplier = f"{token}-replayed"
    from ingest.contract.model import topic_for
    from ingest.kafka import ensure_topics

    topic = topic_for(supplier)
    await ensure_topics(settings, [topic], 1)
    e = event(supplier, "J90001", yesterday())
    await produce(settings, topic, [(key_of(e), encoded(e))])
    async with running(settings):
        await wait_consumed(pg, settings, [topic])
        assert await pg.fetchval("SELECT reason FROM triage.rejected_events") == "unknown_supplier"
        await register_with_topic(
            pg, settings, supplier, partitions=1
        )  # the fix: register the supplier
        producer = make_producer(settings)
        await producer.start()
        try:
            done = await replay(pg, producer, ReplayFilter(reason=Reason.UNKNOWN_SUPPLIER))
        finally:
            await producer.stop()
        assert len(done) == 1
        await wait_consumed(pg, settings, [topic])
    outcome = await pg.fetchrow("SELECT outcome, original_reason FROM triage.dlq_replay_outcomes")
    assert tuple(outcome) == ("stored", "unknown_supplier")
    assert await pg.fetchval("SELECT count(*) FROM triage.daily_requests") == 1
    # a second replay without --again finds nothing left to replay
    producer = make_producer(settings)
    await producer.start()
    try:
        assert await replay(pg, producer, ReplayFilter()) == []
    finally:
        await producer.stop()


async def test_a_second_consumer_group_on_the_same_database_changes_nothing(
    settings: Settings, pg: asyncpg.Connection, token: str
) -> None:
    supplier = f"{token}-twogroups"
    topic = await register_with_topic(pg, settings, supplier, partitions=1)
    records = [*traffic(supplier, 50), (None, b"\x00not avro"), (b"\xff", None)]
    await produce(settings, topic, records)
    async with running(settings):
        await wait_consumed(pg, settings, [topic])
    before = await counts(pg)
    other = settings.model_copy(update={"consumer_group": f"{settings.consumer_group}-b"})
    async with running(other) as service:
        await wait_consumed(pg, other, [topic])
    assert before == (50, 50, 2)
    assert await counts(pg) == before
    assert sample(service, "triage_events_total", supplier=supplier, outcome="duplicate") == 55
