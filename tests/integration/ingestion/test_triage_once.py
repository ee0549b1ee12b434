"""A Postgres blip during a batch's write redoes the transaction, not the batch's CPU work:
the records are decoded and validated once, and the batch is still stored exactly once."""

from __future__ import annotations

import asyncpg
import pytest

from ingest.settings import Settings
from tests.support.events import encoded, event, key_of, yesterday
from tests.support.kafka import produce
from tests.support.polling import wait_until
from tests.support.service import running, wait_consumed
from tests.support.suppliers import register_with_topic

pytestmark = pytest.mark.integration

WAITING_ON_THE_LOCK = (
    "SELECT pid FROM pg_stat_activity WHERE datname = current_database()"
    " AND pid NOT IN (pg_backend_pid(), $1) AND wait_event_type = 'Lock'"
)


async def test_a_connection_lost_mid_write_reuses_the_triage_of_the_batch(
    settings: Settings, pg: asyncpg.Connection, db_url: str, token: str
) -> None:
    supplier = f"{token}-blip"
    topic = await register_with_topic(pg, settings, supplier, partitions=1)
    day = yesterday()
    events = [event(supplier, f"B{i:05d}", day, total=i % 40) for i in range(200)]
    await produce(settings, topic, [(key_of(e), encoded(e)) for e in events])

    # the batch's write waits on this lock after its triage; its backend is then cut off
    blocker = await asyncpg.connect(db_url)
    lock = blocker.transaction()
    await lock.start()
    await blocker.execute("LOCK TABLE triage.daily_request_revisions IN SHARE MODE")
    blocker_pid = await blocker.fetchval("SELECT pg_backend_pid()")
    try:
        async with running(settings) as service:
            waiting: list[int] = []

            async def a_write_waits() -> bool:
                waiting[:] = [r["pid"] for r in await pg.fetch(WAITING_ON_THE_LOCK, blocker_pid)]
                return bool(waiting)

            await wait_until(a_write_waits, what="the batch's write waiting on the lock")
            cut = waiting[0]
            await pg.execute("SELECT pg_terminate_backend($1)", cut)
            # the retry, on a new connection, reaches the same point before the lock goes

            async def another_write_waits() -> bool:
                return await a_write_waits() and any(pid != cut for pid in waiting)

            await wait_until(another_write_waits, what="the retried write waiting on the lock")
            await lock.rollback()
            await wait_consumed(pg, settings, [topic])
    finally:
        await blocker.close()

    stored = await pg.fetchval("SELECT count(*) FROM triage.daily_request_revisions")
    assert stored == len(events)
    assert service.batches_committed >= 1
    assert service.batches_triaged == service.batches_committed  # none triaged twice
