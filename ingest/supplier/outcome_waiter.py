"""Awaiting the service's verdict on what a supplier sent: its submission outcomes, read from
its own feedback topic ``triage.feedback.<supplier_id>`` with the supplier's credentials alone
(no consumer group: the partitions are assigned, nothing is committed).

Outcomes are produced after the records they describe, so reading starts at the first
feedback record written at or after ``since`` (the time the sending began, less a margin for
clock skew between the supplier's host and the service's), found with ``offsets_for_times``.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Collection

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.errors import KafkaError

from ingest.contract.outcomes import SubmissionOutcome, decode_outcome, feedback_topic
from ingest.errors import DecodeError, IngestError
from ingest.kafka import client_options, make_admin
from ingest.settings import Settings

CLOCK_SKEW_MS = 5 * 60 * 1000
RESCAN_SECONDS = 5.0

Position = tuple[int, int]  # (source partition, source offset)


class OutcomeWaitError(IngestError):
    """The feedback topic could not be read."""


def now_ms() -> int:
    return int(time.time() * 1000)


async def await_outcomes(
    settings: Settings,
    supplier_id: str,
    positions: Collection[Position],
    since_ms: int,
    within: float,
) -> dict[Position, SubmissionOutcome]:
    """The outcomes of the records at ``positions`` of the supplier's topic, read until every
    one arrived or ``within`` seconds passed (missing ones are absent from the result)."""
    wanted = set(positions)
    found: dict[Position, SubmissionOutcome] = {}
    if not wanted:
        return found
    topic = feedback_topic(supplier_id)
    consumer = AIOKafkaConsumer(
        **client_options(settings),
        group_id=None,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
    )
    try:
        await consumer.start()
    except KafkaError as exc:
        raise OutcomeWaitError(f"cannot connect to Kafka to read {topic}: {exc}") from None
    try:
        partitions = await _partitions(settings, topic)
        consumer.assign(partitions)
        initial = await _start_offsets(consumer, partitions, since_ms - CLOCK_SKEW_MS)
        for tp, offset in initial.items():
            consumer.seek(tp, offset)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + within
        progress_at = loop.time()
        while wanted - found.keys():
            left = deadline - loop.time()
            if left <= 0:
                break
            if loop.time() - progress_at > RESCAN_SECONDS:
                # Nothing new for a while: read again from the start (a fetch lost to a closed
                # connection, e.g. the secure broker's re-authentication, is then read again).
                for tp, offset in initial.items():
                    consumer.seek(tp, offset)
                progress_at = loop.time()
            batch = await consumer.getmany(timeout_ms=int(min(left, 1.0) * 1000))
            for records in batch.values():
                for record in records:
                    try:
                        outcome = decode_outcome(record.value or b"")
                    except DecodeError:
                        continue  # not an outcome this client understands: not ours
                    position = (outcome.source_partition, outcome.source_offset)
                    if position in wanted and position not in found:
                        found[position] = outcome
                        progress_at = loop.time()
    except KafkaError as exc:
        raise OutcomeWaitError(f"cannot read {topic}: {exc}") from None
    finally:
        await consumer.stop()
    return found


async def _start_offsets(
    consumer: AIOKafkaConsumer, partitions: list[TopicPartition], since_ms: int
) -> dict[TopicPartition, int]:
    """Per partition, the first offset that can hold an outcome written at or after
    ``since_ms``.

    The end offsets are taken *before* the timestamp lookup: where the lookup finds no record
    that recent, every such record is written after it, so at or past those ends. (Seeking to
    the end after the lookup instead skips an outcome the service writes in between: the race
    behind outcomes that never arrived.)"""
    ends = await consumer.end_offsets(partitions)
    found = await consumer.offsets_for_times({tp: max(0, since_ms) for tp in partitions})
    starts: dict[TopicPartition, int] = {}
    for tp in partitions:
        at = found.get(tp)
        starts[tp] = ends[tp] if at is None else at.offset
    return starts


async def _partitions(settings: Settings, topic: str) -> list[TopicPartition]:
    """The feedback topic's partitions (metadata; DESCRIBE on the topic is enough)."""
    admin = make_admin(settings)
    try:
        await admin.start()
        described = await admin.describe_topics([topic])
    except KafkaError as exc:
        raise OutcomeWaitError(f"cannot describe {topic}: {exc}") from None
    finally:
        await admin.close()
    for entry in described:
        if entry["topic"] == topic and entry["error_code"] == 0 and entry["partitions"]:
            return [TopicPartition(topic, p["partition"]) for p in entry["partitions"]]
    raise OutcomeWaitError(
        f"feedback topic {topic} is missing or not readable with these credentials"
        " (it is created by `ingest suppliers add`)"
    )
