"""The offset fence against a zombie: a consumer frozen inside its batch transaction loses
its partitions, and commits anyway when it wakes up.

Consumer A takes a backlog; the test holds a lock on ``triage.supplier_activity``, so A's
batch stops half-way through its transaction (offset rows locked, rows written, no commit),
and A is frozen there (SIGSTOP). A is removed from the group (as its session expiry would);
consumer B joins alone, gets every partition, reads the offsets A has not committed and
fetches the very records A holds: B's transaction waits on A's offset rows. The lock is
released and A woken (SIGCONT): it commits its batch, then finds itself out of the group and
rejoins. B must see the fence and drop the records A stored.

The database alone cannot show a missing fence (storing a batch twice changes no table:
resolution is idempotent), so this test also checks where "twice" is visible: B logs the
records it dropped as already stored, and no dead letter was sent twice.
"""

from __future__ import annotations

import asyncio
import re
import time

import asyncpg
import pytest

from tests.faults.driver import ConsumerProcess, produce
from tests.faults.scenario import Scenario
from tests.support.service import wait_consumed

pytestmark = [pytest.mark.faults, pytest.mark.integration]

SEED = 5150
_SKIPPED_RE = re.compile(r"(\d+) records of the batch were already stored: skipped")

BLOCKED_BY_SQL = """
SELECT w.client_port AS waiting, h.client_port AS holding, h.pid AS holding_pid
FROM pg_stat_activity w
CROSS JOIN LATERAL unnest(pg_blocking_pids(w.pid)) AS b(pid)
JOIN pg_stat_activity h ON h.pid = b.pid
"""


async def wait_blocked_by(
    pg: asyncpg.Connection,
    waiter: ConsumerProcess,
    port: int,
    holder: ConsumerProcess | None = None,
    holder_pid: int | None = None,
) -> None:
    """Until one of ``waiter``'s connections waits for a lock that ``holder``'s connection (or
    the backend ``holder_pid``) holds."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        waiting = waiter.postgres_client_ports(port)
        holding = holder.postgres_client_ports(port) if holder is not None else set()
        for row in await pg.fetch(BLOCKED_BY_SQL):
            if row["waiting"] in waiting and (
                row["holding"] in holding or row["holding_pid"] == holder_pid
            ):
                return
        await asyncio.sleep(0.02)
    activity = await pg.fetch(
        "SELECT pid, client_port, state, wait_event_type, pg_blocking_pids(pid), left(query, 60)"
        " FROM pg_stat_activity WHERE datname = current_database()"
    )
    raise AssertionError(
        f"{waiter.name} (ports {waiter.postgres_client_ports(port)}) never waited on"
        f" {holder.name if holder else holder_pid}; sessions:\n"
        + "\n".join(str(tuple(r)) for r in activity)
    )


async def test_a_zombie_batch_is_fenced_and_nothing_is_stored_twice(scenario: Scenario) -> None:
    settings, pg = scenario.settings, scenario.pg
    # one topic of one partition: whatever batch A holds, B's first batch is of it too
    traffic = await scenario.prepare(SEED, partitions=1, only_first_feed_topic=True)
    topic = traffic.feed_topics[0]
    records = [r for r in traffic.mixed(practice_days=3000, bad_events=3000) if r.topic == topic]
    await produce(settings, records, chunk=2000)
    port = scenario.stack.postgres_port
    fleet = scenario.fleet(INGEST_BATCH_MAX_RECORDS="20000")
    a: ConsumerProcess | None = None
    blocker = await asyncpg.connect(settings.database())
    lock = blocker.transaction()
    try:
        await lock.start()
        await blocker.execute("LOCK TABLE triage.supplier_activity IN EXCLUSIVE MODE")
        a = await fleet.spawn()
        await wait_blocked_by(
            pg, a, port, holder_pid=await blocker.fetchval("SELECT pg_backend_pid()")
        )
        a.pause()  # frozen inside its batch transaction, its offset rows locked
        await fleet.evict(a)
        b = await fleet.spawn()
        await wait_blocked_by(pg, b, port, holder=a)
        await lock.commit()
        a.resume()  # A commits its batch; B goes on and must fence those records off
        a = None
        await wait_consumed(pg, settings, [topic], timeout=60, alive=fleet.assert_alive)
        codes = await fleet.stop_all()
        assert set(codes.values()) == {0}, codes

        skipped = sum(int(n) for n in _SKIPPED_RE.findall(b.log()))
        verdict = await scenario.verify(await scenario.history(records, [topic]))
        scenario.report(
            "zombie batch",
            verdict,
            {"records B fetched that the zombie stored (fenced off)": skipped},
        )
        verdict.assert_clean()
        assert skipped > 0, "B stored again the records the zombie had stored: no fence"
        assert verdict.dlq.repeats == 0, "dead letters sent twice: a batch was processed twice"
    finally:
        if a is not None:
            a.resume()
        await blocker.close()
