"""The outcome relay: sends the outcomes the batches stored to the suppliers' feedback topics,
then records them as sent.

Each round, in one transaction, takes up to ``OUTBOX_ROUND`` outcomes shared fairly between the
suppliers that have outcomes waiting (each gets an equal share, its oldest first), read by
:mod:`ingest.consumer.outcome_source` (each source partition from its mark, locked ``FOR UPDATE
SKIP LOCKED`` so the relays of several consumer processes share the work), produces each one to
``triage.feedback.<supplier_id>``, waits for the broker's acknowledgements and records what was
acknowledged (marks moved, outbox rows deleted). A crash before that commits sends those
outcomes again: at least once, and a re-delivered outcome carries the same
``source_partition`` and ``source_offset``.

An outcome goes to the feedback partition of its source record's partition when the feedback
topic has as many partitions as the feed topic (as ``ingest suppliers add`` creates them): a
key's records share a source partition whatever partitioner the supplier's client used, so its
outcomes share a feedback partition and keep its order, and no hash is computed. Otherwise the
partition is the default partitioner's (murmur2 of the key).

No supplier can hold the others' outcomes back: a supplier whose feedback topic is missing
(and cannot be created here) or whose sends fail is left out of the next rounds for a while
and keeps its outcomes; a round reads only bounded columns (an outcome's key is at most
OUTCOME_KEY_MAX_BYTES); an outcome the broker refuses as too large is parked at once (sending
it again would never succeed), and carried outbox rows (written before outcomes were read from
the revisions and rejections, or queued by hand) of a supplier that cannot be delivered to
(topic missing, sends failing) still waiting ``INGEST_OUTBOX_PARK_AFTER_SECONDS`` after they
were stored are parked too. Parked rows stay in ``triage.outcome_outbox_rows``, are never
taken again, and show in ``triage_outcome_outbox_parked``. Outcomes read from their rows wait
at no cost until the supplier can be delivered to.
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
from ingest.consumer.outcome_source import (
    Pending,
    Round,
    acknowledge,
    take_round,
    waiting_suppliers,
)
from ingest.consumer.retry import pause, retry
from ingest.contract.outcomes import FEEDBACK_PREFIX, OutcomeEncoder, feedback_topic
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

_PARK_STUCK_SQL = queries("ingest.consumer")["park_stuck_outcomes"]


def shares(suppliers: int) -> list[int]:
    """Each supplier's share of a round: OUTBOX_ROUND split as evenly as whole rows allow
    (never below MIN_SHARE)."""
    base, extra = divmod(OUTBOX_ROUND, suppliers)
    return [max(MIN_SHARE, base + (1 if i < extra else 0)) for i in range(suppliers)]


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
        self._encoder = OutcomeEncoder()
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
            suppliers = await waiting_suppliers(conn, sitting_out)
            if not suppliers:
                return 0
            taken = await take_round(conn, suppliers, shares(len(suppliers)), self._encoder)
            ready = await self._ready_topics({feedback_topic(s) for s in taken.suppliers()})
            sendable = [p for p in taken.outcomes if feedback_topic(p.supplier_id) in ready]
            acknowledged, too_large = await self._send(sendable)
            if acknowledged or too_large or taken.readings:
                await self._acknowledge(conn, taken, acknowledged, too_large)
        self.sent += len(acknowledged)
        self.parked += len(too_large)
        if acknowledged and self._on_sent is not None:
            self._on_sent(Counter(p.supplier_id for p in acknowledged))
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

    async def _acknowledge(
        self,
        conn: asyncpg.Connection,
        taken: Round,
        acknowledged: Sequence[Pending],
        too_large: Sequence[Pending],
    ) -> None:
        """Record the round's outcomes as sent or parked (in the round's transaction: a crash
        before its commit leaves them to be sent again)."""
        await acknowledge(conn, taken, acknowledged, too_large)

    async def _send(self, outcomes: Sequence[Pending]) -> tuple[list[Pending], list[Pending]]:
        """Produce the outcomes; those the broker acknowledged, and those it refused as too
        large (the outcomes of a batch refused as too large are tried again one per batch, and
        only those refused alone count). A supplier whose sends failed sits out the rounds for
        FAILED_SEND_BACKOFF_SECONDS."""
        acknowledged, refused, failures = await self._produce(outcomes, alone=False)
        for topic in {feedback_topic(p.supplier_id) for p in outcomes} - failures.keys():
            self._failing.pop(topic, None)  # delivered again: no longer troubled
        if refused:
            retried, refused, more = await self._produce(refused, alone=True)
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
        for pending in refused:
            log.error(
                "the outcome of %s partition %d offset %d refused as too large by its feedback"
                " topic: parked in triage.outcome_outbox_rows (docs/operations.md, Parked"
                " outcomes)",
                pending.source_topic,
                pending.source_partition,
                pending.source_offset,
            )
        return acknowledged, refused

    async def _produce(
        self, outcomes: Sequence[Pending], alone: bool
    ) -> tuple[list[Pending], list[Pending], dict[str, str]]:
        """Produce the outcomes, in record batches per partition (one ``send`` per outcome
        costs several times the CPU; ``alone``: one outcome per batch); those the broker
        acknowledged, those refused as too large, and the error of each topic whose sends
        failed. The partition: the source record's when the feedback topic has as many as the
        feed topic, else the default partitioner's (murmur2 of the key)."""
        producer = self._producer
        failures: dict[str, str] = {}
        placement = _Placement(producer)
        filling: dict[tuple[str, int], tuple[Any, list[Pending]]] = {}
        in_flight: list[tuple[list[Pending], str, asyncio.Future[Any]]] = []
        refused: list[Pending] = []  # refused as too large

        async def flush(topic: str, partition: int) -> None:
            builder, batch = filling.pop((topic, partition))
            try:
                future = await producer.send_batch(builder, topic, partition=partition)
            except TOO_LARGE:
                refused.extend(batch)
                return
            except KafkaError as exc:
                failures[topic] = str(exc)
                return
            in_flight.append((batch, topic, future))

        for pending in outcomes:
            topic = feedback_topic(pending.supplier_id)
            if topic in failures:
                continue
            try:
                partition = await placement.partition(topic, pending)
            except KafkaError as exc:
                failures[topic] = str(exc)
                continue
            key, value = pending.key, pending.value
            entry = filling.get((topic, partition))
            if entry is None:
                entry = filling[(topic, partition)] = (producer.create_batch(), [])
            if entry[0].append(key=key, value=value, timestamp=None) is None:  # batch full
                await flush(topic, partition)
                entry = filling[(topic, partition)] = (producer.create_batch(), [])
                if entry[0].append(key=key, value=value, timestamp=None) is None:
                    del filling[(topic, partition)]
                    refused.append(pending)  # fits no batch: never will
                    continue
            entry[1].append(pending)
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


