"""One fetched batch, as the pipeline sees it: raw records, the offsets to store with it, the
validation limits of the day, and the mirror of the stored offsets to Kafka."""

from __future__ import annotations

import logging
from collections.abc import Collection, Hashable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.errors import KafkaError

from ingest.clock import Clock, local_today
from ingest.consumer.pipeline import Triaged
from ingest.consumer.types import RecordLike, TopicPartitionKey
from ingest.contract.model import DailyEvent
from ingest.contract.participation import ParticipationList
from ingest.contract.validation import Limits
from ingest.settings import Settings

log = logging.getLogger(__name__)

FetchedBatch = Mapping[TopicPartition, Sequence[Any]]


def raw_records(batch: FetchedBatch) -> list[RecordLike]:
    """The batch's records, partition by partition (in topic, partition order): aiokafka's
    records themselves, not copies (each carries its topic, partition, offset, key, value)."""
    ordered = sorted(batch, key=lambda t: (t.topic, t.partition))
    return [m for tp in ordered for m in batch[tp]]


def next_offsets(batch: FetchedBatch) -> dict[TopicPartitionKey, int]:
    """Per partition of the batch, the offset to read next once the batch is stored."""
    return {(tp.topic, tp.partition): msgs[-1].offset + 1 for tp, msgs in batch.items() if msgs}


def limits_now(
    settings: Settings, clock: Clock, participation: ParticipationList | None = None
) -> Limits:
    """The validation limits as of now (``today`` in the configured time zone)."""
    return Limits(
        today=local_today(clock(), settings.timezone),
        horizon_days=settings.date_horizon_days,
        plausibility_cap=settings.plausibility_cap,
        participation=participation,
    )


def triage_basis(registered: Collection[str], limits: Limits) -> Hashable:
    """What a batch's triage depends on besides its records and the decoder: the registered
    suppliers, the day's limits and the participation list loaded (a load never changes)."""
    participation = None if limits.participation is None else limits.participation.load_id
    return (
        frozenset(registered),
        limits.today,
        limits.horizon_days,
        limits.plausibility_cap,
        participation,
    )


@dataclass
class TriagedOnce:
    """The CPU work of one batch (decode, validate, the key check), kept across the database
    retries of its write: a Postgres blip redoes the transaction, not this work, unless what
    the triage depends on (:func:`triage_basis`) changed meanwhile."""

    basis: Hashable | None = None
    triaged: Triaged = field(default_factory=Triaged)
    mismatched: list[DailyEvent] = field(default_factory=list)
    computed: int = 0  # how many times the batch was triaged

    def reusable(self, basis: Hashable) -> bool:
        return self.computed > 0 and basis == self.basis

    def keep(self, basis: Hashable, triaged: Triaged, mismatched: list[DailyEvent]) -> None:
        self.basis, self.triaged, self.mismatched = basis, triaged, mismatched
        self.computed += 1


async def commit_to_kafka(
    consumer: AIOKafkaConsumer, offsets: Mapping[TopicPartitionKey, int]
) -> None:
    """Mirror stored offsets to Kafka so lag tools work (best effort: Postgres rules)."""
    assigned = consumer.assignment()
    mine = {tp: n for (t, p), n in offsets.items() if (tp := TopicPartition(t, p)) in assigned}
    if not mine:
        return
    try:
        await consumer.commit(mine)
    except KafkaError as exc:
        log.info("Kafka offset commit skipped (%s); Postgres holds the offsets", exc)
