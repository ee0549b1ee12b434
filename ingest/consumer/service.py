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
* SIGTERM/SIGINT: stop fetching, finish the batch in hand, store offsets, leave the group;
* with ``INGEST_OVERLAP_BATCHES``, the next batch is fetched and triaged while the previous
  one is written (:mod:`ingest.consumer.overlap`); batches are still stored one at a time, in
  order, each with the assignment lock held, and a batch is admitted (checked against the
  assignment, its held records sought back) before the following fetch, as in the serial loop.

The process around it (HTTP endpoints, refresher, purge schedule, signals) is
:mod:`ingest.ops.process`: ``ingest run`` or ``python -m ingest.ops.process``.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
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
from ingest.consumer.dead_letters import DeadLetterSender, ensure_dead_letter_topic
from ingest.consumer.decoding import Decoder
from ingest.consumer.kafka_clients import start_clients
from ingest.consumer.key_check import mismatched_keys
from ingest.consumer.metrics import ConsumerMetrics
from ingest.consumer.outcome_relay import OutcomeRelay
from ingest.consumer.overlap import WriteInFlight, triage_ahead
from ingest.consumer.participation_watcher import ParticipationWatcher
from ingest.consumer.pipeline import Triaged, triage
from ingest.consumer.readiness import Readiness
from ingest.consumer.retry import pause
from ingest.consumer.schema_registry.gate import RegistryGate
from ingest.consumer.schema_registry.holds import HeldBatch
from ingest.consumer.schema_registry.released import RegistrySchema
from ingest.consumer.store import BatchResult, Store
from ingest.consumer.types import RecordLike, TopicPartitionKey
from ingest.contract.participation import ParticipationList
from ingest.errors import BatchAbandonedError, RetryStoppedError
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
        # INGEST_OVERLAP_BATCHES: the write in flight (it holds the assignment lock), and what
        # the last write read of the triage's inputs (the next batch is triaged against them)
        self._in_flight = WriteInFlight(self.assignments.lock)
        self._last_inputs: tuple[set[str], ParticipationList | None] | None = None

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
            await self._drain()  # the batch in hand is finished: its write awaited
        finally:
            await self._in_flight.abandon()
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
        if batch and self.settings.overlap_batches:
            await self._overlap(batch, fetched_in)
        elif batch:
            try:
                await self.process(batch, fetched_in)
            except BatchAbandonedError as exc:
                _abandoned(exc)
        elif not self._in_flight.running:  # else the write in flight tells of Postgres
            await self._drain()
            if self.database.probe_due():
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
        consumer, producer = await start_clients(self.settings, self.readiness, self._stop)
        consumer.subscribe(
            pattern=self.settings.topic_pattern, listener=self.assignments.listener()
        )
        self._consumer, self._producer = consumer, producer
        self._dead_letters = DeadLetterSender(self.settings, producer, self._kafka_lost)
        self.readiness.kafka = True
        log.info(
            "subscribed to %s as group %s (batches overlapped: %s)",
            self.settings.topic_pattern,
            self.settings.consumer_group,
            "on" if self.settings.overlap_batches else "off",
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
        return await self._process_prepared(batch, fetched_in, schemas, ahead)

    async def _process_prepared(
        self,
        batch: FetchedBatch,
        fetched_in: int | None,
        schemas: dict[int, RegistrySchema],
        ahead: HeldBatch,
    ) -> BatchResult:
        records, offsets = ahead.records, ahead.offsets
        async with self.assignments.lock:
            if not await self._admit(batch, fetched_in, ahead):
                return BatchResult()
            once = TriagedOnce()
            result = await self.database.run(
                lambda store: self._store_batch(store, records, offsets, schemas, once)
            )
        await self._stored(result, offsets)
        return result

    async def _admit(self, batch: FetchedBatch, fetched_in: int | None, ahead: HeldBatch) -> bool:
        """Whether the batch is to be written (call with the assignment lock held).

        Fetched across an assignment: dropped, its partitions sought to the offsets stored
        now. Records held for the registry: their partitions sought back to them."""
        if fetched_in is not None and fetched_in != self.assignments.generation:
            # whether it was read before or after the seek, read it again from the
            # offsets stored now (no batch of this process is in flight: the lock)
            mine = set(self._require_consumer().assignment())
            await self.assignments.seek_to_stored([tp for tp in batch if tp in mine])
            log.info(
                "partitions reassigned while %d records were fetched: batch dropped"
                " unstored, read again from the stored offsets",
                len(ahead.records) + ahead.held_records,
            )
            return False
        if ahead.held:
            self.registry.hold(self._require_consumer(), ahead.held)
        return bool(ahead.offsets)

    async def _stored(self, result: BatchResult, offsets: dict[TopicPartitionKey, int]) -> None:
        self.batches_committed += 1
        self.records_skipped += result.skipped
        if result.skipped:
            log.info("%d records of the batch were already stored: skipped", result.skipped)
        self.metrics.observe_batch(result, stored_at=self.clock())
        await commit_to_kafka(self._require_consumer(), offsets)

    # --- the overlapped loop (INGEST_OVERLAP_BATCHES) --------------------------------
    async def _overlap(self, batch: FetchedBatch, fetched_in: int) -> None:
        """Triage ``batch`` while the write in flight runs, then start its own write.

        The previous write is awaited before this batch is admitted, so batches are stored in
        order and each is admitted (assignment checked, partitions sought) before the next
        fetch, as in the serial loop. A batch with records held for the registry is stored
        serially: its partitions are sought back before anything later of them is fetched.
        Once a stop is requested no write starts: the one in flight is the batch in hand."""
        schemas, ahead = await self.registry.prepare(raw_records(batch), next_offsets(batch))
        if ahead.held:
            if await self._drain() and not self.stopping:
                try:
                    await self._process_prepared(batch, fetched_in, schemas, ahead)
                except BatchAbandonedError as exc:
                    _abandoned(exc)
            return
        # against the inputs the last write read; its own write triages it again if they
        # changed since (none yet: left to its write)
        once = await triage_ahead(
            ahead.records, self.decoder, self._last_inputs, self.settings, self.clock, schemas
        )
        self.batches_triaged += once.computed
        if not await self._drain() or self.stopping:
            # stopping: the write in flight was the batch in hand; this one, fetched ahead, is
            # left unstored (read again), and never written past a batch left unstored
            return
        await self._in_flight.start(
            lambda: self._admit(batch, fetched_in, ahead),
            lambda release: self._write(ahead, schemas, once, release),
        )

    async def _write(
        self,
        ahead: HeldBatch,
        schemas: dict[int, RegistrySchema],
        once: TriagedOnce,
        release: Callable[[], None],
    ) -> None:
        """Store an admitted batch; ``release`` the assignment lock once the transaction is
        over (before the commit to Kafka, as the serial loop does)."""
        records, offsets = ahead.records, ahead.offsets
        try:
            result = await self.database.run(
                lambda store: self._store_batch(store, records, offsets, schemas, once)
            )
        finally:
            release()
        await self._stored(result, offsets)

    async def _drain(self) -> bool:
        """Wait for the write in flight to end; False if its batch was left unstored."""
        try:
            await self._in_flight.drain()
        except BatchAbandonedError as exc:
            _abandoned(exc)
            return False
        return True

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
        self._last_inputs = (registered, participation)
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


def _abandoned(exc: BatchAbandonedError) -> None:
    log.warning("batch abandoned uncommitted (%s); it will be read again", exc)
