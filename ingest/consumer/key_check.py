"""Record keys against bodies (pure). Keys are advisory (CONTRACT: the body decides), but a key
that names another practice or day than the body is a supplier bug worth seeing: such valid
events are counted, never rejected: per supplier in ``triage_record_key_mismatches_total``,
and per supplier and activity date in ``triage.record_key_mismatches`` (the quality report)."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterable, Mapping

from ingest.consumer.types import RecordLike
from ingest.contract.model import DailyEvent


def mismatched_keys(
    events: Iterable[DailyEvent], records: Iterable[RecordLike]
) -> list[DailyEvent]:
    """The valid events whose record has a key other than ``<practice_code>:<YYYY-MM-DD>``
    of the body (no key: nothing to compare). Bytes are compared, nothing is decoded."""
    found: list[DailyEvent] = []
    iso: dict[dt.date, bytes] = {}
    for event, record in zip(events, records, strict=True):
        key = record.key
        if key is None:
            continue
        day = iso.get(event.activity_date)
        if day is None:
            day = iso[event.activity_date] = event.activity_date.isoformat().encode()
        if key != event.practice_code.encode() + b":" + day:
            found.append(event)
    return found


def key_mismatches(
    events: Iterable[DailyEvent], records: Iterable[RecordLike]
) -> Mapping[str, int]:
    """Per supplier, how many of ``events`` have a key that disagrees with their body."""
    return Counter(e.supplier_id for e in mismatched_keys(events, records))


def per_day(events: Iterable[DailyEvent]) -> dict[tuple[str, dt.date], int]:
    """Events counted per (supplier, activity date of the body), in that order of keys."""
    counts = Counter((e.supplier_id, e.activity_date) for e in events)
    return dict(sorted(counts.items()))
