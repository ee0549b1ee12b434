"""The consumer's Kafka clients: the feed consumer and the producer (dead letters, outcomes),
started together, retried with capped backoff while Kafka is away (readiness says so)."""

from __future__ import annotations

import asyncio
import contextlib
import logging

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.errors import KafkaError

from ingest.consumer.dead_letters import DLQ_MAX_BYTES
from ingest.consumer.readiness import Readiness
from ingest.consumer.retry import retry
from ingest.errors import RetryStoppedError
from ingest.kafka import make_consumer, make_producer
from ingest.settings import Settings

log = logging.getLogger(__name__)


async def start_clients(
    settings: Settings, readiness: Readiness, stop: asyncio.Event
) -> tuple[AIOKafkaConsumer, AIOKafkaProducer]:
    """Start the feed consumer and the producer, retrying while Kafka is away;
    :class:`RetryStoppedError` when stopped meanwhile."""
    if stop.is_set():
        raise RetryStoppedError("stopped before Kafka was reached")

    async def attempt() -> tuple[AIOKafkaConsumer, AIOKafkaProducer]:
        consumer = make_consumer(settings)
        producer = make_producer(settings, max_request_size=DLQ_MAX_BYTES)
        try:
            await consumer.start()
            await producer.start()
        except (KafkaError, OSError):
            await _quiet_stop(consumer, producer)
            raise
        return consumer, producer

    def lost(_: BaseException) -> None:
        readiness.kafka = False

    return await retry(
        attempt,
        retry_on=(KafkaError, OSError),
        cap=settings.db_retry_max_seconds,
        describe=lambda exc: f"Kafka unreachable ({exc})",
        on_failure=lost,
        stop=stop,
        logger=log,
    )


async def _quiet_stop(*clients: AIOKafkaConsumer | AIOKafkaProducer) -> None:
    for client in clients:
        with contextlib.suppress(KafkaError, OSError):
            await client.stop()
