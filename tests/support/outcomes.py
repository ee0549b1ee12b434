"""Reading submission outcomes back in tests: the supplier's feedback topic, the outbox."""

from __future__ import annotations

import asyncio

import asyncpg
from aiokafka import AIOKafkaConsumer

from ingest.contract.outcomes import SubmissionOutcome, decode_outcome, feedback_topic
from ingest.kafka import client_options
from ingest.settings import Settings


async def wait_outbox_empty(pg: asyncpg.Connection, within: float = 60.0) -> None:
    """Wait until the relay has sent every outcome in the outbox."""
    deadline = asyncio.get_running_loop().time() + within
    while (left := await pg.fetchval("SELECT count(*) FROM triage.outcome_outbox")) > 0:
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"{left} outcomes still in the outbox after {within} s")
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
