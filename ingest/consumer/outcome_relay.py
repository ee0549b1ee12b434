"""The outcome relay: sends the rows of ``triage.outcome_outbox`` to the suppliers' feedback
topics, then deletes them.

Each round, in one transaction, takes up to ``OUTBOX_ROUND`` rows (``FOR UPDATE SKIP LOCKED``:
the relays of several consumer processes share the work), produces each one to
``triage.feedback.<supplier_id>``, waits for the broker's acknowledgements and deletes the
acknowledged rows. A crash before the delete commits sends those rows again: at least once,
and a re-delivered outcome carries the same ``source_partition`` and ``source_offset``.
A supplier whose feedback topic is missing (and cannot be created here) keeps its rows in the
outbox; the other suppliers' outcomes flow.
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from collections.abc import Callable, Sequence
from typing import Any

import asyncpg
from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError
from aiokafka.partitioner import DefaultPartitioner

from ingest.consumer.retry import pause, retry
from ingest.contract.model import Outcome, Reason
from ingest.contract.outcomes import SubmissionOutcome, encode_outcome, feedback_topic
from ingest.db.connection import CONNECTION_LOST, connect
from ingest.errors import IngestError, RetryStoppedError
from ingest.kafka import ensure_topics, feedback_topic_spec
from ingest.settings import Settings

log = logging.getLogger(__name__)

OUTBOX_ROUND = 5000
_PARTITIONER = DefaultPartitioner()


class OutcomeRelayError(IngestError):
    """An outcome could not be put into a record batch."""


MISSING_TOPIC_RECHECK_SECONDS = 30.0

_TAKE_SQL = """
SELECT outbox_id, supplier_id, source_partition, source_offset, key, event_id, practice_code,
       activity_date, revision, outcome, reason, detail, processed_at
