"""Putting the benchmark's backlog on the real broker, fast: pre-encoded values appended to
record batches of up to 1 MB per partition (aiokafka's batch API, no per-record await),
many batches in flight, no compression (loopback: compressing costs more than it saves)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from dataclasses import dataclass

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from tests.bench.data import DataSet, by_partition

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
        existing = set(await admin.list_topics())
        new = [NewTopic(n, partitions, 1) for n in names if n not in existing]
        if new:
            await admin.create_topics(new)
        for _ in range(200):
            described = await admin.describe_topics(list(names))
            ready = [
                t
                for t in described
                if t["error_code"] == 0
                and len(t["partitions"]) == partitions
                and all(p["leader"] >= 0 for p in t["partitions"])
            ]
            if len(ready) == len(names):
                return
            await asyncio.sleep(0.1)
        raise RuntimeError(f"topics {list(names)} have no leaders after 20 s")
    finally:
        await admin.close()


async def delete_topics(bootstrap: str, names: Sequence[str]) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        await admin.delete_topics(list(names))
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
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap)
    await consumer.start()
    try:
        parts = [
            TopicPartition(t, p)
            for t in topics
            for p in sorted(consumer.partitions_for_topic(t) or await _partitions(consumer, t))
        ]
        ends = await consumer.end_offsets(parts)
        return {(tp.topic, tp.partition): int(n) for tp, n in ends.items()}
    finally:
        await consumer.stop()


async def _partitions(consumer: AIOKafkaConsumer, topic: str) -> set[int]:
    cluster = await consumer._client.fetch_all_metadata()
    found = cluster.partitions_for_topic(topic)
    if not found:
        raise RuntimeError(f"topic {topic} has no partitions")
    return set(found)
