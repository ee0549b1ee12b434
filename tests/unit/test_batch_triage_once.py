"""A batch is triaged once: a database retry of its write reuses the work unless what the
triage depends on (registered suppliers, the day's limits, the participation list) changed.
And the records handed to it are aiokafka's own, not copies."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pytest
from aiokafka import TopicPartition

from ingest.consumer.batch import TriagedOnce, raw_records, triage_basis
from ingest.consumer.pipeline import Triaged
from ingest.contract.participation import ParticipationList
from ingest.contract.validation import Limits

pytestmark = pytest.mark.unit

TODAY = dt.date(2026, 12, 7)


@dataclass(frozen=True)
class Fetched:  # the attributes of aiokafka's ConsumerRecord the service reads
    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None


def test_the_batchs_records_are_the_fetched_objects_in_partition_order() -> None:
    a1, a0, b0 = TopicPartition("t.a", 1), TopicPartition("t.a", 0), TopicPartition("t.b", 0)
    batch = {
        b0: [Fetched("t.b", 0, 7, None, b"x")],
        a1: [Fetched("t.a", 1, 3, None, b"y"), Fetched("t.a", 1, 4, None, b"z")],
        a0: [Fetched("t.a", 0, 9, b"k", b"w")],
    }
    records = raw_records(batch)
    expected = [*batch[a0], *batch[a1], *batch[b0]]
    assert all(r is e for r, e in zip(records, expected, strict=True))


def test_the_same_suppliers_and_limits_give_the_same_basis() -> None:
    limits = Limits(today=TODAY)
    assert triage_basis({"s1", "s2"}, limits) == triage_basis(["s2", "s1"], Limits(today=TODAY))


@pytest.mark.parametrize(
    "changed",
    [
        ({"s1"}, Limits(today=TODAY)),  # a supplier deregistered
        ({"s1", "s2"}, Limits(today=TODAY + dt.timedelta(days=1))),  # midnight passed
        ({"s1", "s2"}, Limits(today=TODAY, plausibility_cap=5)),
        ({"s1", "s2"}, Limits(today=TODAY, participation=ParticipationList.of(3, []))),
    ],
)
def test_any_change_of_what_triage_reads_changes_the_basis(
    changed: tuple[set[str], Limits],
) -> None:
    assert triage_basis({"s1", "s2"}, Limits(today=TODAY)) != triage_basis(*changed)


def test_a_participation_list_is_known_by_its_load() -> None:
    first = Limits(today=TODAY, participation=ParticipationList.of(3, []))
    reread = Limits(today=TODAY, participation=ParticipationList.of(3, []))
    assert triage_basis({"s1"}, first) == triage_basis({"s1"}, reread)


def test_a_batch_is_triaged_again_only_when_its_basis_changed() -> None:
    once = TriagedOnce()
    basis = triage_basis({"s1"}, Limits(today=TODAY))
    assert not once.reusable(basis)  # nothing kept yet
    triaged = Triaged()
    once.keep(basis, triaged, [])
    assert once.reusable(triage_basis({"s1"}, Limits(today=TODAY)))  # a retry: reused
    assert once.triaged is triaged
    assert not once.reusable(triage_basis({"s1", "s2"}, Limits(today=TODAY)))
