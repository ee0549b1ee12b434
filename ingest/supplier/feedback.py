"""Reading a supplier's feedback topic (``triage.feedback.<supplier_id>``): what became of the
records it sent, by event_id (Kafka edge)."""

from __future__ import annotations

import asyncio
from collections.abc import Collection

from aiokafka import AIOKafkaConsumer
from aiokafka.errors import KafkaError

from ingest.contract.model import Outcome, Reason
from ingest.contract.outcomes import decode_outcome, feedback_topic
from ingest.errors import DecodeError, IngestError
from ingest.kafka import client_options
from ingest.settings import Settings


class FeedbackError(IngestError):
    """The feedback topic cannot be read."""


async def outcomes_of(
    settings: Settings, supplier_id: str, event_ids: Collection[str], within: float = 60.0
) -> dict[str, tuple[Outcome, Reason | None]]:
    """The latest outcome of each of ``event_ids`` found in the supplier's feedback topic,
    read from its beginning until all are found or ``within`` seconds have passed."""
    wanted = set(event_ids)
    found: dict[str, tuple[Outcome, Reason | None]] = {}
    consumer = AIOKafkaConsumer(
        feedback_topic(supplier_id),
        **client_options(settings),
        auto_offset_reset="earliest",
        enable_auto_commit=False,
    )
    try:
        await consumer.start()
    except (KafkaError, OSError) as exc:
        raise FeedbackError(f"cannot read {feedback_topic(supplier_id)}: {exc}") from None
    try:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + within
        while not wanted <= found.keys() and loop.time() < deadline:
            batch = await consumer.getmany(timeout_ms=500)
            for records in batch.values():
                for record in records:
                    try:
                        outcome = decode_outcome(record.value or b"")
                    except DecodeError:
                        continue
                    if outcome.event_id is not None and outcome.event_id in wanted:
                        found[outcome.event_id] = (outcome.outcome, outcome.reason)
    finally:
        await consumer.stop()
    return found
