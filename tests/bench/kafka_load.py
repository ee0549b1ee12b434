"""Putting the benchmark's backlog on the real broker, fast: pre-encoded values appended to
record batches of up to 1 MB per partition (aiokafka's batch API, no per-record await),
many batches in flight, no compression (loopback: compressing costs more than it saves)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from dataclasses import dataclass

from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient

from ingest.contract.outcomes import feedback_topic
from ingest.settings import Settings
from tests.bench.data import DataSet, by_partition
from tests.support.kafka import create_kafka_topics
from tests.support.kafka import end_offsets as topic_end_offsets

BATCH_BYTES = 1_000_000


@dataclass
class Produced:
    records: int
    bytes: int
    seconds: float
    end_offsets: dict[tuple[str, int], int]

    @property
    def rate(self) -> float:
        return self.records / self.seconds if self.seconds else 0.0


async def create_topics(bootstrap: str, names: Sequence[str], partitions: int) -> None:
    """Create the topics and wait until every partition has a leader."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        await create_kafka_topics(admin, dict.fromkeys(names, partitions))
    finally:
        await admin.close()


def run_topics(data: DataSet, prefix: str) -> list[str]:
    """Every topic a run creates: the suppliers' topics, its dead-letter topic and the feedback
    topics the service's outcome relay creates on demand (``triage.feedback.<supplier_id>``)."""
    return [*data.topics, f"triage.dlq.{prefix}", *(feedback_topic(s) for s in data.suppliers)]


async def topics_named(bootstrap: str, part: str) -> list[str]:
    """The broker's topics whose name contains ``part`` (what a run left behind)."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        return sorted(name for name in await admin.list_topics() if part in name)
    finally:
        await admin.close()


async def delete_topics(bootstrap: str, names: Sequence[str]) -> None:
    """Delete those of ``names`` that exist."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        if present := [name for name in names if name in existing]:
            await admin.delete_topics(present)
    finally:
        await admin.close()


async def produce(bootstrap: str, data: DataSet) -> Produced:
    """Produce every item to its topic and partition, in order; returns the end offsets."""
    producer = AIOKafkaProducer(
        bootstrap_servers=bootstrap,
        acks="all",
        enable_idempotence=True,
        linger_ms=20,
        max_batch_size=BATCH_BYTES,
        max_request_size=BATCH_BYTES + 65_536,
        request_timeout_ms=120_000,
    )
    await producer.start()
    total_bytes = 0
    started = time.perf_counter()
    try:
        futures: list[asyncio.Future[object]] = []
        for supplier, partition, items in by_partition(data.items):
            topic = f"triage.daily.{supplier}"
            batch = producer.create_batch()
            for item in items:
                total_bytes += len(item.value) + len(item.key)
                if batch.append(key=item.key, value=item.value, timestamp=None) is None:
                    futures.append(await producer.send_batch(batch, topic, partition=partition))
                    batch = producer.create_batch()
                    if batch.append(key=item.key, value=item.value, timestamp=None) is None:
                        raise RuntimeError("a record larger than a batch")
            if batch.record_count():
                futures.append(await producer.send_batch(batch, topic, partition=partition))
        await asyncio.gather(*futures)
        seconds = time.perf_counter() - started
    finally:
        await producer.stop()
    ends = await end_offsets(bootstrap, data.topics)
    return Produced(len(data.items), total_bytes, seconds, ends)


async def end_offsets(bootstrap: str, topics: Sequence[str]) -> dict[tuple[str, int], int]:
    return await topic_end_offsets(Settings(kafka_bootstrap=bootstrap), topics)
