"""With INGEST_OVERLAP_BATCHES the next batch is decoded and validated while the previous
batch's transaction is open, and is still stored after it, in a transaction of its own,
exactly once; a batch whose suppliers changed before its write is triaged again."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

import asyncpg
import pytest
import pytest_asyncio
from asyncpg.transaction import Transaction

from ingest.contract.model import topic_for
from ingest.kafka import ensure_topics
from ingest.settings import Settings
from tests.support.events import encoded, event, key_of, yesterday
from tests.support.kafka import produce, produce_unacknowledged
from tests.support.polling import wait_until
from tests.support.service import running, wait_consumed
from tests.support.suppliers import register, register_with_topic

pytestmark = pytest.mark.integration

WAITING_ON_THE_LOCK = (
    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
    " AND pid NOT IN (pg_backend_pid(), $1) AND wait_event_type = 'Lock'"
)


@pytest.fixture
def overlapped(settings: Settings) -> Settings:
    return settings.model_copy(update={"overlap_batches": True})


@dataclass
class RevisionsLock:
    """A lock the test holds on the revisions table: a batch's write waits on it."""

    blocker: asyncpg.Connection
    transaction: Transaction
    pid: int

    async def a_write_waits(self, pg: asyncpg.Connection) -> bool:
        return bool(await pg.fetchval(WAITING_ON_THE_LOCK, self.pid))

    released: bool = False

    async def release(self) -> None:
        if not self.released:
            self.released = True
            await self.transaction.rollback()


@pytest_asyncio.fixture(loop_scope="session")
async def revisions_locked(db_url: str) -> AsyncIterator[RevisionsLock]:
    blocker = await asyncpg.connect(db_url)
    transaction = blocker.transaction()
    await transaction.start()
    await blocker.execute("LOCK TABLE triage.daily_request_revisions IN SHARE MODE")
    held = RevisionsLock(blocker, transaction, await blocker.fetchval("SELECT pg_backend_pid()"))
    try:
        yield held
    finally:
        await held.release()
        await blocker.close()


async def test_the_next_batch_is_triaged_while_the_previous_transaction_is_open(
    overlapped: Settings,
    pg: asyncpg.Connection,
    token: str,
    revisions_locked: RevisionsLock,
) -> None:
    supplier = f"{token}-ahead"
    topic = await register_with_topic(pg, overlapped, supplier, partitions=1)
    day = yesterday()
    first = [event(supplier, f"A{i:05d}", day, total=i) for i in range(40)]
    second = [event(supplier, f"B{i:05d}", day, total=i) for i in range(60)]

    await produce(overlapped, topic, [(key_of(e), encoded(e)) for e in first])
    async with running(overlapped) as service:
        await wait_until(lambda: revisions_locked.a_write_waits(pg), what="batch N's write waiting")
        assert service.batches_triaged == 1  # batch N, triaged in its transaction
        await produce(overlapped, topic, [(key_of(e), encoded(e)) for e in second])

        async def second_batch_triaged() -> bool:
            return service.batches_triaged == 2

        await wait_until(second_batch_triaged, what="batch N+1 triaged")
        # ... while batch N's transaction is still open, waiting on the test's lock
        assert await revisions_locked.a_write_waits(pg)
        assert service.batches_committed == 0
        await revisions_locked.release()
        await wait_consumed(pg, overlapped, [topic])

    rows = await pg.fetch(
        "SELECT event_id::text AS event_id, source_offset, ingested_at AS began"
        " FROM triage.daily_request_revisions"
    )
    assert sorted(r["event_id"] for r in rows) == sorted(e["event_id"] for e in first + second)
    # ingested_at is now(): when the row's transaction began. Batch N (read whole before
    # the service started) is one transaction; every later batch began after it
    first_began = {r["began"] for r in rows if r["source_offset"] < len(first)}
    assert len(first_began) == 1
    assert all(r["began"] > min(first_began) for r in rows if r["source_offset"] >= len(first))
    assert service.batches_committed >= 2
    assert service.batches_triaged == service.batches_committed  # none triaged twice


