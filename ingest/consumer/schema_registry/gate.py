"""The service's side of the schema registry: which records of a batch go ahead, which wait.

For each batch, the schema ids of its Confluent-framed records are looked up
(:class:`~ingest.consumer.schema_registry.client.SchemaRegistryClient`: cached, concurrent, a bound
on new ids per batch). Records whose id is not answered yet are held back
(:func:`~ingest.consumer.schema_registry.holds.hold_pending`): their partition is sought back to
the first of them and read again later; the rest of the batch (other partitions,
single-object records, other suppliers) is stored as usual. While the registry does not
answer, held partitions are also paused until its next retry, so they are not fetched in a
loop; readiness says "degraded" and ``triage_schema_registry_up`` is 0.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping, Sequence

from aiokafka import AIOKafkaConsumer, TopicPartition

from ingest.consumer.decoding import confluent_schema_id
from ingest.consumer.metrics import ConsumerMetrics
from ingest.consumer.readiness import Readiness
from ingest.consumer.schema_registry.client import SchemaRegistryClient
from ingest.consumer.schema_registry.holds import HeldBatch, hold_pending
from ingest.consumer.schema_registry.released import RegistrySchema
from ingest.consumer.types import RecordLike, TopicPartitionKey
from ingest.settings import Settings

log = logging.getLogger(__name__)

MIN_PAUSE_SECONDS = 0.5


class RegistryGate:
    """Schema ids of a batch -> registry schemas, and the partitions that must wait."""

    def __init__(
        self,
        settings: Settings,
        readiness: Readiness,
        metrics: ConsumerMetrics,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.client = (
            SchemaRegistryClient(
                settings.schema_registry_url,
                timeout_seconds=settings.schema_registry_timeout_seconds,
                cache_size=settings.schema_registry_cache_size,
                unknown_ttl_seconds=settings.schema_registry_unknown_ttl_seconds,
                concurrency=settings.schema_registry_concurrency,
                lookups_per_batch=settings.schema_registry_lookups_per_batch,
                clock=clock,
                on_result=lambda kind: metrics.registry_lookups.labels(kind).inc(),
            )
            if settings.schema_registry_url
            else None
        )
        self._readiness = readiness
        self._metrics = metrics
        self._clock = clock
        self._paused: dict[TopicPartition, float] = {}  # partition -> when to resume it
        self.held_records = 0  # records held back so far (read again later)

    async def close(self) -> None:
        if self.client is not None:
            await self.client.close()

    async def prepare(
        self, records: Sequence[RecordLike], offsets: Mapping[TopicPartitionKey, int]
    ) -> tuple[dict[int, RegistrySchema], HeldBatch]:
        """The registry schemas the batch needs and what of it goes ahead now."""
        client = self.client
        if client is None:
            return {}, HeldBatch(list(records), dict(offsets))
        ids = {i for r in records if r.value and (i := confluent_schema_id(r.value)) is not None}
        if not ids:
            return {}, HeldBatch(list(records), dict(offsets))
        lookup = await client.lookup(ids)
        self._readiness.registry = client.reachable
        self._metrics.registry_up.set(1 if client.reachable else 0)
        if lookup.failed and lookup.requested:
            log.warning(
                "%s; records of %d schema ids wait (retry in %.1fs)",
                lookup.failed,
                len(lookup.pending),
                client.retry_in(),
            )
        held = hold_pending(records, offsets, lookup.pending)
        self.held_records += held.held_records
        return lookup.known, held

    def hold(self, consumer: AIOKafkaConsumer, held: Mapping[TopicPartitionKey, int]) -> None:
        """Read held partitions again from their cut; pause them while the registry is
        away (until its next retry). Call with the assignment lock held."""
        mine = consumer.assignment()
        waiting = self.client is not None and not self.client.reachable
        resume_at = self._clock() + max(
            MIN_PAUSE_SECONDS, self.client.retry_in() if self.client else 0.0
        )
        for (topic, partition), offset in held.items():
            tp = TopicPartition(topic, partition)
            if tp not in mine:
                continue
            consumer.seek(tp, offset)
            if waiting:
                consumer.pause(tp)
                self._paused[tp] = resume_at
        self._metrics.registry_held.set(
            len(set(held) | {(t.topic, t.partition) for t in self._paused})
        )

    def resume_due(self, consumer: AIOKafkaConsumer) -> None:
        """Resume the paused partitions whose wait is over (before each fetch)."""
        if not self._paused:
            return
        now = self._clock()
        due = [tp for tp, at in self._paused.items() if at <= now]
        if not due:
            return
        mine = consumer.assignment()
        for tp in due:
            del self._paused[tp]
            if tp in mine:
                consumer.resume(tp)
        self._metrics.registry_held.set(len(self._paused))
