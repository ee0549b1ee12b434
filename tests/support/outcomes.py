"""Submission outcomes in tests: reading them back (the supplier's feedback topic, the
outbox), putting rows straight into the outbox, and a relay of the test's own."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import asyncpg
from aiokafka import AIOKafkaConsumer

from ingest.consumer.outcome_relay import OutcomeRelay
from ingest.contract.outcomes import SubmissionOutcome, decode_outcome, feedback_topic
from ingest.kafka import client_options, make_producer
from ingest.settings import Settings


async def wait_outbox_empty(pg: asyncpg.Connection, within: float = 60.0) -> None:
    """Wait until the relay has sent every outcome in the outbox."""
    deadline = asyncio.get_running_loop().time() + within
    while (left := await pg.fetchval("SELECT count(*) FROM triage.outcome_outbox")) > 0:
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"{left} outcomes still in the outbox after {within} s")
        await asyncio.sleep(0.1)


async def wait_none_waiting(pg: asyncpg.Connection, within: float = 60.0) -> None:
    """Wait until no outcome waits to be sent (parked ones left in the outbox)."""
    deadline = asyncio.get_running_loop().time() + within
    query = "SELECT count(*) FROM triage.outcome_outbox WHERE parked_at IS NULL"
    while (left := await pg.fetchval(query)) > 0:
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"{left} outcomes still waiting after {within} s")
        await asyncio.sleep(0.1)


async def read_outcomes(
    settings: Settings, supplier: str, at_least: int, within: float = 30.0
) -> list[tuple[bytes | None, SubmissionOutcome]]:
    """(key, outcome) of every record of the supplier's feedback topic, read from the
    beginning until at least ``at_least`` arrived and none arrives for a second. Partitions
    interleave in any order: key the outcomes by their source position, never by their place."""
    consumer = AIOKafkaConsumer(
        feedback_topic(supplier),
        **client_options(settings),
        auto_offset_reset="earliest",
        enable_auto_commit=False,
    )
    await consumer.start()
    got: list[tuple[bytes | None, SubmissionOutcome]] = []
    try:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + within
        quiet_since = loop.time()
        while loop.time() < deadline:
            batch = await consumer.getmany(timeout_ms=200)
            for records in batch.values():
                got.extend((r.key, decode_outcome(r.value)) for r in records)
                quiet_since = loop.time()
            if len(got) >= at_least and loop.time() - quiet_since > 1.0:
                break
        return got
    finally:
        await consumer.stop()


_QUEUE_SQL = """
INSERT INTO triage.outcome_outbox_rows
    (supplier_id, source_topic, source_partition, source_offset, key, outcome, processed_at)
SELECT $1, 'triage.daily.' || $1, 0, n, convert_to('A81001:2025-01-01', 'UTF8'), 'accepted',
       now() - make_interval(secs => $3)
FROM generate_series(0, $2 - 1) AS n
"""


async def queue_outcomes(
    pg: asyncpg.Connection, supplier: str, count: int, age_seconds: float = 0.0
) -> None:
    """Put ``count`` accepted outcomes of ``supplier`` in the outbox, stored ``age_seconds``
    ago (as batches of the consumer would)."""
    await pg.execute(_QUEUE_SQL, supplier, count, age_seconds)


@contextlib.asynccontextmanager
async def relay_of(settings: Settings) -> AsyncIterator[OutcomeRelay]:
    """An outcome relay (not started: call ``relay_once``) with a producer of its own."""
    producer = make_producer(settings)
    await producer.start()
    relay = OutcomeRelay(settings, producer)
    try:
        yield relay
    finally:
        await relay.close()
        await producer.stop()
