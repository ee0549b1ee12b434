"""Record keys against bodies (pure). Keys are advisory (CONTRACT: the body decides), but a key
that names another practice or day than the body is a supplier bug worth seeing: such valid
events are counted per supplier (``triage_record_key_mismatches_total``), never rejected."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterable, Mapping

from ingest.consumer.pipeline import RecordLike
from ingest.contract.model import DailyEvent


def key_mismatches(
    events: Iterable[DailyEvent], records: Iterable[RecordLike]
) -> Mapping[str, int]:
    """Per supplier, the valid events whose record has a key other than
    ``<practice_code>:<YYYY-MM-DD>`` of the body (no key: nothing to compare)."""
    counts: Counter[str] = Counter()
    iso: dict[dt.date, bytes] = {}
    for event, record in zip(events, records, strict=True):
        key = record.key
        if key is None:
            continue
        day = iso.get(event.activity_date)
        if day is None:
            day = iso[event.activity_date] = event.activity_date.isoformat().encode()
        code = event.practice_code.encode()
        if key != code + b":" + day:
            counts[event.supplier_id] += 1
    return counts
