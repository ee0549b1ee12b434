"""librdkafka's partitioner: with ``murmur2_random`` (what the guide and the confluent-kafka
example set) a key lands where the Java client and aiokafka put it; with librdkafka's default
it does not, so per-key order would not hold across clients or replays."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from aiokafka.partitioner import DefaultPartitioner
from confluent_kafka import Producer

from ingest.kafka import ensure_topics
from ingest.settings import Settings

pytestmark = pytest.mark.integration

KEYS = [f"A8{n:04d}:2026-03-03".encode() for n in range(40)]
PARTITIONS = 6


async def _partitions_by_librdkafka(settings: Settings, topic: str, **config: Any) -> list[int]:
    placed: dict[bytes, int] = {}

    def delivered(error: Any, message: Any) -> None:
        assert error is None, error
        placed[message.key()] = message.partition()

    producer = Producer({"bootstrap.servers": settings.kafka(), "acks": "all", **config})
    for key in KEYS:
        producer.produce(topic, key=key, value=b"x", on_delivery=delivered)
    await asyncio.to_thread(producer.flush, 30)
    return [placed[key] for key in KEYS]


async def test_murmur2_random_puts_each_key_where_java_and_aiokafka_do(
    settings: Settings, token: str
) -> None:
    topic = f"triage.daily.{token}-part"
    await ensure_topics(settings, [topic], PARTITIONS)
    murmur2 = DefaultPartitioner()  # the Java client's algorithm
    everywhere = list(range(PARTITIONS))
    expected = [murmur2(key, everywhere, everywhere) for key in KEYS]

    chosen = await _partitions_by_librdkafka(settings, topic, partitioner="murmur2_random")
    default = await _partitions_by_librdkafka(settings, topic)

    assert chosen == expected
    assert default != expected  # librdkafka's default (consistent_random, CRC32) differs
