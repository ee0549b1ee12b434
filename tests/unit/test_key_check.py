"""A key that disagrees with its body is seen: the record key was never checked against the body.
Keys stay advisory (the body decides): a valid event whose key names another practice or day is
counted."""

from __future__ import annotations

import datetime as dt
from uuid import uuid4

import pytest

from ingest.consumer.key_check import key_mismatches, mismatched_keys, per_day
from ingest.consumer.types import RawRecord
from ingest.contract.model import DailyEvent, SourcePosition

pytestmark = pytest.mark.security

DAY = dt.date(2026, 11, 24)


def valid(supplier: str, code: str, key: bytes | None, offset: int) -> tuple[DailyEvent, RawRecord]:
    topic = f"triage.daily.{supplier}"
    event = DailyEvent(
        str(uuid4()),
        supplier,
        code,
        DAY,
        1,
        dt.datetime(2026, 11, 25, tzinfo=dt.UTC),
        (10, None, None, None, None, None),
        SourcePosition(topic, 0, offset),
    )
    return event, RawRecord(topic, 0, offset, key, b"body")


def test_keys_naming_another_practice_or_day_are_counted_per_supplier() -> None:
    pairs = [
        valid("sa", "A81001", b"A81001:2026-11-24", 0),  # the body's own key
        valid("sa", "A81001", b"A81002:2026-11-24", 1),  # another practice
        valid("sa", "A81001", b"A81001:2026-11-23", 2),  # another day
        valid("sa", "A81001", None, 3),  # no key: nothing to compare
        valid("sb", "B82001", b"B82001:2026-11-24\n", 4),  # not the same bytes
        valid("sb", "B82001", b"B82001:2026-11-24", 5),
    ]
    events, records = zip(*pairs, strict=True)
    assert key_mismatches(events, records) == {"sa": 2, "sb": 1}


def test_no_mismatch_no_count() -> None:
    event, record = valid("sa", "A81001", b"A81001:2026-11-24", 0)
    assert key_mismatches([event], [record]) == {}


def test_mismatched_events_are_counted_per_supplier_and_activity_date() -> None:
    pairs = [
        valid("sb", "B82001", b"B82001:2026-11-23", 0),
        valid("sa", "A81001", b"X", 1),
        valid("sa", "A81002", b"A81002:2026-11-24", 2),
        valid("sa", "A81003", b"", 3),
    ]
    events, records = zip(*pairs, strict=True)
    mismatched = mismatched_keys(events, records)
    assert [e.practice_code for e in mismatched] == ["B82001", "A81001", "A81003"]
    assert per_day(mismatched) == {("sa", DAY): 2, ("sb", DAY): 1}