async def test_a_batch_triaged_ahead_is_triaged_again_when_a_supplier_registers_before_its_write(
    overlapped: Settings,
    pg: asyncpg.Connection,
    token: str,
    revisions_locked: RevisionsLock,
) -> None:
    early, late = f"{token}-early", f"{token}-late"
    early_topic = await register_with_topic(pg, overlapped, early, partitions=1)
    late_topic = topic_for(late)
    await ensure_topics(overlapped, [late_topic], 1)  # its supplier is not registered yet
    day = yesterday()
    first = [event(early, f"A{i:05d}", day) for i in range(30)]
    second = [event(late, f"B{i:05d}", day) for i in range(30)]

    await produce(overlapped, early_topic, [(key_of(e), encoded(e)) for e in first])
    async with running(overlapped) as service:
        await wait_until(lambda: revisions_locked.a_write_waits(pg), what="batch N's write waiting")
        await produce_unacknowledged(
            overlapped, late_topic, [(key_of(e), encoded(e)) for e in second]
        )

        async def second_batch_triaged() -> bool:
            return service.batches_triaged == 2

        await wait_until(second_batch_triaged, what="batch N+1 triaged (its supplier unknown)")
        await register(pg, late)
        await revisions_locked.release()
        await wait_consumed(pg, overlapped, [early_topic, late_topic])

    stored = await pg.fetch(
        "SELECT supplier_id, count(*) AS n FROM triage.daily_request_revisions GROUP BY 1"
    )
    assert {r["supplier_id"]: r["n"] for r in stored} == {early: len(first), late: len(second)}
    assert await pg.fetchval("SELECT count(*) FROM triage.rejected_events") == 0
    # the batch triaged ahead was triaged again, against the suppliers its write read; the
    # batches after it were triaged ahead against those
    assert service.batches_triaged == service.batches_committed + 1


async def test_a_stop_finishes_the_write_in_flight_and_leaves_the_batch_fetched_ahead_unstored(
    overlapped: Settings,
    pg: asyncpg.Connection,
    token: str,
    revisions_locked: RevisionsLock,
) -> None:
    supplier = f"{token}-stop"
    topic = await register_with_topic(pg, overlapped, supplier, partitions=1)
    day = yesterday()
    first = [event(supplier, f"A{i:05d}", day) for i in range(40)]
    second = [event(supplier, f"B{i:05d}", day) for i in range(60)]

    await produce(overlapped, topic, [(key_of(e), encoded(e)) for e in first])
    async with running(overlapped) as service:
        await wait_until(lambda: revisions_locked.a_write_waits(pg), what="batch N's write waiting")
        await produce_unacknowledged(overlapped, topic, [(key_of(e), encoded(e)) for e in second])

        async def second_batch_triaged() -> bool:
            return service.batches_triaged == 2

        await wait_until(second_batch_triaged, what="batch N+1 triaged")
        service.request_stop()  # as SIGTERM does
        await revisions_locked.release()
    # the batch in hand (N) was stored with its offsets; N+1, fetched ahead, was not
    assert service.batches_committed == 1
    stored = "SELECT next_offset FROM triage.consumer_offsets WHERE group_id = $1"
    assert await pg.fetchval(stored, overlapped.consumer_group) == len(first)
    revisions = "SELECT count(*) FROM triage.daily_request_revisions"
    assert await pg.fetchval(revisions) == len(first)

    async with running(overlapped) as again:  # a restart reads N+1 from the stored offset
        await wait_consumed(pg, overlapped, [topic])
    assert again.records_skipped == 0
    ids = await pg.fetch("SELECT event_id::text AS id FROM triage.daily_request_revisions")
    assert sorted(r["id"] for r in ids) == sorted(e["event_id"] for e in first + second)
