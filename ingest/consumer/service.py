"""The ingestion consumer process: Kafka feed topics -> Postgres, exactly once in effect.

Wires the pure core (decode, validate, resolve) to the edges (Kafka, Postgres, HTTP):

* subscribes to every feed topic by pattern (new supplier topics picked up by metadata
  refresh, no restart);
* each ``getmany`` batch is decoded and validated off the event loop, then written in one
  Postgres transaction together with the next offsets (the fence against replays);
* rejections go to ``triage.rejected_events`` and, before the commit, to the DLQ
  (:mod:`ingest.consumer.dead_letters`);
* an assignment seeks its partitions to the offsets stored in Postgres once the batch in
  flight is stored; a batch fetched across an assignment is dropped and read again, so no
  batch is read twice (:mod:`ingest.consumer.assignment`);
* Postgres or Kafka unreachable: readiness drops, the batch in hand is retried with capped
  backoff (:mod:`ingest.consumer.retry`), never skipped or rejected; an idle consumer checks
  Postgres every few seconds so /readyz tells the truth (:mod:`ingest.consumer.database`);
* SIGTERM/SIGINT: stop fetching, finish the batch in hand, store offsets, leave the group.

The process around it (HTTP endpoints, refresher, purge schedule, signals) is
:mod:`ingest.ops.process`: ``ingest run`` or ``python -m ingest.ops.process``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Sequence
from typing import Generic, TypeVar

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.errors import KafkaError

from ingest.clock import Clock, system_clock
from ingest.consumer.assignment import Assignments
from ingest.consumer.batch import (
    FetchedBatch,
    TriagedOnce,
    commit_to_kafka,
    limits_now,
    next_offsets,
    raw_records,
    triage_basis,
)
from ingest.consumer.database import DatabaseSession
from ingest.consumer.dead_letters import DLQ_MAX_BYTES, DeadLetterSender, ensure_dead_letter_topic
from ingest.consumer.decoding import Decoder
from ingest.consumer.key_check import mismatched_keys
from ingest.consumer.metrics import ConsumerMetrics
from ingest.consumer.outcome_relay import OutcomeRelay
from ingest.consumer.participation_watcher import ParticipationWatcher
from ingest.consumer.pipeline import Triaged, triage
from ingest.consumer.readiness import Readiness
from ingest.consumer.retry import pause, retry
from ingest.consumer.schema_registry.gate import RegistryGate
from ingest.consumer.schema_registry.released import RegistrySchema
from ingest.consumer.store import BatchResult, Store
from ingest.consumer.types import RecordLike, TopicPartitionKey
from ingest.errors import BatchAbandonedError, RetryStoppedError
from ingest.kafka import make_consumer, make_producer
from ingest.settings import Settings

log = logging.getLogger(__name__)

M = TypeVar("M", bound=ConsumerMetrics)

KAFKA_FETCH_RETRY_SECONDS = 1.0


class IngestService(Generic[M]):
    """One consumer process of the ``triage-ingest`` group, reporting to ``metrics``."""

    def __init__(
        self,
        settings: Settings,
        metrics: M,
        clock: Clock = system_clock,
    ) -> None:
        self.settings = settings
        self.metrics = metrics
        self.clock = clock
        self.readiness = Readiness()
        self.decoder = Decoder()
        self.batches_committed = 0
        self.batches_triaged = 0  # triage runs: one per batch unless its inputs changed
        self.records_skipped = 0  # records read again that another batch had already stored
        self._stop = asyncio.Event()
        self._run_task: asyncio.Task[None] | None = None
        self.forced_stop = False
        self.database = DatabaseSession(settings, self.readiness, self.metrics, self._stop)
        self.assignments = Assignments(
            self._require_consumer,
            lambda keys: self.database.stored_offsets(settings.consumer_group, keys),
            self.readiness,
        )
        self._consumer: AIOKafkaConsumer | None = None
        self._producer: AIOKafkaProducer | None = None
        self._dead_letters: DeadLetterSender | None = None
        self._relay: OutcomeRelay | None = None
        self.participation = ParticipationWatcher(settings.participation_check_seconds)
        self.registry = RegistryGate(settings, self.readiness, self.metrics)

    # --- lifecycle -----------------------------------------------------------------
    def request_stop(self) -> None:
        """Stop fetching; the batch in hand is finished and its offsets stored.

        Bounded: if the batch cannot be stored within ``shutdown_timeout_seconds`` (Postgres
        or Kafka down), it is abandoned uncommitted, so it is simply read again next time.
        """
        if self._stop.is_set():
            return
        log.info("stop requested: finishing the batch in hand")
        self._stop.set()
        if self._run_task is not None:
            loop = asyncio.get_running_loop()
            loop.call_later(self.settings.shutdown_timeout_seconds, self._force_stop)

    def _force_stop(self) -> None:
        if self._run_task is not None and not self._run_task.done():
            log.warning(
                "batch in hand not stored within %.0fs of the stop request; abandoning it"
                " (nothing was committed, it will be read again)",
                self.settings.shutdown_timeout_seconds,
            )
            self.forced_stop = True
            self._run_task.cancel()

    @property
    def stopping(self) -> bool:
        return self._stop.is_set()

    @property
    def kafka_consumer(self) -> AIOKafkaConsumer | None:
        """The Kafka consumer once started (for the lag gauges), else None."""
        return self._consumer

    async def run(self) -> None:
        """Consume until asked to stop."""
        self._run_task = asyncio.current_task()
        try:
            try:
                await self.database.connect()
                await self._start_kafka()
            except RetryStoppedError:
                return
            await ensure_dead_letter_topic(self.settings)
            self._relay = OutcomeRelay(
                self.settings, self.producer, on_sent=self.metrics.count_relayed
            )
            self._relay.start()
            while not self.stopping:
                await self._poll_once()
        finally:
            await self._close()

    async def _poll_once(self) -> None:
        consumer = self._require_consumer()
        fetched_in = self.assignments.generation
        self.registry.resume_due(consumer)
        try:
            batch = await consumer.getmany(
                timeout_ms=self.settings.batch_timeout_ms,
                max_records=self.settings.batch_max_records,
            )
            self.readiness.kafka = True
        except KafkaError as exc:
            self.readiness.kafka = False
            log.warning("Kafka fetch failed (%s); backing off", exc)
            await pause(KAFKA_FETCH_RETRY_SECONDS, self._stop)
            return
        if batch:
            try:
                await self.process(batch, fetched_in)
            except BatchAbandonedError as exc:
                log.warning("batch abandoned uncommitted (%s); it will be read again", exc)
        elif self.database.probe_due():
            await self.database.probe()

    async def _close(self) -> None:
        self.readiness.reset()
        if self._relay is not None:
            await self._relay.close()
        if self._consumer is not None:
            try:
                await asyncio.wait_for(
                    self._consumer.stop(), self.settings.shutdown_timeout_seconds
                )
            except (KafkaError, TimeoutError) as exc:
                log.warning("consumer did not leave the group cleanly: %s", exc)
        if self._producer is not None:
            try:
                await asyncio.wait_for(
                    self._producer.stop(), self.settings.shutdown_timeout_seconds
                )
            except (KafkaError, TimeoutError) as exc:
                log.warning("DLQ producer did not stop cleanly: %s", exc)
        await self.registry.close()
        await self.database.close()
        log.info(
            "stopped after %d committed batches (%d records skipped as already stored)",
            self.batches_committed,
            self.records_skipped,
        )

    # --- Kafka ---------------------------------------------------------------------
    async def _start_kafka(self) -> None:
        """Start the feed consumer and the DLQ producer, retrying while Kafka is away;
        :class:`RetryStoppedError` when stopped meanwhile."""
        if self.stopping:
            raise RetryStoppedError("stopped before Kafka was reached")

        async def attempt() -> tuple[AIOKafkaConsumer, AIOKafkaProducer]:
            consumer = make_consumer(self.settings)
            producer = make_producer(self.settings, max_request_size=DLQ_MAX_BYTES)
            try:
                await consumer.start()
                await producer.start()
            except (KafkaError, OSError):
                await _quiet_stop(consumer, producer)
                raise
            return consumer, producer

        def lost(_: BaseException) -> None:
            self.readiness.kafka = False

        consumer, producer = await retry(
            attempt,
            retry_on=(KafkaError, OSError),
            cap=self.settings.db_retry_max_seconds,
            describe=lambda exc: f"Kafka unreachable ({exc})",
            on_failure=lost,
            stop=self._stop,
            logger=log,
        )
        consumer.subscribe(
            pattern=self.settings.topic_pattern, listener=self.assignments.listener()
        )
        self._consumer, self._producer = consumer, producer
        self._dead_letters = DeadLetterSender(self.settings, producer, self._kafka_lost)
        self.readiness.kafka = True
        log.info(
            "subscribed to %s as group %s",
            self.settings.topic_pattern,
            self.settings.consumer_group,
        )

    def _kafka_lost(self) -> None:
        self.readiness.kafka = False

    @property
    def producer(self) -> AIOKafkaProducer:
        """The service's producer (dead letters and outcomes), once Kafka is started."""
        if self._producer is None:
            raise RuntimeError("producer not started")
        return self._producer

    @property
    def relay(self) -> OutcomeRelay | None:
        """The outcome relay, once Kafka is started."""
        return self._relay

    def _require_consumer(self) -> AIOKafkaConsumer:
        if self._consumer is None:
            raise RuntimeError("Kafka consumer not started")
        return self._consumer

    @property
    def dead_letters(self) -> DeadLetterSender:
        """The DLQ sender (once Kafka is started)."""
        if self._dead_letters is None:
            raise RuntimeError("DLQ producer not started")
        return self._dead_letters

    # --- one batch -----------------------------------------------------------------
    async def process(self, batch: FetchedBatch, fetched_in: int | None = None) -> BatchResult:
        """Decode, validate, resolve and store one batch; retried until it is stored.

        ``fetched_in``: the assignment generation when the batch was fetched; if partitions
        were (re)assigned since, the batch is dropped unstored, its partitions sought to the
        offsets stored now, and an empty result returned."""
        # records whose schema id the registry has not answered wait (their partitions are
        # read again from the first of them); the rest goes ahead
        schemas, ahead = await self.registry.prepare(raw_records(batch), next_offsets(batch))
        records, offsets = ahead.records, ahead.offsets
        async with self.assignments.lock:
            if fetched_in is not None and fetched_in != self.assignments.generation:
                # whether it was read before or after the seek, read it again from the
                # offsets stored now (no batch of this process is in flight: the lock)
                mine = set(self._require_consumer().assignment())
                await self.assignments.seek_to_stored([tp for tp in batch if tp in mine])
                log.info(
                    "partitions reassigned while %d records were fetched: batch dropped"
                    " unstored, read again from the stored offsets",
                    len(records) + ahead.held_records,
                )
                return BatchResult()
            if ahead.held:
                self.registry.hold(self._require_consumer(), ahead.held)
                if not offsets:
                    return BatchResult()
            once = TriagedOnce()
            result = await self.database.run(
                lambda store: self._store_batch(store, records, offsets, schemas, once)
            )
        self.batches_committed += 1
        self.records_skipped += result.skipped
        if result.skipped:
            log.info("%d records of the batch were already stored: skipped", result.skipped)
        self.metrics.observe_batch(result, stored_at=self.clock())
        await commit_to_kafka(self._require_consumer(), offsets)
        return result

    async def _store_batch(
        self,
        store: Store,
        records: Sequence[RecordLike],
        offsets: dict[TopicPartitionKey, int],
        schemas: dict[int, RegistrySchema],
        once: TriagedOnce,
    ) -> BatchResult:
        registered = await store.registered_suppliers()
        self.metrics.set_registered(registered)
        participation = await self.participation.refresh(store.connection)
        limits = limits_now(self.settings, self.clock, participation)
        basis = triage_basis(registered, limits)
        if not once.reusable(basis):  # the first attempt, or the suppliers or day changed
            triaged: Triaged = await asyncio.to_thread(
                triage, records, self.decoder, registered, limits, schemas
            )
            mismatched = await asyncio.to_thread(
                mismatched_keys, triaged.valid, triaged.valid_records
            )
            once.keep(basis, triaged, mismatched)
            self.batches_triaged += 1
        triaged, mismatched = once.triaged, once.mismatched
        result = await store.write_batch(
            self.settings.consumer_group,
            triaged,
            offsets,
            self.dead_letters.send,
            now=self.clock(),
            key_mismatched=mismatched,
        )
        self.metrics.observe_key_mismatches(result.key_mismatches)  # once the batch is stored
        return result


async def _quiet_stop(*clients: AIOKafkaConsumer | AIOKafkaProducer) -> None:
    for client in clients:
        with contextlib.suppress(KafkaError, OSError):
            await client.stop()