class _Placement:
    """The feedback partition of each outcome: its source record's partition when the feedback
    topic has as many partitions as the feed topic, else the default partitioner's. A feed
    topic's partitions come from the producer's metadata, else from one request for the whole
    cluster's (never from waiting on a topic that may be gone)."""

    def __init__(self, producer: AIOKafkaProducer) -> None:
        self._producer = producer
        self._partitions: dict[str, list[int]] = {}
        self._feeds: dict[str, list[int]] = {}
        self._cluster: Any = None  # the whole cluster's metadata, fetched once when needed
        self._aligned: dict[tuple[str, str], bool] = {}  # (feedback, feed topic)

    async def _partitions_of(self, topic: str) -> list[int]:
        known = self._partitions.get(topic)
        if known is None:
            known = self._partitions[topic] = sorted(await self._producer.partitions_for(topic))
        return known

    async def _feed_partitions(self, topic: str) -> list[int]:
        known = self._feeds.get(topic)
        if known is None:
            found = self._producer.client.cluster.partitions_for_topic(topic)
            if found is None:
                if self._cluster is None:
                    self._cluster = await self._producer.client.fetch_all_metadata()
                found = self._cluster.partitions_for_topic(topic)
            known = self._feeds[topic] = sorted(found or ())
        return known

    async def partition(self, topic: str, pending: Pending) -> int:
        known = await self._partitions_of(topic)
        aligned = self._aligned.get((topic, pending.source_topic))
        if aligned is None:
            feed = await self._feed_partitions(pending.source_topic)
            aligned = self._aligned[(topic, pending.source_topic)] = feed == known
        if aligned:
            return pending.source_partition
        return int(_PARTITIONER(pending.key, known, known))


async def _settle(
    in_flight: Sequence[tuple[list[Pending], str, asyncio.Future[Any]]],
    refused: list[Pending],
    failures: dict[str, str],
) -> list[Pending]:
    """Wait for the batches sent; the outcomes acknowledged (those refused as too large added
    to ``refused``, the topics whose batches failed to ``failures``)."""
    results = await asyncio.gather(*(f for _, _, f in in_flight), return_exceptions=True)
    acknowledged: list[Pending] = []
    for (batch, topic, _), result in zip(in_flight, results, strict=True):
        if isinstance(result, TOO_LARGE):
            refused.extend(batch)
        elif isinstance(result, KafkaError):
            failures[topic] = str(result)
        elif isinstance(result, BaseException):
            raise result
        else:
            acknowledged.extend(batch)
    return acknowledged
