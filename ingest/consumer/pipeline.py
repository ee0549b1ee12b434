"""From raw Kafka records to valid events and rejections (pure, no I/O).

:func:`triage` reads each record through the decoder's fast path when its topic names a
registered supplier (one regular expression per value, then
:func:`ingest.contract.validation.passes`);
a record the fast path does not take whole goes through :func:`check_record`, the general
path, which alone decides rejections. Both give the same events.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass, field, fields
from functools import cached_property
from typing import Any
from uuid import UUID

from ingest.consumer.decoding import Decoder
from ingest.consumer.fast_reader import FastReader, timestamp_millis
from ingest.consumer.schema_registry.released import RegistrySchema
from ingest.consumer.types import RecordLike
from ingest.contract.model import (
    COUNT_FIELDS,
    DailyEvent,
    EventSummary,
    Reason,
    Rejection,
    SourcePosition,
    supplier_of_topic,
)
from ingest.contract.outcomes import DETAIL_MAX_CHARS
from ingest.contract.validation import Limits, check_event, check_supplier, passes, summarise
from ingest.errors import DecodeError

_EPOCH_ORDINAL = dt.date(1970, 1, 1).toordinal()
SHOWN_CHARS = 100  # of a refused event's event_id or practice_code, in its outcome


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


def _event_constructor() -> Callable[..., DailyEvent]:
    """DailyEvent's constructor, or a cheaper equivalent: a frozen slotted dataclass's
    ``__init__`` sets each field through ``object.__setattr__``; setting the slots directly
    builds the same (equal) object in half the time. Used only by the fast path."""
    names = [f.name for f in fields(DailyEvent)]
    slots = getattr(DailyEvent, "__slots__", ())
    if tuple(names) != tuple(slots) or hasattr(DailyEvent, "__post_init__") or len(names) != 8:
        return DailyEvent
    new = object.__new__
    s0, s1, s2, s3, s4, s5, s6, s7 = (getattr(DailyEvent, n).__set__ for n in names)

    def make(
        a: object, b: object, c: object, d: object, e: object, f: object, g: object, h: object
    ) -> DailyEvent:
        event: DailyEvent = new(DailyEvent)
        s0(event, a)
        s1(event, b)
        s2(event, c)
        s3(event, d)
        s4(event, e)
        s5(event, f)
        s6(event, g)
        s7(event, h)
        return event

    return make


_new_event = _event_constructor()


def triage(
    records: Iterable[RecordLike],
    decoder: Decoder,
    registered: Collection[str],
    limits: Limits,
    registry_schemas: Mapping[int, RegistrySchema] | None = None,
) -> Triaged:
    """Decode and validate each record, keeping order."""
    out = Triaged()
    valid, valid_records, first = out.valid, out.valid_records, out.first_offsets
    bounds = limits.day_bounds()
    cap = limits.plausibility_cap
    participation = limits.participation
    no_readers: dict[bytes, FastReader] = {}
    by_topic: dict[str, tuple[str, dict[bytes, FastReader]]] = {}
    days: dict[int, dt.date] = {}
    new_event = _new_event
    last_topic: str | None = None
    last_partition = -1
    low: int | None = None
    for record in records:
        topic, partition, offset = record.topic, record.partition, record.offset
        if partition != last_partition or topic != last_topic:
            last_topic, last_partition = topic, partition
            low = first.get((topic, partition))
        if low is None or offset < low:
            low = first[(topic, partition)] = offset
        of_topic = by_topic.get(topic)
        if of_topic is None:
            supplier = supplier_of_topic(topic)
            if supplier is not None and supplier in registered:
                of_topic = by_topic[topic] = (supplier, decoder.fast_readers(supplier))
            else:
                of_topic = by_topic[topic] = ("", no_readers)
        supplier, readers = of_topic
        event: DailyEvent | Rejection | None = None
        value = record.value
        if value and readers:
            read = readers.get(value[2:10])
            if read is not None:
                try:
                    fast = read(value)
                    if fast is not None:
                        event_id, code, day, revision, generated, figures = fast
                        if passes(day, revision, figures, bounds, cap) and (
                            participation is None or participation.includes_day(code, day)
                        ):
                            date = days.get(day)
                            if date is None:
                                date = days[day] = dt.date.fromordinal(day + _EPOCH_ORDINAL)
                            event = new_event(
                                event_id,
                                supplier,
                                code,
                                date,
                                revision,
                                timestamp_millis(generated),
                                figures,
                                SourcePosition(topic, partition, offset),
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
    registry_schemas: Mapping[int, RegistrySchema] | None = None,
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
        return _reject(
            record,
            source,
            topic_supplier,
            registered,
            problem.reason,
            problem.detail,
            _summary(event),
        )
    return _to_event(event, source)


def _reject(
    record: RecordLike,
    source: SourcePosition,
    topic_supplier: str | None,
    registered: Collection[str],
    reason: Reason,
    detail: str,
    summary: EventSummary | None = None,
) -> Rejection:
    supplier = topic_supplier if topic_supplier in registered else None
    # Details quote supplier values cut to 100 characters (validation.quoted), so they are
    # short and stored whole; this cut only bounds text from elsewhere (e.g. a registry
    # schema's field names). Postgres text cannot hold NUL: the detail is kept printable.
    if len(detail) > DETAIL_MAX_CHARS:
        cut = len(detail) - DETAIL_MAX_CHARS
        detail = f"{detail[:DETAIL_MAX_CHARS]}... ({cut} more characters)"
    printable = detail.replace("\x00", "\\x00")
    return Rejection(source, record.key, record.value, supplier, reason, printable, summary)


def _summary(event: dict[str, Any]) -> EventSummary:
    """The identifying fields of a decoded but refused event (text cut to 100 characters)."""
    event_id = event.get("event_id")
    code = event.get("practice_code")
    return EventSummary(
        event_id=None if event_id is None else str(event_id)[:SHOWN_CHARS].replace("\x00", ""),
        practice_code=None if code is None else str(code)[:SHOWN_CHARS].replace("\x00", ""),
        activity_date=event.get("activity_date"),
        revision=event.get("revision"),
    )


def _to_event(event: dict[str, Any], source: SourcePosition) -> DailyEvent:
    event_id = event["event_id"]
    generated_at: dt.datetime = event["generated_at"]
    return DailyEvent(
        event_id=str(event_id) if isinstance(event_id, UUID) else event_id.lower(),
        supplier_id=event["supplier_id"],
        practice_code=event["practice_code"],
        activity_date=event["activity_date"],
        revision=event["revision"],
        generated_at=generated_at,
        figures=tuple(event.get(name) for name in COUNT_FIELDS),
        source=source,
    )
