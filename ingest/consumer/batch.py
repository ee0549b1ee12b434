"""One fetched batch, as the pipeline sees it: raw records, the offsets to store with it, the
validation limits of the day, and the mirror of the stored offsets to Kafka."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.errors import KafkaError

from ingest.clock import Clock, local_today
from ingest.consumer.types import RawRecord, TopicPartitionKey
from ingest.contract.participation import ParticipationList
from ingest.contract.validation import Limits
from ingest.settings import Settings

log = logging.getLogger(__name__)

FetchedBatch = Mapping[TopicPartition, Sequence[Any]]


def raw_records(batch: FetchedBatch) -> list[RawRecord]:
    """The batch's records, partition by partition (in topic, partition order)."""
    return [
        RawRecord(tp.topic, tp.partition, m.offset, m.key, m.value)
        for tp in sorted(batch, key=lambda t: (t.topic, t.partition))
        for m in batch[tp]
    ]


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
