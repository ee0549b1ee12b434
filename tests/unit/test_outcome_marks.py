"""Where a relay round moves each source partition's outcome mark (pure): past what was
acknowledged or parked, never past an outcome still to be sent, to the fence once everything
below it was read."""

from __future__ import annotations

import pytest

from ingest.consumer.outcome_source import Pending, Reading, Round, marks_after

pytestmark = pytest.mark.unit

TOPIC = "triage.daily.askmygp"


def pending(partition: int, offset: int) -> Pending:
    return Pending("askmygp", TOPIC, partition, offset, None, b"", None, {})


def round_of(reading: Reading, offsets: list[int]) -> Round:
    reading.last = offsets[-1] if offsets else reading.last
    return Round([pending(reading.partition, o) for o in offsets], [reading])


def test_a_partition_read_to_its_fence_moves_its_mark_to_the_fence() -> None:
    """Offsets with no outcome (a record of no registered supplier) lie below the fence too."""
    taken = round_of(Reading(TOPIC, 0, mark=10, fence=20, reached_fence=True), [10, 11, 14])
    assert marks_after(taken, {id(p) for p in taken.outcomes}) == [(TOPIC, 0, 20)]


def test_a_partition_read_up_to_its_share_moves_its_mark_past_the_last_offset_read() -> None:
    taken = round_of(Reading(TOPIC, 0, mark=10, fence=900), [10, 11, 12])
    assert marks_after(taken, {id(p) for p in taken.outcomes}) == [(TOPIC, 0, 13)]


def test_the_mark_stops_at_the_first_outcome_not_acknowledged() -> None:
    """Its outcome and every one after it are sent again next round (at least once)."""
    taken = round_of(Reading(TOPIC, 0, mark=10, fence=20, reached_fence=True), [10, 11, 12, 13])
    sent = {id(p) for p in taken.outcomes if p.source_offset != 12}
    assert marks_after(taken, sent) == [(TOPIC, 0, 12)]


def test_nothing_acknowledged_leaves_the_mark_where_it_was() -> None:
    taken = round_of(Reading(TOPIC, 0, mark=10, fence=20, reached_fence=True), [10, 11])
    assert marks_after(taken, set()) == []


def test_a_parked_row_read_past_the_mark_is_passed_over() -> None:
    """A parked outbox row is read (its offset counts as read) but never sent."""
    reading = Reading(TOPIC, 0, mark=10, fence=900)
    taken = round_of(reading, [10])
    reading.last = 11  # offset 11: a parked row, read, not in the round's outcomes
    assert marks_after(taken, {id(p) for p in taken.outcomes}) == [(TOPIC, 0, 12)]


def test_partitions_move_independently() -> None:
    first = Reading(TOPIC, 0, mark=0, fence=5, reached_fence=True, last=3)
    second = Reading(TOPIC, 1, mark=7, fence=9, reached_fence=True, last=8)
    outcomes = [pending(0, 2), pending(0, 3), pending(1, 7), pending(1, 8)]
    taken = Round(outcomes, [first, second])
    sent = {id(outcomes[0]), id(outcomes[1]), id(outcomes[3])}
    assert marks_after(taken, sent) == [(TOPIC, 0, 5)]  # partition 1 waits at offset 7
