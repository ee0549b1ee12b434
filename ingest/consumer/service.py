"""The ingestion consumer process: Kafka feed topics -> Postgres, exactly once in effect.

Wires the pure core (decode, validate, resolve) to the edges (Kafka, Postgres, HTTP):

* subscribes to every feed topic by pattern (new supplier topics picked up by metadata
  refresh, no restart);
* each ``getmany`` batch is decoded and validated off the event loop, then written in one
  Postgres transaction together with the next offsets (the fence against replays);
* rejections go to ``triage.rejected_events`` and, before the commit, to the DLQ (a letter
  too large for the DLQ topic is sent without its value, never retried forever);
* an assignment seeks its partitions to the offsets stored in Postgres once the batch in
  flight is stored; a batch fetched across an assignment is dropped and read again, so no
  batch is read twice;
* Postgres or Kafka unreachable: readiness drops, the batch in hand is retried with capped
  backoff, never skipped or rejected; an idle consumer checks Postgres every few seconds so
  /readyz tells the truth;
* SIGTERM/SIGINT: stop fetching, finish the batch in hand, store offsets, leave the group.

Run it with ``ingest run`` or ``python -m ingest.consumer.service``.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import signal
from collections.abc import Awaitable, Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import asyncpg
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import NewTopic
from aiokafka.errors import (
    KafkaError,
    MessageSizeTooLargeError,
    RecordListTooLargeError,
    RecordTooLargeError,
    TopicAlreadyExistsError,
)

from ingest.clock import Clock, local_today, system_clock
from ingest.consumer.deadletter import HEADER_OFFSET, HEADER_TOPIC, DeadLetter, dead_letter
from ingest.consumer.decoding import Decoder, confluent_schema_id
from ingest.consumer.pipeline import RawRecord, Triaged, triage
from ingest.consumer.schema_registry import SchemaRegistryClient
from ingest.consumer.store import BatchResult, Store, TopicPartitionKey
from ingest.contract.model import Rejection
from ingest.contract.validation import Limits
from ingest.db.migrate import apply_migrations
from ingest.errors import BatchAbandonedError, IngestError, SchemaRegistryError
from ingest.kafka import (
    ListenerBase,
    make_admin,
    make_consumer,
    make_producer,
)
from ingest.ops.metrics import IngestMetrics
from ingest.settings import Settings, load_settings

log = logging.getLogger("ingest.consumer.service")

T = TypeVar("T")

# Errors after which Postgres is considered unreachable (retry, never reject).
DB_UNAVAILABLE: tuple[type[BaseException], ...] = (
    OSError,
    TimeoutError,
    asyncpg.InterfaceError,
    asyncpg.PostgresConnectionError,
    asyncpg.exceptions.OperatorInterventionError,  # shutting down, starting up, recovering
    asyncpg.exceptions.TooManyConnectionsError,
    # The server ending the session while the connection sits idle in a transaction (e.g.
    # pg_ctl stop -m fast during a DLQ wait) can leave asyncpg's protocol half-way through
    # the error: the next statement raises "cannot switch to state ...; another operation
    # is in progress". The connection is unusable: reconnect, like any other outage.
    asyncpg.exceptions.InternalClientError,
)
# While idle, Postgres is checked this often so that /readyz does not report a database that
# went away (nothing else would touch it until the next record arrives).
DB_PROBE_SECONDS = 5.0
# A dead letter holds the rejected record's key and value (a feed topic may allow values
# above the broker's 1 MB default) plus headers: the DLQ producer and a DLQ topic created by
# the service accept letters up to this size. A letter the DLQ still refuses as too large
# goes without its value, then without its key (both stay in triage.rejected_events).
DLQ_MAX_BYTES = 16 * 1024 * 1024
DLQ_DETAIL_MAX_CHARS = 4000  # the triage.error.detail header; the full text is in Postgres
HEADER_OMITTED = "triage.error.omitted"
TOO_LARGE: tuple[type[KafkaError], ...] = (
    MessageSizeTooLargeError,
    RecordListTooLargeError,
    RecordTooLargeError,
)
RETRY_AGAIN: tuple[type[BaseException], ...] = (
    asyncpg.UniqueViolationError,  # another consumer stored the same (key, revision) first
    asyncpg.DeadlockDetectedError,
    asyncpg.SerializationError,
)


@dataclass
class Readiness:
    """What /readyz reports: Kafka and Postgres reachable and partitions assigned."""

    database: bool = False
    kafka: bool = False
    assigned: bool = False

    @property
    def ready(self) -> bool:
        return self.database and self.kafka and self.assigned


class Backoff:
    """Capped exponential backoff."""

    def __init__(self, cap: float, start: float = 0.2) -> None:
        self._start, self._cap, self._next = start, cap, start

    def reset(self) -> None:
        self._next = self._start

    def next_delay(self) -> float:
        delay, self._next = self._next, min(self._next * 2, self._cap)
        return delay


class IngestService:
    """One consumer process of the ``triage-ingest`` group."""

    def __init__(
        self,
        settings: Settings,
        metrics: IngestMetrics | None = None,
        clock: Clock = system_clock,
    ) -> None:
        self.settings = settings
        self.metrics = metrics or IngestMetrics()
        self.clock = clock
        self.readiness = Readiness()
        self.decoder = Decoder()
        self.batches_committed = 0
        self.records_skipped = 0  # records read again that another batch had already stored
        self._db_checked = 0.0  # monotonic time Postgres last answered
        # A batch is stored and partitions are repositioned one at a time; every assignment
        # bumps the counter, and a batch fetched before the latest one is dropped unstored.
        self._batch_lock = asyncio.Lock()
        self._assignments = 0
        self._stop = asyncio.Event()
        self._run_task: asyncio.Task[None] | None = None
        self.forced_stop = False
        self._conn: asyncpg.Connection | None = None
        self._store: Store | None = None
        self._consumer: AIOKafkaConsumer | None = None
        self._producer: AIOKafkaProducer | None = None
        self._registry = (
            SchemaRegistryClient(settings.schema_registry_url)
            if settings.schema_registry_url
            else None
        )

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

    async def run(self) -> None:
        """Consume until asked to stop."""
        self._run_task = asyncio.current_task()
        try:
            await self._connect_database()
            if self.stopping:
                return
            await self._start_kafka()
            await self._ensure_dead_letter_topic()
            while not self.stopping:
                await self._poll_once()
        finally:
            await self._close()

    async def _poll_once(self) -> None:
        consumer = self._require_consumer()
        fetched_in = self._assignments
        try:
            batch = await consumer.getmany(
                timeout_ms=self.settings.batch_timeout_ms,
                max_records=self.settings.batch_max_records,
            )
            self.readiness.kafka = True
        except KafkaError as exc:
            self.readiness.kafka = False
            log.warning("Kafka fetch failed (%s); backing off", exc)
            await self._sleep(1.0)
            return
        if batch:
            try:
                await self.process(batch, fetched_in)
            except BatchAbandonedError as exc:
                log.warning("batch abandoned uncommitted (%s); it will be read again", exc)
        elif asyncio.get_running_loop().time() - self._db_checked > DB_PROBE_SECONDS:
            await self._probe_database()

    async def _probe_database(self) -> None:
        """An idle consumer checks Postgres now and then: readiness drops while it is
        unreachable (and the consumer waits for it, as with a batch in hand)."""
        with contextlib.suppress(BatchAbandonedError):  # stopped meanwhile: nothing in hand
            await self.with_database(_ping)

    async def _close(self) -> None:
        self.readiness = Readiness()
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
        if self._registry is not None:
            await self._registry.close()
        if self._conn is not None and not self._conn.is_closed():
            await self._conn.close(timeout=5)
        log.info(
            "stopped after %d committed batches (%d records skipped as already stored)",
            self.batches_committed,
            self.records_skipped,
        )

    # --- Postgres ------------------------------------------------------------------
    async def _connect_database(self) -> None:
        backoff = Backoff(self.settings.db_retry_max_seconds)
        while not self.stopping:
            try:
                conn = await asyncpg.connect(self.settings.database(), timeout=10)
                try:
                    await apply_migrations(conn)
                    registered = await Store(conn).registered_suppliers()
                except BaseException:
                    conn.terminate()  # never leak a half-set-up connection
                    raise
            except DB_UNAVAILABLE as exc:
                self.readiness.database = False
                delay = backoff.next_delay()
                log.warning("Postgres unreachable (%s); retrying in %.1fs", exc, delay)
                await self._sleep(delay)
                continue
            self._conn, self._store = conn, Store(conn)
            self._database_answered()
            self.metrics.set_registered(registered)
            return

    def _database_answered(self) -> None:
        self.readiness.database = True
        self._db_checked = asyncio.get_running_loop().time()

    async def _reconnect_database(self) -> None:
        if self._conn is not None and not self._conn.is_closed():
            self._conn.terminate()
        self._conn = self._store = None
        await self._connect_database()

    async def with_database(self, action: Callable[[Store], Awaitable[T]]) -> T:
        """Run an action on the store, reconnecting with backoff while Postgres is down."""
        backoff = Backoff(self.settings.db_retry_max_seconds)
        while True:
            if self._store is None:
                await self._connect_database()
                if self._store is None:
                    raise BatchAbandonedError("stopped while Postgres was unreachable")
            try:
                result = await action(self._store)
            except DB_UNAVAILABLE as exc:
                self.readiness.database = False
                delay = backoff.next_delay()
                log.warning("Postgres unreachable (%s); retrying in %.1fs", exc, delay)
                await self._sleep(delay)
                await self._reconnect_database()
                continue
            except RETRY_AGAIN as exc:
                if self.stopping:
                    raise BatchAbandonedError("stopped while redoing a batch") from exc
                delay = backoff.next_delay()
                log.warning(
                    "concurrent write detected (%s: %s); redoing the batch in %.1fs",
                    type(exc).__name__,
                    exc,
                    delay,
                )
                await self._sleep(delay)
                continue
            self._database_answered()
            return result

    # --- Kafka ---------------------------------------------------------------------
    async def _start_kafka(self) -> None:
        backoff = Backoff(self.settings.db_retry_max_seconds)
        while not self.stopping:
            consumer = make_consumer(self.settings)
            producer = make_producer(self.settings, max_request_size=DLQ_MAX_BYTES)
            try:
                await consumer.start()
                await producer.start()
            except (KafkaError, OSError) as exc:
                self.readiness.kafka = False
                await _quiet_stop(consumer, producer)
                delay = backoff.next_delay()
                log.warning("Kafka unreachable (%s); retrying in %.1fs", exc, delay)
                await self._sleep(delay)
                continue
            consumer.subscribe(pattern=self.settings.topic_pattern, listener=_Listener(self))
            self._consumer, self._producer = consumer, producer
            self.readiness.kafka = True
            log.info(
                "subscribed to %s as group %s",
                self.settings.topic_pattern,
                self.settings.consumer_group,
            )
            return

    async def _ensure_dead_letter_topic(self) -> None:
        """Create the DLQ topic when missing, with room for large letters (a principal
        without CREATE rights just logs)."""
        topic = self.settings.dlq_topic
        admin = make_admin(self.settings)
        try:
            await admin.start()
            try:
                if topic in set(await admin.list_topics()):
                    return
                new = NewTopic(
                    topic,
                    1,
                    self.settings.topic_replication,
                    topic_configs={"max.message.bytes": str(DLQ_MAX_BYTES)},
                )
                response = await admin.create_topics([new])
            finally:
                await admin.close()
        except (KafkaError, IngestError, OSError) as exc:
            log.warning("could not ensure DLQ topic %s exists: %s", topic, exc)
            return
        for name, code, *rest in response.topic_errors:
            if code not in (0, TopicAlreadyExistsError.errno):
                log.warning("could not create DLQ topic %s: error %s %s", name, code, rest)

    def _require_consumer(self) -> AIOKafkaConsumer:
        if self._consumer is None:
            raise RuntimeError("Kafka consumer not started")
        return self._consumer

    async def on_assigned(self, partitions: Sequence[TopicPartition]) -> None:
        """Seek every newly assigned partition to the offset stored in Postgres.

        aiokafka runs this while the fetcher already reads from Kafka's committed offsets, and
        ``getmany`` may have returned records of these partitions meanwhile. So the batch in
        flight is stored first (the lock), the offsets are read after it, and a batch fetched
        before this seek is dropped unstored (``_assignments``): otherwise the seek sends the
        consumer back over records that batch stores, and they are read twice."""
        consumer = self._require_consumer()
        async with self._batch_lock:
            stored = await self._seek_to_stored(partitions)
            self._assignments += 1
        self.readiness.assigned = bool(consumer.assignment())
        log.info("assigned %d partitions (%d with stored offsets)", len(partitions), len(stored))

    async def _seek_to_stored(
        self, partitions: Collection[TopicPartition]
    ) -> dict[TopicPartitionKey, int]:
        consumer = self._require_consumer()
        stored = await self._stored_offsets([(tp.topic, tp.partition) for tp in partitions])
        for tp in partitions:
            offset = stored.get((tp.topic, tp.partition))
            if offset is None:
                await consumer.seek_to_beginning(tp)
            else:
                consumer.seek(tp, offset)
        return stored

    async def _stored_offsets(self, keys: list[TopicPartitionKey]) -> dict[TopicPartitionKey, int]:
        """Offsets from Postgres on a connection of their own (the batch's may be busy: a
        rebalance can run while a batch is being written)."""
        backoff = Backoff(self.settings.db_retry_max_seconds)
        while True:
            try:
                conn = await asyncpg.connect(self.settings.database(), timeout=10)
                try:
                    return await Store(conn).stored_offsets(self.settings.consumer_group, keys)
                finally:
                    await conn.close()
            except DB_UNAVAILABLE as exc:
                self.readiness.database = False
                delay = backoff.next_delay()
                log.warning("Postgres unreachable (%s); retrying in %.1fs", exc, delay)
                await asyncio.sleep(delay)

    # --- one batch -----------------------------------------------------------------
    async def process(
        self, batch: Mapping[TopicPartition, Sequence[Any]], fetched_in: int | None = None
    ) -> BatchResult:
        """Decode, validate, resolve and store one batch; retried until it is stored.

        ``fetched_in``: the assignment count when the batch was fetched; if partitions were
        (re)assigned since, the batch is dropped unstored, its partitions sought to the
        offsets stored now, and an empty result returned."""
        records = [
            RawRecord(tp.topic, tp.partition, m.offset, m.key, m.value)
            for tp in sorted(batch, key=lambda t: (t.topic, t.partition))
            for m in batch[tp]
        ]
        next_offsets: dict[TopicPartitionKey, int] = {
            (tp.topic, tp.partition): msgs[-1].offset + 1 for tp, msgs in batch.items() if msgs
        }
        schemas = await self._registry_schemas(records)
        async with self._batch_lock:
            if fetched_in is not None and fetched_in != self._assignments:
                # whether it was read before or after the seek, read it again from the
                # offsets stored now (no batch of this process is in flight: the lock)
                mine = set(self._require_consumer().assignment())
                await self._seek_to_stored([tp for tp in batch if tp in mine])
                log.info(
                    "partitions reassigned while %d records were fetched: batch dropped"
                    " unstored, read again from the stored offsets",
                    len(records),
                )
                return BatchResult()
            result = await self.with_database(
                lambda store: self._store_batch(store, records, next_offsets, schemas)
            )
        self.batches_committed += 1
        self.records_skipped += result.skipped
        if result.skipped:
            log.info("%d records of the batch were already stored: skipped", result.skipped)
        self.metrics.observe(result.outcomes, result.reasons)
        await self._commit_to_kafka(next_offsets)
        return result

    async def _store_batch(
        self,
        store: Store,
        records: Sequence[RawRecord],
        next_offsets: Mapping[TopicPartitionKey, int],
        schemas: Mapping[int, dict[str, Any]],
    ) -> BatchResult:
        registered = await store.registered_suppliers()
        self.metrics.set_registered(registered)
        limits = Limits(
            today=local_today(self.clock(), self.settings.timezone),
            horizon_days=self.settings.date_horizon_days,
            plausibility_cap=self.settings.plausibility_cap,
        )
        triaged: Triaged = await asyncio.to_thread(
            triage, records, self.decoder, registered, limits, schemas
        )
        return await store.write_batch(
            self.settings.consumer_group,
            triaged,
            next_offsets,
            self._send_dead_letters,
            now=self.clock(),
        )

    async def _send_dead_letters(self, rejections: Sequence[Rejection]) -> None:
        """Every rejection on the DLQ, acknowledged, before the batch commits. Letters that
        failed are retried (the others are not sent twice); a letter refused as too large is
        sent without its value (then key): retrying it unchanged would never succeed."""
        producer = self._producer
        if producer is None:
            raise RuntimeError("DLQ producer not started")
        pending = [_bounded_letter(r) for r in rejections]
        backoff = Backoff(self.settings.db_retry_max_seconds)
        while True:
            pending, error = await self._try_dead_letters(producer, pending)
            if not pending:
                return
            self.readiness.kafka = False
            delay = backoff.next_delay()
            log.warning(
                "DLQ produce failed for %d letters (%s); retrying in %.1fs",
                len(pending),
                error,
                delay,
            )
            await asyncio.sleep(delay)
            await self._ensure_dead_letter_topic()  # it may have failed at start-up

    async def _try_dead_letters(
        self, producer: AIOKafkaProducer, letters: Sequence[DeadLetter]
    ) -> tuple[list[DeadLetter], KafkaError | None]:
        """Send once; returns the letters to send again and the last error."""
        topic = self.settings.dlq_topic
        retry: list[DeadLetter] = []
        error: KafkaError | None = None
        sent: list[tuple[DeadLetter, asyncio.Future[Any]]] = []
        for letter in letters:
            try:
                future = await producer.send(
                    topic, value=letter.value, key=letter.key, headers=letter.headers
                )
            except TOO_LARGE as exc:
                retry.append(_smaller_letter(letter, exc))
                error = exc
            except KafkaError as exc:
                retry.append(letter)
                error = exc
            else:
                sent.append((letter, future))
        results = await asyncio.gather(*(f for _, f in sent), return_exceptions=True)
        for (letter, _), outcome in zip(sent, results, strict=True):
            if isinstance(outcome, TOO_LARGE):
                retry.append(_smaller_letter(letter, outcome))
                error = outcome
            elif isinstance(outcome, KafkaError):
                retry.append(letter)
                error = outcome
            elif isinstance(outcome, BaseException):
                raise outcome
        return retry, error

    async def _registry_schemas(self, records: Sequence[RawRecord]) -> dict[int, dict[str, Any]]:
        if self._registry is None:
            return {}
        ids = {i for r in records if r.value and (i := confluent_schema_id(r.value)) is not None}
        if not ids:
            return {}
        backoff = Backoff(self.settings.db_retry_max_seconds)
        while True:
            try:
                return await self._registry.schemas(ids)
            except SchemaRegistryError as exc:
                delay = backoff.next_delay()
                log.warning("%s; retrying in %.1fs", exc, delay)
                await asyncio.sleep(delay)

    async def _commit_to_kafka(self, next_offsets: Mapping[TopicPartitionKey, int]) -> None:
        """Mirror stored offsets to Kafka so lag tools work (best effort: Postgres rules)."""
        consumer = self._require_consumer()
        assigned = consumer.assignment()
        offsets = {
            tp: n for (t, p), n in next_offsets.items() if (tp := TopicPartition(t, p)) in assigned
        }
        if not offsets:
            return
        try:
            await consumer.commit(offsets)
        except KafkaError as exc:
            log.info("Kafka offset commit skipped (%s); Postgres holds the offsets", exc)

    async def _sleep(self, seconds: float) -> None:
        """Sleep, cut short by a stop request."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stop.wait(), timeout=seconds)


