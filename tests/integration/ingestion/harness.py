"""Driving the real consumer against the real broker and database in tests."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from typing import Any

import asyncpg
from aiokafka import AIOKafkaConsumer, TopicPartition

from ingest.consumer.service import IngestService
from ingest.contract.model import topic_for
from ingest.kafka import client_options, ensure_topics, make_producer
from ingest.settings import Settings

Record = tuple[bytes | None, bytes | None]


async def register(
    pg: asyncpg.Connection, settings: Settings, supplier_id: str, partitions: int = 3
) -> str:
    """Register a supplier and create its topic; returns the topic."""
    await pg.execute(
        "INSERT INTO triage.suppliers (supplier_id, name) VALUES ($1, $1)"
        " ON CONFLICT (supplier_id) DO UPDATE SET active = true",
        supplier_id,
    )
    topic = topic_for(supplier_id)
    await ensure_topics(settings, [topic], partitions)
    return topic


async def produce(
    settings: Settings, topic: str, records: Sequence[Record], partition: int | None = None
) -> list[tuple[int, int]]:
    """Produce in order (one partition when given); returns (partition, offset) of each."""
    producer = make_producer(settings)
    await producer.start()
    try:
        placed = []
        for key, value in records:
            meta = await producer.send_and_wait(topic, value=value, key=key, partition=partition)
            placed.append((meta.partition, meta.offset))
        return placed
    finally:
        await producer.stop()


async def end_offsets(settings: Settings, topics: Sequence[str]) -> dict[tuple[str, int], int]:
    """The end offset of every partition of the topics (fails when a topic has none)."""
    consumer = AIOKafkaConsumer(**client_options(settings))
    await consumer.start()
    try:
        cluster = await consumer._client.fetch_all_metadata()
        parts = []
        for topic in topics:
            partitions = cluster.partitions_for_topic(topic)
            if not partitions:
                raise AssertionError(f"topic {topic} has no partitions")
            parts.extend(TopicPartition(topic, p) for p in partitions)
        ends = await consumer.end_offsets(parts)
        return {(tp.topic, tp.partition): n for tp, n in ends.items()}
    finally:
        await consumer.stop()


async def wait_until(
    check: Callable[[], Awaitable[bool]], timeout: float = 60.0, what: str = "condition"
) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not await check():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        await asyncio.sleep(0.1)


async def wait_consumed(
    pg: asyncpg.Connection, settings: Settings, topics: Sequence[str], timeout: float = 60.0
) -> None:
    """Wait until the stored offsets reach the end of every partition of the topics."""
    ends = await end_offsets(settings, topics)

    async def caught_up() -> bool:
        rows = await pg.fetch(
            "SELECT topic, partition, next_offset FROM triage.consumer_offsets WHERE group_id = $1",
            settings.consumer_group,
        )
        stored = {(r["topic"], r["partition"]): r["next_offset"] for r in rows}
        return all(stored.get(tp, 0) >= end for tp, end in ends.items() if end > 0)

    await wait_until(caught_up, timeout, f"the consumer to reach {ends}")


@contextlib.asynccontextmanager
async def running(settings: Settings, **kwargs: Any) -> AsyncIterator[IngestService]:
    """An IngestService running in this event loop; stopped (gracefully) on exit."""
    service = IngestService(settings, **kwargs)
    task = asyncio.create_task(service.run())
    try:
        yield service
    finally:
        service.request_stop()
        await asyncio.wait_for(task, timeout=60)


async def read_topic(
    settings: Settings, topic: str, expected: int, timeout: float = 30.0
) -> list[Any]:
    """Read at least ``expected`` records of a topic from the beginning."""
    consumer = AIOKafkaConsumer(
        topic, **client_options(settings), auto_offset_reset="earliest", enable_auto_commit=False
    )
    await consumer.start()
    got: list[Any] = []
    try:
        deadline = asyncio.get_running_loop().time() + timeout
        while len(got) < expected and asyncio.get_running_loop().time() < deadline:
            batch = await consumer.getmany(timeout_ms=500)
            for msgs in batch.values():
                got.extend(msgs)
        return got
    finally:
        await consumer.stop()


def yesterday() -> dt.date:
    return dt.date.today() - dt.timedelta(days=1)


def sample(service: IngestService, name: str, **labels: str) -> float:
    value = service.metrics.registry.get_sample_value(name, labels)
    return 0.0 if value is None else value
