"""The outcome relay: sends the rows of ``triage.outcome_outbox`` to the suppliers' feedback
topics, then deletes them.

Each round, in one transaction, takes up to ``OUTBOX_ROUND`` rows shared fairly between the
suppliers that have outcomes waiting (each gets an equal share, its oldest first; ``FOR UPDATE
SKIP LOCKED``: the relays of several consumer processes share the work), produces each one to
``triage.feedback.<supplier_id>``, waits for the broker's acknowledgements and deletes the
acknowledged rows. A crash before the delete commits sends those rows again: at least once,
and a re-delivered outcome carries the same ``source_partition`` and ``source_offset``.

No supplier can hold the others' outcomes back: a supplier whose feedback topic is missing
(and cannot be created here) or whose sends fail is left out of the next rounds for a while
and keeps its rows; a round reads only bounded columns (an outcome's key is at most
OUTCOME_KEY_MAX_BYTES); an outcome the broker refuses as too large is parked at once (sending
it again would never succeed), and the outcomes of a supplier that cannot be delivered to
(topic missing, sends failing) still waiting ``INGEST_OUTBOX_PARK_AFTER_SECONDS`` after they
were stored are parked too. Parked rows stay in
the outbox, are never taken again, and show in ``triage_outcome_outbox_parked``.
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

from ingest.consumer.dead_letters import TOO_LARGE
from ingest.consumer.retry import pause, retry
from ingest.contract.model import Outcome, Reason
from ingest.contract.outcomes import (
    DETAIL_MAX_CHARS,
    FEEDBACK_PREFIX,
    OUTCOME_KEY_MAX_BYTES,
    SubmissionOutcome,
    encode_outcome,
    feedback_topic,
)
from ingest.db.connection import CONNECTION_LOST, connect
from ingest.db.queries import queries
from ingest.errors import IngestError, KafkaTopicError, RetryStoppedError
from ingest.kafka import ensure_topics, feedback_topic_spec
from ingest.settings import Settings

log = logging.getLogger(__name__)

OUTBOX_ROUND = 5000
_PARTITIONER = DefaultPartitioner()


MISSING_TOPIC_RECHECK_SECONDS = 30.0
FAILED_SEND_BACKOFF_SECONDS = 5.0  # a supplier whose sends failed sits out the rounds this long
PARK_CHECK_SECONDS = 60.0  # how often rows waiting past the bound are looked for
MIN_SHARE = 100  # a supplier's share of a round is never smaller

_SQL = queries("ingest.consumer")
_WAITING_SQL = _SQL["outcomes_waiting"]
_TAKE_SQL = _SQL["take_outcomes"].format(
    key_max_bytes=OUTCOME_KEY_MAX_BYTES, detail_max_chars=DETAIL_MAX_CHARS
)
_PARK_SQL = _SQL["park_outcomes"]
_PARK_STUCK_SQL = _SQL["park_stuck_outcomes"]
_DELETE_SQL = _SQL["delete_outcomes"]


def shares(suppliers: int) -> list[int]:
    """Each supplier's share of a round: OUTBOX_ROUND split as evenly as whole rows allow
    (never below MIN_SHARE)."""
    base, extra = divmod(OUTBOX_ROUND, suppliers)
    return [max(MIN_SHARE, base + (1 if i < extra else 0)) for i in range(suppliers)]


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
        # topic -> loop time its supplier is back in (kept until a send succeeds: troubled)
        self._failing: dict[str, float] = {}
        self._park_check_at = 0.0  # loop time of the next look for rows waiting too long
        self.sent = 0  # outcomes acknowledged and deleted from the outbox
        self.parked = 0  # outcomes parked by this relay

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
        now = asyncio.get_running_loop().time()
        sitting_out = sorted(
            topic.removeprefix(FEEDBACK_PREFIX)
            for topic, until in (*self._missing.items(), *self._failing.items())
            if until > now
        )
        async with conn.transaction():
            suppliers = [r["supplier_id"] for r in await conn.fetch(_WAITING_SQL, sitting_out)]
            if not suppliers:
                return 0
            rows = await conn.fetch(_TAKE_SQL, suppliers, shares(len(suppliers)))
            if not rows:
                return 0
            ready = await self._ready_topics({feedback_topic(r["supplier_id"]) for r in rows})
            sendable = [r for r in rows if feedback_topic(r["supplier_id"]) in ready]
            acknowledged, too_large = await self._send(sendable)
            if acknowledged:
                await self._delete(conn, acknowledged)
            if too_large:
                await conn.execute(_PARK_SQL, too_large, "too_large")
        self.sent += len(acknowledged)
        self.parked += len(too_large)
        if acknowledged and self._on_sent is not None:
            done = set(acknowledged)
            self._on_sent(Counter(r["supplier_id"] for r in sendable if r["outbox_id"] in done))
        if now >= self._park_check_at:
            self._park_check_at = now + PARK_CHECK_SECONDS
            await self.park_stuck(conn)
        return len(acknowledged)

    async def park_stuck(self, conn: asyncpg.Connection) -> int:
        """Park the rows of the suppliers this relay cannot deliver to (feedback topic
        missing, or sends failing) still waiting INGEST_OUTBOX_PARK_AFTER_SECONDS after they
        were stored; how many. (A backlog that flows is never parked, however old.)"""
        troubled = sorted(
            topic.removeprefix(FEEDBACK_PREFIX) for topic in (*self._missing, *self._failing)
        )
        if not troubled:
            return 0
        rows = await conn.fetch(_PARK_STUCK_SQL, self._settings.outbox_park_after_seconds, troubled)
        for supplier, n in sorted(Counter(r["supplier_id"] for r in rows).items()):
            log.error(
                "%d outcomes of %s undelivered for over %.0f s: parked in triage.outcome_outbox"
                " (docs/operations.md, Parked outcomes)",
                n,
                supplier,
                self._settings.outbox_park_after_seconds,
            )
        self.parked += len(rows)
        return len(rows)

    async def _delete(self, conn: asyncpg.Connection, outbox_ids: list[int]) -> None:
        """Delete the sent rows (in the round's transaction: a crash before its commit leaves
        them, and they are sent again)."""
        await conn.execute(_DELETE_SQL, outbox_ids)

    async def _send(self, rows: Sequence[asyncpg.Record]) -> tuple[list[int], list[int]]:
        """Produce the rows; the outbox ids the broker acknowledged, and those it refused as
        too large (the rows of a batch refused as too large are tried again one per batch, and
        only those refused alone count). A supplier whose sends failed sits out the rounds for
        FAILED_SEND_BACKOFF_SECONDS."""
        acknowledged, refused, failures = await self._produce(rows, alone=False)
        for topic in {feedback_topic(r["supplier_id"]) for r in rows} - failures.keys():
            self._failing.pop(topic, None)  # delivered again: no longer troubled
        if refused:
            again = set(refused)
            retried, refused, more = await self._produce(
                [r for r in rows if r["outbox_id"] in again], alone=True
            )
            acknowledged.extend(retried)
            failures.update(more)
        back_at = asyncio.get_running_loop().time() + FAILED_SEND_BACKOFF_SECONDS
        for topic, error in failures.items():
            self._failing[topic] = back_at
            log.warning(
                "outcomes to %s not sent (%s); they stay in the outbox and that supplier sits"
                " out the rounds for %.0f s",
                topic,
                error,
                FAILED_SEND_BACKOFF_SECONDS,
            )
        for outbox_id in refused:
            log.error(
                "an outcome (outbox_id %d) refused as too large by its feedback topic: parked"
                " in triage.outcome_outbox (docs/operations.md, Parked outcomes)",
                outbox_id,
            )
        return acknowledged, refused

    async def _produce(
        self, rows: Sequence[asyncpg.Record], alone: bool
    ) -> tuple[list[int], list[int], dict[str, str]]:
        """Produce the rows, in record batches per partition (one ``send`` per outcome costs
        several times the CPU; ``alone``: one outcome per batch); the outbox ids the broker
        acknowledged, those refused as too large, and the error of each topic whose sends
        failed. Partitions are chosen as the default partitioner does (murmur2 of the key)."""
        producer = self._producer
        failures: dict[str, str] = {}
        partitions: dict[str, list[int]] = {}
        filling: dict[tuple[str, int], tuple[Any, list[int]]] = {}
        in_flight: list[tuple[list[int], str, asyncio.Future[Any]]] = []
        refused: list[int] = []  # refused as too large

        async def flush(topic: str, partition: int) -> None:
            builder, ids = filling.pop((topic, partition))
            try:
                future = await producer.send_batch(builder, topic, partition=partition)
            except TOO_LARGE:
                refused.extend(ids)
                return
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
                    del filling[(topic, partition)]
                    refused.append(row["outbox_id"])  # fits no batch: never will
                    continue
            entry[1].append(row["outbox_id"])
            if alone:
                await flush(topic, partition)
        for topic, partition in list(filling):
            await flush(topic, partition)
        acknowledged = await _settle(in_flight, refused, failures)
        return acknowledged, refused, failures

    async def _ready_topics(self, topics: set[str]) -> set[str]:
        """The topics that exist, creating missing ones where allowed; a topic that cannot be
        created is checked again after MISSING_TOPIC_RECHECK_SECONDS. Together first; if that
        fails, one by one, so one supplier's missing topic does not hold the others' back."""
        now = asyncio.get_running_loop().time()
        unknown = {t for t in topics - self._topics if self._missing.get(t, 0.0) <= now}
        alone = len(unknown) == 1
        if unknown:
            refused = await self._ensure(sorted(unknown), report=alone)
            if isinstance(refused, KafkaTopicError) and not alone:  # the broker answered
                for topic in sorted(unknown):
                    await self._ensure([topic], report=True)
        return topics & self._topics

    async def _ensure(self, topics: list[str], report: bool) -> BaseException | None:
        """Create ``topics`` where missing; None when they all exist now, else why not
        (``report``: log it)."""
        now = asyncio.get_running_loop().time()
        try:
            await ensure_topics(self._settings, topics, feedback_topic_spec(self._settings))
        except (KafkaError, IngestError, OSError) as exc:
            for topic in topics:
                self._missing[topic] = now + MISSING_TOPIC_RECHECK_SECONDS
            if report:
                log.warning(
                    "feedback topics %s missing and not created (%s); their outcomes wait in"
                    " the outbox (`ingest suppliers add` creates them)",
                    ", ".join(topics),
                    exc,
                )
            return exc
        self._topics.update(topics)
        for topic in topics:
            self._missing.pop(topic, None)
        return None


async def _settle(
    in_flight: Sequence[tuple[list[int], str, asyncio.Future[Any]]],
    refused: list[int],
    failures: dict[str, str],
) -> list[int]:
    """Wait for the batches sent; the ids acknowledged (those refused as too large added to
    ``refused``, the topics whose batches failed to ``failures``)."""
    results = await asyncio.gather(*(f for _, _, f in in_flight), return_exceptions=True)
    acknowledged: list[int] = []
    for (ids, topic, _), result in zip(in_flight, results, strict=True):
        if isinstance(result, TOO_LARGE):
            refused.extend(ids)
        elif isinstance(result, KafkaError):
            failures[topic] = str(result)
        elif isinstance(result, BaseException):
            raise result
        else:
            acknowledged.extend(ids)
    return acknowledged
