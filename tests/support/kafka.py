"""The real broker in tests: creating topics, producing, reading back, end offsets."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from typing import Any

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType

from ingest.contract.model import topic_for
from ingest.kafka import TopicSpec, client_options, make_producer
from ingest.settings import Settings
from tests.support.events import encoded, key_of

Record = tuple[bytes | None, bytes | None]  # (key, value)
CreateTopics = Callable[..., Awaitable[list[str]]]


async def create_kafka_topics(
    admin: AIOKafkaAdminClient,
    partitions: Mapping[str, int],
    configs: Mapping[str, str] | None = None,
    within: float = 20.0,
) -> list[str]:
    """Create the topics that do not exist yet (replication 1, these partition counts and
    topic configs) and wait until every partition has a leader."""
    wanted = list(partitions)
    existing = set(await admin.list_topics())
    new = [
        NewTopic(name, count, 1, topic_configs=dict(configs or {}))
        for name, count in partitions.items()
        if name not in existing
    ]
    if new:
        await admin.create_topics(new)
    deadline = asyncio.get_running_loop().time() + within
    while asyncio.get_running_loop().time() < deadline:
        described = await admin.describe_topics(wanted)
        ready = [
            t
            for t in described
            if t["error_code"] == 0
            and t["partitions"]
            and all(p["leader"] >= 0 for p in t["partitions"])
        ]
        if len(ready) == len(wanted):
            return wanted
        await asyncio.sleep(0.1)
    raise AssertionError(f"topics {wanted} have no leader after {within:.0f} s")


async def produce(
    settings: Settings, topic: str, records: Sequence[Record], partition: int | None = None
) -> list[tuple[int, int]]:
    """Produce in order (to one partition when given), each acknowledged before the next;
    returns (partition, offset) of each."""
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


async def produce_unacknowledged(
    settings: Settings, topic: str, records: Sequence[Record], partition: int | None = None
) -> None:
    """Produce many records in order without waiting for each acknowledgement (all are
    acknowledged before it returns)."""
    producer = make_producer(settings)
    await producer.start()
    try:
        sent = [
            await producer.send(topic, value=value, key=key, partition=partition)
            for key, value in records
        ]
        await asyncio.gather(*sent)
    finally:
        await producer.stop()


async def produce_values(settings: Settings, topic: str, values: Iterable[bytes]) -> None:
    """Produce raw values without keys, in order."""
    await produce(settings, topic, [(None, value) for value in values])


async def produce_events(
    settings: Settings, payloads: Iterable[dict[str, Any]], topic: str = ""
) -> None:
    """Encode events (schema v1) and send each to its supplier's topic (or ``topic``), in
    order, each acknowledged before the next."""
    producer = make_producer(settings)
    await producer.start()
    try:
        for payload in payloads:
            await producer.send_and_wait(
                topic or topic_for(payload["supplier_id"]), encoded(payload), key=key_of(payload)
            )
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


async def read_topic(
    settings: Settings, topic: str, expected: int, timeout: float = 30.0
) -> list[Any]:
    """Read at least ``expected`` records of a topic from the beginning. Each partition's
    records come in offset order, but partitions interleave in any order: compare them as a
    set or keyed by what they are (e.g. their headers), never by their place in the list."""
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


async def topic_layout(
    admin: AIOKafkaAdminClient, topic: str, spec: TopicSpec
) -> tuple[int, dict[str, str]]:
    """The topic's partition count and the configs ``spec`` sets, as the broker holds them."""
    (described,) = await admin.describe_topics([topic])
    assert described["error_code"] == 0, described
    (response,) = await admin.describe_configs([ConfigResource(ConfigResourceType.TOPIC, topic)])
    ((error_code, message, _type, _name, entries),) = response.resources
    assert error_code == 0, message
    wanted = spec.configs()
    configs = {entry[0]: entry[1] for entry in entries if entry[0] in wanted}
    return len(described["partitions"]), configs
