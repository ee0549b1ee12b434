"""The supplier-side producer: one async class a supplier's system imports to push its counts.

It checks every event with the consumer's own rules before sending (so nothing it sends is
rejected for its content), encodes it as Avro single-object encoding with a released writer
schema (v1 by default, v2 or v3 on request), keys it ``<practice_code>:<YYYY-MM-DD>`` and sends it
to the supplier's topic ``triage.daily.<supplier_id>`` with an idempotent producer and
``acks=all``. Each event gets a :class:`Delivery`: sent (with partition and offset), invalid
(with every problem, field by field) or failed (with the Kafka error).

A complete example (run by the tests) is in docs/suppliers.md, "From Python".

A restatement of a practice-day is the same call with ``revision=2`` (then 3...); sending the
same counts again is harmless (the service counts it as a duplicate).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import uuid
from collections import deque
from collections.abc import AsyncIterable, AsyncIterator, Callable, Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from types import TracebackType
from typing import Any, cast

from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError
from pydantic import SecretStr

from ingest.clock import Clock, local_today, system_clock
from ingest.contract.encoding import encode_single_object, record_key
from ingest.contract.model import SUPPLIER_ID_RE, topic_for
from ingest.contract.outcomes import SubmissionOutcome
from ingest.contract.schemas import SchemaVersion, version
from ingest.contract.validation import Limits
from ingest.errors import IngestError
from ingest.kafka import connection_failures, make_producer, muted_logger
from ingest.settings import Settings
from ingest.supplier.counts import SCHEMA_VERSIONS, DailyCounts, check_counts
from ingest.supplier.outcome_waiter import await_outcomes, now_ms
from ingest.supplier.problems import FieldProblem

__all__ = [
    "DailyCounts",
    "Delivery",
    "DeliveryStatus",
    "FieldProblem",
    "ProducerError",
    "SupplierProducer",
]

log = logging.getLogger(__name__)


TOPIC_CHECK_SECONDS = 15.0
DEFAULT_WINDOW = 2000


class ProducerError(IngestError):
    """The producer cannot start or cannot reach its topic."""


class DeliveryStatus(StrEnum):
    SENT = "sent"  # acknowledged by every in-sync replica
    INVALID = "invalid"  # not sent: the consumer would reject it (see problems)
    FAILED = "failed"  # not acknowledged: Kafka error (see error)


@dataclass(frozen=True, slots=True)
class Delivery:
    """What happened to one event."""

    counts: DailyCounts
    event_id: str
    status: DeliveryStatus
    topic: str
    partition: int | None = None
    offset: int | None = None
    problems: tuple[FieldProblem, ...] = ()
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.status is DeliveryStatus.SENT

    def summary(self) -> str:
        c = self.counts
        what = f"{c.practice_code} {c.activity_date.isoformat()} rev {c.revision}"
        if self.status is DeliveryStatus.SENT:
            return f"{what}: sent to {self.topic}[{self.partition}]@{self.offset}"
        if self.status is DeliveryStatus.INVALID:
            found = "; ".join(f"{p.field}: {p.reason}: {p.detail}" for p in self.problems)
            return f"{what}: invalid, not sent ({found})"
        return f"{what}: failed ({self.error})"


def _error_text(exc: BaseException) -> str:
    """An error for the delivery report: its type and message (never settings or secrets)."""
    message = str(exc).strip()
    return f"{type(exc).__name__}: {message}" if message else type(exc).__name__


class SupplierProducer:
    """Sends one supplier's daily counts to its topic; use as an async context manager."""

    def __init__(
        self,
        supplier_id: str,
        settings: Settings | None = None,
        *,
        schema_version: int = 1,
        clock: Clock = system_clock,
        window: int = DEFAULT_WINDOW,
    ) -> None:
        if not SUPPLIER_ID_RE.fullmatch(supplier_id):
            raise ProducerError(
                f"supplier id {supplier_id!r} is invalid: 2-40 characters a-z, 0-9 and '-'"
            )
        if schema_version not in SCHEMA_VERSIONS:
            raise ProducerError(
                f"schema version {schema_version} is not one this producer writes"
                f" ({', '.join(map(str, SCHEMA_VERSIONS))})"
            )
        self.supplier_id = supplier_id
        self.topic = topic_for(supplier_id)
        self.settings = settings or Settings()
        self.schema: SchemaVersion = version(schema_version)
        self._fields = frozenset(self.schema.field_names)
        self._clock = clock
        self._window = max(1, window)
        self._started_ms = now_ms()
        self._producer: AIOKafkaProducer | None = None

    @classmethod
    def connect(
        cls,
        supplier_id: str,
        bootstrap_servers: str,
        *,
        username: str | None = None,
        password: str | SecretStr | None = None,
        schema_version: int = 1,
        cafile: str | Path | None = None,
    ) -> SupplierProducer:
        """A producer for a broker address; with a username, SASL/SCRAM-SHA-512 is used; with
        ``cafile`` (the CA of the broker's certificate), over TLS (the broker is verified)."""
        secret = SecretStr(password) if isinstance(password, str) else password
        protocol = ("SASL_SSL" if username else "SSL") if cafile else None
        settings = Settings(
            kafka_bootstrap=bootstrap_servers,
            security_protocol=protocol or ("SASL_PLAINTEXT" if username else "PLAINTEXT"),
            sasl_username=username,
            sasl_password=secret,
            kafka_ssl_cafile=Path(cafile) if cafile else None,
        )
        return cls(supplier_id, settings, schema_version=schema_version)

    # --- lifecycle -----------------------------------------------------------------
    async def start(self) -> None:
        """Connect, and check the supplier's topic exists and may be written."""
        if self._producer is not None:
            return
        producer = make_producer(self.settings)
        try:
            with connection_failures() as failures:
                await producer.start()
        except KafkaError as exc:
            await _quiet_stop(producer)
            why = (
                "authentication failed (wrong user name or password, or the user was removed)"
                if failures.authentication
                else _error_text(exc)
            )
            raise ProducerError(
                f"cannot connect to Kafka at {self.settings.kafka()} as"
                f" {self.settings.sasl_username or 'an anonymous client'}: {why}"
            ) from None
        try:
            async with asyncio.timeout(TOPIC_CHECK_SECONDS):
                with muted_logger("aiokafka.cluster"):  # "not found" logged at every metadata retry
                    await producer.partitions_for(self.topic)
        except TimeoutError:
            await _quiet_stop(producer)
            raise ProducerError(
                f"topic {self.topic} does not exist: register the supplier first"
                f" (ingest suppliers add {self.supplier_id} --name ...)"
            ) from None
        except KafkaError as exc:
            await _quiet_stop(producer)
            raise ProducerError(f"cannot use topic {self.topic}: {_error_text(exc)}") from None
        self._producer = producer
        self._started_ms = now_ms()

    async def stop(self) -> None:
        """Wait for every event in flight, then disconnect."""
        producer, self._producer = self._producer, None
        if producer is not None:
            await producer.stop()

    async def __aenter__(self) -> SupplierProducer:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    # --- checking and encoding (no I/O) --------------------------------------------
    def limits(self) -> Limits:
        """The consumer's bounds as of today (UK day by default)."""
        return Limits(
            today=local_today(self._clock(), self.settings.timezone),
            horizon_days=self.settings.date_horizon_days,
            plausibility_cap=self.settings.plausibility_cap,
        )

    def check(self, counts: DailyCounts, limits: Limits | None = None) -> list[FieldProblem]:
        """Every problem the consumer would find with this event (empty: it would pass)."""
        return check_counts(counts, self.supplier_id, limits or self.limits(), self.schema.version)

    def encode(
        self, counts: DailyCounts, event_id: str, generated_at: dt.datetime
    ) -> tuple[bytes, bytes]:
        """(key, value) of the record for these counts."""
        event = counts.event(self.supplier_id, event_id, generated_at)
        value = encode_single_object(
            {k: v for k, v in event.items() if k in self._fields}, self.schema
        )
        return record_key(counts.practice_code, counts.activity_date), value

    # --- sending -------------------------------------------------------------------
    def _require(self) -> AIOKafkaProducer:
        if self._producer is None:
            raise ProducerError("the producer is not started: use `async with` or start()")
        return self._producer

    async def send(self, counts: DailyCounts, *, event_id: str | None = None) -> Delivery:
        """Check, encode and send one event; returns once Kafka acknowledged it (or refused)."""
        async for delivery in self.deliveries([counts], event_ids=[event_id] if event_id else None):
            return delivery
        raise AssertionError("unreachable: one delivery per event")

    async def send_many(
        self,
        items: Iterable[DailyCounts] | AsyncIterable[DailyCounts],
        on_delivery: Callable[[Delivery], None] | None = None,
    ) -> list[Delivery]:
        """Send many events, pipelined; one Delivery per event, in the order given."""
        results: list[Delivery] = []
        async for delivery in self.deliveries(items):
            if on_delivery is not None:
                on_delivery(delivery)
            results.append(delivery)
        return results

    async def deliveries(
        self,
        items: Iterable[DailyCounts] | AsyncIterable[DailyCounts],
        event_ids: Iterable[str] | None = None,
        *,
        prechecked: bool = False,
    ) -> AsyncIterator[Delivery]:
        """Send events, yielding each one's Delivery in order.

        A sliding window of at most ``window`` events is in flight: the oldest is settled as
        soon as the window is full, so the producer's batches stay full and memory bounded.
        ``prechecked``: the caller already applied :meth:`check` today (``ingest push`` does,
        row by row) and the check is not repeated."""
        producer = self._require()
        ids = iter(event_ids) if event_ids is not None else None
        limits = self.limits()
        pending: deque[tuple[DailyCounts, str, _Handle]] = deque()
        async for counts in _aiter(items):
            event_id = next(ids) if ids is not None else str(uuid.uuid4())
            problems = () if prechecked else self.check(counts, limits)
            handle: _Handle = (
                tuple(problems) if problems else await self._enqueue(producer, counts, event_id)
            )
            pending.append((counts, event_id, handle))
            while len(pending) > self._window:
                yield await self._settle(*pending.popleft())
        while pending:
            yield await self._settle(*pending.popleft())

    async def await_outcomes(
        self, deliveries: Sequence[Delivery], within: float = 120.0
    ) -> list[SubmissionOutcome | None]:
        """What the service made of each sent event (read from the supplier's feedback topic
        ``triage.feedback.<supplier_id>``), in the order of ``deliveries``; None for an event
        that was not sent or whose outcome did not arrive within ``within`` seconds."""
        positions = [
            (d.partition, d.offset)
            if d.ok and d.partition is not None and d.offset is not None
            else None
            for d in deliveries
        ]
        found = await await_outcomes(
            self.settings,
            self.supplier_id,
            [p for p in positions if p is not None],
            self._started_ms,
            within,
        )
        return [None if p is None else found.get(p) for p in positions]

    async def _enqueue(
        self, producer: AIOKafkaProducer, counts: DailyCounts, event_id: str
    ) -> asyncio.Future[Any] | BaseException:
        key, value = self.encode(counts, event_id, self._clock())
        try:
            future = await producer.send(self.topic, value=value, key=key)
        except KafkaError as exc:
            return cast(BaseException, exc)
        return cast("asyncio.Future[Any]", future)

    async def _settle(self, counts: DailyCounts, event_id: str, handle: _Handle) -> Delivery:
        if isinstance(handle, tuple):
            return Delivery(counts, event_id, DeliveryStatus.INVALID, self.topic, problems=handle)
        result: Any = handle
        if isinstance(handle, asyncio.Future):
            try:
                result = await handle
            except KafkaError as exc:
                result = exc
        if isinstance(result, BaseException):
            return Delivery(
                counts, event_id, DeliveryStatus.FAILED, self.topic, error=_error_text(result)
            )
        return Delivery(
            counts,
            event_id,
            DeliveryStatus.SENT,
            result.topic,
            partition=result.partition,
            offset=result.offset,
        )


_Handle = tuple[FieldProblem, ...] | asyncio.Future[Any] | BaseException


async def _aiter(
    items: Iterable[DailyCounts] | AsyncIterable[DailyCounts],
) -> AsyncIterator[DailyCounts]:
    if isinstance(items, AsyncIterable):
        async for item in items:
            yield item
    else:
        for item in items:
            yield item


async def _quiet_stop(producer: AIOKafkaProducer) -> None:
    try:
        await producer.stop()
    except (KafkaError, OSError) as exc:
        log.debug("ignoring %s while stopping a producer that failed to start", type(exc).__name__)
