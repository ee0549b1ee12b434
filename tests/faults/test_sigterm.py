"""SIGTERM during a large batch: the batch in hand is finished and stored with its offsets,
the process leaves the group and exits 0, and a restart redoes nothing.

A backlog of mixed traffic is waiting; the consumer (batches of up to 10,000 records) gets
SIGTERM while its connection holds a batch transaction open. Then:

* exit code 0, well within ``shutdown_timeout_seconds``, after a LeaveGroup;
* the offsets moved past the batch that was in flight (it was finished, not dropped), and
  no more than one batch was stored after the signal;
* the database equals the oracle applied to every record below the stored offsets — nothing
  beyond them is stored, nothing below them is missing - and Kafka's committed offsets of the
  group mirror them;
* a restarted consumer starts exactly there: it skips no record as already stored, sends no
  dead letter twice, and the database ends equal to the oracle of the whole backlog.
"""

from __future__ import annotations

import asyncio
import re
import time

import asyncpg
import pytest
from aiokafka.admin import AIOKafkaAdminClient

from ingest.kafka import client_options
from ingest.settings import Settings
from tests.faults.conftest import PrivateStack
from tests.faults.driver import (
    IN_FLIGHT_SQL,
    ConsumerProcess,
    check_database,
    expected_from,
    produce,
)
from tests.faults.scenario import Scenario
from tests.faults.traffic import disagreements
from tests.support.service import running, wait_consumed

pytestmark = [pytest.mark.faults, pytest.mark.integration]

SEED = 4242
BATCH = 10_000
LARGE_BATCH_SECONDS = 0.1  # a transaction open this long holds a large batch
LARGE = 1_000  # records at least in the batch finished after SIGTERM


async def stored_offsets(pg: asyncpg.Connection, group: str) -> dict[tuple[str, int], int]:
    rows = await pg.fetch(
        "SELECT topic, partition, next_offset FROM triage.consumer_offsets WHERE group_id = $1",
        group,
    )
    return {(r[0], r[1]): r[2] for r in rows if r[2] >= 0}


async def kafka_committed(settings: Settings) -> dict[tuple[str, int], int]:
    admin = AIOKafkaAdminClient(**client_options(settings))
    await admin.start()
    try:
        offsets = await admin.list_consumer_group_offsets(settings.consumer_group)
    finally:
        await admin.close()
    return {(tp.topic, tp.partition): meta.offset for tp, meta in offsets.items()}


async def sigterm_in_a_batch(
    proc: ConsumerProcess, pg: asyncpg.Connection, settings: Settings, stack: PrivateStack
) -> tuple[dict[tuple[str, int], int], int, float]:
    """SIGTERM while the process holds a batch transaction open (its offset-row lock
    granted); returns the offsets stored before that transaction, the exit code and the
    seconds the process took to exit."""

    async def in_flight() -> set[object]:
        """Batch transactions of the process open for LARGE_BATCH_SECONDS at least (a small
        batch commits sooner): the large batch is the one to interrupt."""
        ports = proc.postgres_client_ports(stack.postgres_port)
        now = await pg.fetchval("SELECT clock_timestamp()")
        return {
            r["xact_start"]
            for r in await pg.fetch(IN_FLIGHT_SQL)
            if r[0] in ports and (now - r["xact_start"]).total_seconds() > LARGE_BATCH_SECONDS
        }

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        seen = await in_flight()
        if seen:
            before = await stored_offsets(pg, settings.consumer_group)
            if seen & await in_flight():  # the same transaction: not committed before `before`
                stopping = time.monotonic()
                code = await proc.terminate(timeout=60)
                return before, code, time.monotonic() - stopping
        await asyncio.sleep(0.002)
    raise AssertionError("the consumer never held a batch transaction")


async def test_sigterm_during_a_large_batch_finishes_it_and_a_restart_redoes_nothing(
    scenario: Scenario,
) -> None:
    settings, pg = scenario.settings, scenario.pg
    traffic = await scenario.prepare(SEED, partitions=3)
    records = traffic.mixed(practice_days=9000, bad_events=4000)
    assert disagreements(records, scenario.classify) == []
    await produce(settings, records, chunk=2000)
    broker = await scenario.history(records)

    fleet = scenario.fleet(INGEST_BATCH_MAX_RECORDS=str(BATCH))
    proc = await fleet.spawn()
    before, code, stopped_in = await sigterm_in_a_batch(proc, pg, settings, scenario.stack)
    fleet.live.remove(proc)
    log = proc.log()
    assert code == 0, log[-4000:]
    assert stopped_in < settings.shutdown_timeout_seconds
    assert "LeaveGroup request succeeded" in log
    assert "Traceback" not in log, log[-4000:]

    after = await stored_offsets(pg, settings.consumer_group)
    finished = sum(after.values()) - sum(before.values())
    assert finished <= BATCH, f"{finished} records stored after SIGTERM: not one batch"
    assert finished >= LARGE, f"the batch finished after SIGTERM had {finished} records"
    batches = [int(n) for n in re.findall(r"stopped after (\d+) committed batches", log)]
    assert len(batches) == 1
    assert await kafka_committed(settings) == after

    # exactly the records below the stored offsets are stored
    prefix = [r for r in broker if r.offset < after.get((r.topic, r.partition), 0)]
    db_prefix = await check_database(pg, settings, expected_from(prefix, traffic.registered))
    assert not db_prefix.problems, "\n".join(db_prefix.problems)

    # a restart continues exactly there
    async with running(settings) as service:
        await wait_consumed(pg, settings, traffic.topics, timeout=120)
    assert service.records_skipped == 0
    verdict = await scenario.verify(broker)
    scenario.report(
        "SIGTERM during a large batch",
        verdict,
        {
            "stored when SIGTERM came": f"{sum(before.values())} records",
            "finished after SIGTERM": f"{finished} records (one batch), exit code"
            f" {code} in {stopped_in:.2f} s",
            "batches before the stop": batches[0],
            "prefix checked against the oracle": f"{len(prefix)} records",
            "restart": f"{service.batches_committed} batches,"
            f" {service.records_skipped} records skipped as already stored",
        },
    )
    verdict.assert_clean()
    assert verdict.dlq.repeats == 0, "a dead letter was sent twice: some batch was processed twice"
