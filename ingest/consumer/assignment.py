"""Partition assignment: newly assigned partitions start from the offsets stored in Postgres.

aiokafka runs the assignment callback while the fetcher already reads from Kafka's committed
offsets, and ``getmany`` may have returned records of these partitions meanwhile. So the batch
in flight is stored first (:attr:`Assignments.lock`), the offsets are read after it, and a
batch fetched before this seek is dropped unstored (:attr:`Assignments.generation`): otherwise
the seek sends the consumer back over records that batch stores, and they are read twice.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Collection, Sequence

from aiokafka import AIOKafkaConsumer, TopicPartition

from ingest.consumer.readiness import Readiness
from ingest.consumer.types import TopicPartitionKey
from ingest.kafka import ListenerBase

log = logging.getLogger(__name__)

OffsetReader = Callable[[list[TopicPartitionKey]], Awaitable[dict[TopicPartitionKey, int]]]


class Assignments:
    """Seeks assigned partitions to their stored offsets; counts assignments so that a batch
    fetched across one is recognised."""

    def __init__(
        self,
        consumer: Callable[[], AIOKafkaConsumer],
        stored_offsets: OffsetReader,
        readiness: Readiness,
    ) -> None:
        self._consumer = consumer
        self._stored_offsets = stored_offsets
        self._readiness = readiness
        # A batch is stored and partitions are repositioned one at a time; every assignment
        # bumps the generation, and a batch fetched before the latest one is dropped unstored.
        self.lock = asyncio.Lock()
        self.generation = 0

    async def on_assigned(self, partitions: Sequence[TopicPartition]) -> None:
        """Seek every newly assigned partition to the offset stored in Postgres, once the
        batch in flight is stored."""
        async with self.lock:
            stored = await self.seek_to_stored(partitions)
            self.generation += 1
        self._readiness.assigned = bool(self._consumer().assignment())
        log.info("assigned %d partitions (%d with stored offsets)", len(partitions), len(stored))

    async def seek_to_stored(
        self, partitions: Collection[TopicPartition]
    ) -> dict[TopicPartitionKey, int]:
        """Seek each partition to its stored offset (the beginning when none is stored)."""
        consumer = self._consumer()
        stored = await self._stored_offsets([(tp.topic, tp.partition) for tp in partitions])
        for tp in partitions:
            offset = stored.get((tp.topic, tp.partition))
            if offset is None:
                await consumer.seek_to_beginning(tp)
            else:
                consumer.seek(tp, offset)
        return stored

    def listener(self) -> ListenerBase:
        """The rebalance listener to subscribe with."""
        return _Listener(self)


class _Listener(ListenerBase):
    def __init__(self, assignments: Assignments) -> None:
        self._assignments = assignments

    async def on_partitions_revoked(self, revoked: Sequence[TopicPartition]) -> None:
        # Nothing to flush: each batch is committed with its offsets, the offset rows fence
        # any batch still in flight, and a batch fetched before the assignment that follows
        # (with INGEST_OVERLAP_BATCHES, also one fetched while a write ran) is dropped.
        log.info("revoked %d partitions", len(revoked))

    async def on_partitions_assigned(self, assigned: Sequence[TopicPartition]) -> None:
        await self._assignments.on_assigned(assigned)
