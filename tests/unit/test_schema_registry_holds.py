"""Records whose schema id the registry has not answered wait; their partitions keep order and
nothing else waits."""

from __future__ import annotations

import pytest

from ingest.consumer.schema_registry.holds import hold_pending
from ingest.consumer.types import RawRecord

pytestmark = pytest.mark.unit

SINGLE_OBJECT = b"\xc3\x01" + bytes(8) + b"body"


def confluent(schema_id: int) -> bytes:
    return b"\x00" + schema_id.to_bytes(4, "big") + b"body"


def record(topic: str, partition: int, offset: int, value: bytes) -> RawRecord:
    return RawRecord(topic, partition, offset, None, value)


A, B = "triage.daily.alpha", "triage.daily.beta"


def test_nothing_pending_nothing_held() -> None:
    records = [record(A, 0, 5, confluent(1)), record(A, 0, 6, SINGLE_OBJECT)]
    held = hold_pending(records, {(A, 0): 7}, set())
    assert held.records == records and held.offsets == {(A, 0): 7} and not held.held


def test_a_partition_is_cut_at_its_first_pending_record_and_keeps_what_came_before() -> None:
    records = [
        record(A, 0, 10, confluent(1)),
        record(A, 0, 11, SINGLE_OBJECT),
        record(A, 0, 12, confluent(2)),  # pending: the cut
        record(A, 0, 13, confluent(1)),  # after the cut: waits too, order is kept
    ]
    held = hold_pending(records, {(A, 0): 14}, {2})
    assert [r.offset for r in held.records] == [10, 11]
    assert held.offsets == {(A, 0): 12}
    assert held.held == {(A, 0): 12}
    assert held.held_records == 2


def test_a_partition_whose_first_record_waits_stores_no_offset() -> None:
    held = hold_pending([record(A, 1, 3, confluent(9))], {(A, 1): 4}, {9})
    assert held.records == [] and held.offsets == {} and held.held == {(A, 1): 3}


def test_other_partitions_and_single_object_records_flow() -> None:
    records = [
        record(A, 0, 1, confluent(9)),
        record(A, 1, 1, SINGLE_OBJECT),
        record(B, 0, 1, confluent(3)),
        record(B, 0, 2, SINGLE_OBJECT),
    ]
    offsets = {(A, 0): 2, (A, 1): 2, (B, 0): 3}
    held = hold_pending(records, offsets, {9})
    assert [(r.topic, r.partition, r.offset) for r in held.records] == [
        (A, 1, 1),
        (B, 0, 1),
        (B, 0, 2),
    ]
    assert held.offsets == {(A, 1): 2, (B, 0): 3}
    assert held.held == {(A, 0): 1}