FROM triage.outcome_outbox
ORDER BY outbox_id
LIMIT $1
FOR UPDATE SKIP LOCKED
"""


def outcome_of(row: asyncpg.Record) -> SubmissionOutcome:
    """The SubmissionOutcome of an outbox row."""
    return SubmissionOutcome(
        source_partition=row["source_partition"],
        source_offset=row["source_offset"],
        event_id=row["event_id"],
        practice_code=row["practice_code"],
        activity_date=row["activity_date"],
        revision=row["revision"],
        outcome=Outcome(row["outcome"]),
        reason=None if row["reason"] is None else Reason(row["reason"]),
        detail=row["detail"],
        processed_at=row["processed_at"],
    )


class OutcomeRelay:
    """Runs beside the consumer (same producer), until stopped."""

    def __init__(
        self,
        settings: Settings,
        producer: AIOKafkaProducer,
        on_sent: Callable[[Counter[str]], None] | None = None,
    ) -> None:
        self._settings = settings
        self._producer = producer
        self._on_sent = on_sent  # told how many outcomes of each supplier were acknowledged
        self._stop = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._conn: asyncpg.Connection | None = None
        self._topics: set[str] = set()  # feedback topics known to exist
        self._missing: dict[str, float] = {}  # topic -> loop time of the next check
        self.sent = 0  # outcomes acknowledged and deleted from the outbox

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="outcome-relay")

    async def close(self) -> None:
        """Finish the round in hand (bounded by the shutdown timeout), then stop."""
        self._stop.set()
        if self._task is not None:
            try:
                await asyncio.wait_for(
                    asyncio.shield(self._task), self._settings.shutdown_timeout_seconds
                )
            except TimeoutError:
                self._task.cancel()
                await asyncio.wait([self._task])
            self._task = None
        if self._conn is not None and not self._conn.is_closed():
            await self._conn.close(timeout=5)
        self._conn = None

    async def _run(self) -> None:
        while not self._stop.is_set():
            try:
                sent = await retry(
                    self.relay_once,
                    retry_on=CONNECTION_LOST,
                    cap=self._settings.db_retry_max_seconds,
                    describe=lambda exc: f"outcome relay: Postgres unreachable ({exc})",
                    on_failure=self._drop_connection,
                    stop=self._stop,
                    logger=log,
                )
            except RetryStoppedError:
                return
            if sent == 0:
                await pause(self._settings.outcome_relay_interval_seconds, self._stop)

    def _drop_connection(self, _: BaseException) -> None:
        if self._conn is not None and not self._conn.is_closed():
            self._conn.terminate()
        self._conn = None

    async def relay_once(self) -> int:
        """One round; returns how many outcomes were acknowledged (0: nothing to do, or
        nothing could be sent)."""
        if self._conn is None:
            self._conn = await connect(self._settings.database())
        conn = self._conn
        async with conn.transaction():
            rows = await conn.fetch(_TAKE_SQL, OUTBOX_ROUND)
            if not rows:
                return 0
            ready = await self._ready_topics({feedback_topic(r["supplier_id"]) for r in rows})
            sendable = [r for r in rows if feedback_topic(r["supplier_id"]) in ready]
            acknowledged = await self._send(sendable)
            if acknowledged:
                await self._delete(conn, acknowledged)
        self.sent += len(acknowledged)
        if acknowledged and self._on_sent is not None:
            done = set(acknowledged)
            self._on_sent(Counter(r["supplier_id"] for r in sendable if r["outbox_id"] in done))
        return len(acknowledged)

    async def _delete(self, conn: asyncpg.Connection, outbox_ids: list[int]) -> None:
        """Delete the sent rows (in the round's transaction: a crash before its commit leaves
        them, and they are sent again)."""
        await conn.execute(
            "DELETE FROM triage.outcome_outbox WHERE outbox_id = ANY($1::bigint[])", outbox_ids
        )

    async def _send(self, rows: Sequence[asyncpg.Record]) -> list[int]:
        """Produce the rows, in record batches per partition (one ``send`` per outcome costs
        several times the CPU); the outbox ids the broker acknowledged. Partitions are chosen
        as the default partitioner does (murmur2 of the key)."""
        producer = self._producer
        failures: dict[str, str] = {}
        partitions: dict[str, list[int]] = {}
        filling: dict[tuple[str, int], tuple[Any, list[int]]] = {}
        in_flight: list[tuple[list[int], str, asyncio.Future[Any]]] = []

        async def flush(topic: str, partition: int) -> None:
            builder, ids = filling.pop((topic, partition))
            try:
                future = await producer.send_batch(builder, topic, partition=partition)
            except KafkaError as exc:
                failures[topic] = str(exc)
                return
            in_flight.append((ids, topic, future))

        for row in rows:
            topic = feedback_topic(row["supplier_id"])
            if topic in failures:
                continue
            known = partitions.get(topic)
            if known is None:
                try:
                    known = partitions[topic] = sorted(await producer.partitions_for(topic))
                except KafkaError as exc:
                    failures[topic] = str(exc)
                    continue
            key: bytes | None = row["key"]
            partition = _PARTITIONER(key, known, known)
            value = encode_outcome(outcome_of(row))
            entry = filling.get((topic, partition))
            if entry is None:
                entry = filling[(topic, partition)] = (producer.create_batch(), [])
            if entry[0].append(key=key, value=value, timestamp=None) is None:  # batch full
                await flush(topic, partition)
                entry = filling[(topic, partition)] = (producer.create_batch(), [])
                if entry[0].append(key=key, value=value, timestamp=None) is None:
                    raise OutcomeRelayError(f"an outcome of {len(value)} bytes fits no batch")
            entry[1].append(row["outbox_id"])
        for topic, partition in list(filling):
            await flush(topic, partition)
        results = await asyncio.gather(*(f for _, _, f in in_flight), return_exceptions=True)
        acknowledged: list[int] = []
        for (ids, topic, _), result in zip(in_flight, results, strict=True):
            if isinstance(result, KafkaError):
                failures[topic] = str(result)
            elif isinstance(result, BaseException):
                raise result
            else:
                acknowledged.extend(ids)
        for topic, error in failures.items():
            log.warning("outcomes to %s not sent (%s); they stay in the outbox", topic, error)
        return acknowledged

    async def _ready_topics(self, topics: set[str]) -> set[str]:
        """The topics that exist, creating missing ones where allowed; a topic that cannot be
        created is checked again after MISSING_TOPIC_RECHECK_SECONDS."""
        now = asyncio.get_running_loop().time()
        unknown = {t for t in topics - self._topics if self._missing.get(t, 0.0) <= now}
        if unknown:
            try:
                await ensure_topics(
                    self._settings, sorted(unknown), feedback_topic_spec(self._settings)
                )
            except (KafkaError, IngestError, OSError) as exc:
                for topic in unknown:
                    self._missing[topic] = now + MISSING_TOPIC_RECHECK_SECONDS
                log.warning(
                    "feedback topics %s missing and not created (%s); their outcomes wait in"
                    " the outbox (`ingest suppliers add` creates them)",
                    ", ".join(sorted(unknown)),
                    exc,
                )
            else:
                self._topics |= unknown
                for topic in unknown:
                    self._missing.pop(topic, None)
        return topics & self._topics