class _Listener(ListenerBase):
    def __init__(self, service: IngestService) -> None:
        self._service = service

    async def on_partitions_revoked(self, revoked: Sequence[TopicPartition]) -> None:
        # Nothing to flush: each batch is committed with its offsets before the next fetch,
        # and the offset rows fence any batch still in flight.
        log.info("revoked %d partitions", len(revoked))

    async def on_partitions_assigned(self, assigned: Sequence[TopicPartition]) -> None:
        await self._service.on_assigned(assigned)


async def _ping(store: Store) -> None:
    await store.connection.fetchval("SELECT 1", timeout=5)


def _bounded_letter(rejection: Rejection) -> DeadLetter:
    """The DLQ record of a rejection, its detail header cut to a readable length (a detail
    may quote a 1 MB field; the full text is in triage.rejected_events)."""
    detail = rejection.detail
    if len(detail) > DLQ_DETAIL_MAX_CHARS:
        cut = len(detail) - DLQ_DETAIL_MAX_CHARS
        detail = f"{detail[:DLQ_DETAIL_MAX_CHARS]}... ({cut} more characters)"
        rejection = dataclasses.replace(rejection, detail=detail)
    return dead_letter(rejection)


def _smaller_letter(letter: DeadLetter, error: KafkaError) -> DeadLetter:
    """A letter the DLQ refused as too large, without its value (or, if that was done
    already, without its key too); the header says what was left out and where it is."""
    offset = dict(letter.headers).get(HEADER_OFFSET, b"?").decode()
    topic = dict(letter.headers).get(HEADER_TOPIC, b"?").decode()
    if letter.value is not None:
        what = f"value ({len(letter.value)} bytes)"
        smaller = dataclasses.replace(letter, value=None)
    else:
        what = f"key ({len(letter.key or b'')} bytes)"
        smaller = dataclasses.replace(letter, key=None)
    log.error(
        "dead letter of %s@%s refused as too large (%s): sending it without its %s, which is"
        " kept in triage.rejected_events",
        topic,
        offset,
        error,
        what,
    )
    note = f"{what} left out: above the DLQ message size limit; see triage.rejected_events"
    headers = [(k, v) for k, v in smaller.headers if k != HEADER_OMITTED]
    omitted = dict(letter.headers).get(HEADER_OMITTED)
    if omitted:
        note = f"{omitted.decode()}; {note}"
    return dataclasses.replace(smaller, headers=[*headers, (HEADER_OMITTED, note.encode())])


