"""From raw Kafka records to valid events and rejections (pure, no I/O)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from ingest.decoding import Decoder
from ingest.errors import DecodeError
from ingest.model import (
    COUNT_FIELDS,
    DailyEvent,
    Reason,
    Rejection,
    SourcePosition,
    supplier_of_topic,
)
from ingest.validation import Limits, check_event, check_supplier, summarise


@dataclass(frozen=True, slots=True)
class RawRecord:
    """The parts of a Kafka record the service uses."""

    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None


@dataclass
class Triaged:
    """A batch split into valid events (in processing order) and rejections."""

    valid: list[DailyEvent] = field(default_factory=list)
    rejections: list[Rejection] = field(default_factory=list)
    # raw key and value of each valid event, kept in case resolution rejects it later
    raw: dict[SourcePosition, tuple[bytes | None, bytes | None]] = field(default_factory=dict)


def triage(
    records: Iterable[RawRecord],
    decoder: Decoder,
    registered: Collection[str],
    limits: Limits,
    registry_schemas: Mapping[int, dict[str, Any]] | None = None,
) -> Triaged:
    """Decode and validate each record, keeping order."""
    out = Triaged()
    for record in records:
        result = check_record(record, decoder, registered, limits, registry_schemas)
        if isinstance(result, Rejection):
            out.rejections.append(result)
        else:
            out.valid.append(result)
            out.raw[result.source] = (record.key, record.value)
    return out


def check_record(
    record: RawRecord,
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
    record: RawRecord,
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
