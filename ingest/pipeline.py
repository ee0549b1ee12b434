"""From raw Kafka records to valid events and rejections (pure, no I/O).

:func:`triage` reads each record through the decoder's fast path when its topic names a
registered supplier (one regular expression per value, then :func:`ingest.validation.passes`);
a record the fast path does not take whole goes through :func:`check_record`, the general
path, which alone decides rejections. Both give the same events.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Protocol
from uuid import UUID

from ingest.decoding import Decoder, FastReader, timestamp_millis
from ingest.errors import DecodeError
from ingest.model import (
    COUNT_FIELDS,
    DailyEvent,
    Reason,
    Rejection,
    SourcePosition,
    supplier_of_topic,
)
from ingest.validation import Limits, check_event, check_supplier, passes, summarise

_EPOCH_ORDINAL = dt.date(1970, 1, 1).toordinal()


@dataclass(frozen=True, slots=True)
class RawRecord:
    """The parts of a Kafka record the service uses."""

    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None


class RecordLike(Protocol):
    """What triage reads of a record: a RawRecord, or aiokafka's ConsumerRecord as it is
    (no copy needed)."""

    @property
    def topic(self) -> str: ...
    @property
    def partition(self) -> int: ...
    @property
    def offset(self) -> int: ...
    @property
    def key(self) -> bytes | None: ...
    @property
    def value(self) -> bytes | None: ...


@dataclass
class Triaged:
    """A batch split into valid events (in processing order) and rejections."""

    valid: list[DailyEvent] = field(default_factory=list)
    rejections: list[Rejection] = field(default_factory=list)
    # the record of each valid event (same order), kept in case resolution rejects it later
    valid_records: list[RecordLike] = field(default_factory=list)
    # the lowest offset of the batch in each (topic, partition)
    first_offsets: dict[tuple[str, int], int] = field(default_factory=dict)

    @cached_property
    def raw(self) -> dict[SourcePosition, tuple[bytes | None, bytes | None]]:
        """Raw key and value of each valid event, by its position."""
        pairs = zip(self.valid, self.valid_records, strict=True)
        return {e.source: (r.key, r.value) for e, r in pairs}

    @cached_property
    def _record_of(self) -> dict[int, RecordLike]:
        # by the identity of the event object: cheap to build (no dataclass hashing)
        return {id(e): r for e, r in zip(self.valid, self.valid_records, strict=True)}

    def raw_of(self, event: DailyEvent) -> tuple[bytes | None, bytes | None]:
        """Raw key and value of one of this batch's valid events."""
        record = self._record_of.get(id(event))
        if record is not None and record.offset == event.source.offset:
            return record.key, record.value
        return self.raw[event.source]


def triage(
    records: Iterable[RecordLike],
    decoder: Decoder,
    registered: Collection[str],
    limits: Limits,
    registry_schemas: Mapping[int, dict[str, Any]] | None = None,
) -> Triaged:
    """Decode and validate each record, keeping order."""
    out = Triaged()
    valid, valid_records, first = out.valid, out.valid_records, out.first_offsets
    bounds = limits.day_bounds()
    cap = limits.plausibility_cap
    readers: dict[str, tuple[str | None, FastReader | None]] = {}
    days: dict[int, dt.date] = {}
    last_tp: tuple[str, int] | None = None
    low: int | None = None
    for record in records:
        topic = record.topic
        tp = (topic, record.partition)
        if tp != last_tp:
            last_tp = tp
            low = first.get(tp)
        if low is None or record.offset < low:
            low = first[tp] = record.offset
        reader_of = readers.get(topic)
        if reader_of is None:
            supplier = supplier_of_topic(topic)
            registered_supplier = supplier if supplier in registered else None
            reader_of = readers[topic] = (
                registered_supplier,
                decoder.fast_reader(registered_supplier) if registered_supplier else None,
            )
        supplier, read = reader_of
        event: DailyEvent | Rejection | None = None
        value = record.value
        if read is not None and value:
            try:
                fields = read(value)
                if fields is not None:
                    event_id, code, day, revision, generated, figures = fields
                    if passes(day, revision, figures, bounds, cap):
                        date = days.get(day)
                        if date is None:
                            date = days[day] = dt.date.fromordinal(day + _EPOCH_ORDINAL)
                        event = DailyEvent(
                            event_id,
                            supplier,  # type: ignore[arg-type]  # not None when read is set
                            code,
                            date,
                            revision,
                            timestamp_millis(generated),
                            figures,
                            SourcePosition(topic, record.partition, record.offset),
                        )
            except (ValueError, OverflowError):
                event = None  # out of the fast path's range: the general path decides
        if event is None:
            event = check_record(record, decoder, registered, limits, registry_schemas)
        if isinstance(event, Rejection):
            out.rejections.append(event)
        else:
            valid.append(event)
            valid_records.append(record)
    return out


def check_record(
    record: RecordLike,
    decoder: Decoder,
    registered: Collection[str],
    limits: Limits,
    registry_schemas: Mapping[int, dict[str, Any]] | None = None,
) -> DailyEvent | Rejection:
    """One record to a valid event or a rejection that says exactly why."""
    source = SourcePosition(record.topic, record.partition, record.offset)
    topic_supplier = supplier_of_topic(record.topic)
    try:
        event = decoder.decode(record.value, registry_schemas)
    except DecodeError as exc:
        return _reject(record, source, topic_supplier, registered, Reason(exc.reason), exc.detail)
    problem = check_supplier(topic_supplier, record.topic, registered)
    if problem is None and topic_supplier is not None:
        problems = check_event(event, topic_supplier, limits)
        problem = summarise(problems) if problems else None
    if problem is not None:
        return _reject(record, source, topic_supplier, registered, problem.reason, problem.detail)
    return _to_event(event, source)


def _reject(
    record: RecordLike,
    source: SourcePosition,
    topic_supplier: str | None,
    registered: Collection[str],
    reason: Reason,
    detail: str,
) -> Rejection:
    supplier = topic_supplier if topic_supplier in registered else None
    # Postgres text cannot hold NUL; keep the detail printable and exact.
    printable = detail.replace("\x00", "\\x00")
    return Rejection(source, record.key, record.value, supplier, reason, printable)


def _to_event(event: dict[str, Any], source: SourcePosition) -> DailyEvent:
    event_id = event["event_id"]
    generated_at: dt.datetime = event["generated_at"]
    return DailyEvent(
        event_id=str(event_id) if isinstance(event_id, UUID) else str(UUID(event_id)),
        supplier_id=event["supplier_id"],
        practice_code=event["practice_code"],
        activity_date=event["activity_date"],
        revision=event["revision"],
        generated_at=generated_at,
        figures=tuple(event.get(name) for name in COUNT_FIELDS),
        source=source,
    )