async def _quiet_stop(*clients: AIOKafkaConsumer | AIOKafkaProducer) -> None:
    for client in clients:
        with contextlib.suppress(KafkaError, OSError):
            await client.stop()


async def serve(settings: Settings, service: IngestService | None = None) -> int:
    """Run the service with its HTTP endpoints until SIGTERM/SIGINT; returns the exit code.

    Beside the consumer, a freshness refresher (ingest/ops/refresher.py) derives the freshness,
    missing-practice, unknown-practice and lag gauges from Postgres at start-up and every
    ``freshness_refresh_seconds``, on a pool of its own, and feeds the status page ``/``.
    """
    from ingest.ops.http_server import start_http_server
    from ingest.ops.refresher import FreshnessRefresher, kafka_lag

    service = service or IngestService(settings)
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, service.request_stop)
    refresher = FreshnessRefresher(
        settings,
        service.metrics,
        service.clock,
        lag_source=lambda: kafka_lag(service._consumer),
    )
    refresher.start()
    http = await start_http_server(settings, service, refresher)
    try:
        await service.run()
    except asyncio.CancelledError:
        if not service.forced_stop:
            raise
    finally:
        await http.cleanup()
        await refresher.close()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.remove_signal_handler(sig)
    return 1 if service.forced_stop else 0


def main() -> None:
    settings = load_settings()
    logging.basicConfig(
        level=settings.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    try:
        import uvloop

        uvloop.install()
    except ImportError:
        pass
    raise SystemExit(asyncio.run(serve(settings)))


if __name__ == "__main__":
    main()
