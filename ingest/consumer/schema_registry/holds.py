"""Holding back the records whose schema id the registry has not answered yet (pure).

A record whose id is pending (registry unreachable, or the batch's bound of new ids used up)
must wait, never be rejected; the partition's order must be kept. So each partition is cut
at its first such record: the records before it are processed now, and the partition is read
again from the cut. Partitions without such records (single-object encoded ones, other
suppliers') are untouched.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from ingest.consumer.decoding import confluent_schema_id
from ingest.consumer.types import RecordLike, TopicPartitionKey


@dataclass
class HeldBatch:
    """A batch with the records of pending schema ids held back."""

    records: list[RecordLike]  # processed now
    offsets: dict[TopicPartitionKey, int]  # next offsets to store with them
    held: dict[TopicPartitionKey, int] = field(default_factory=dict)  # read again from
    held_records: int = 0


def hold_pending(
    records: Sequence[RecordLike],
    offsets: Mapping[TopicPartitionKey, int],
    pending: set[int],
) -> HeldBatch:
    """Cut each partition at its first record whose schema id is pending."""
    if not pending:
        return HeldBatch(list(records), dict(offsets))
    cut: dict[TopicPartitionKey, int] = {}
    for record in records:
        key = (record.topic, record.partition)
        if key in cut or not record.value:
            continue
        schema_id = confluent_schema_id(record.value)
        if schema_id is not None and schema_id in pending:
            cut[key] = record.offset
    if not cut:
        return HeldBatch(list(records), dict(offsets))
    kept = [r for r in records if r.offset < cut.get((r.topic, r.partition), r.offset + 1)]
    stored_to = {key: n for key, n in offsets.items() if key not in cut}
    for key, offset in cut.items():
        if any((r.topic, r.partition) == key for r in kept):
            stored_to[key] = offset  # what was before the cut is stored
    return HeldBatch(kept, stored_to, cut, len(records) - len(kept))
