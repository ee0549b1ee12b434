"""The Kafka edge: client factories, and topic creation."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.abc import ConsumerRebalanceListener
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError, for_code

from ingest.errors import KafkaTopicError
from ingest.settings import Settings

log = logging.getLogger(__name__)


def client_options(settings: Settings) -> dict[str, Any]:
    """Connection options shared by every client (address and SASL/SCRAM credentials)."""
    options: dict[str, Any] = {
        "bootstrap_servers": settings.kafka(),
        "security_protocol": settings.security_protocol,
    }
    if settings.security_protocol.startswith("SASL"):
        options["sasl_mechanism"] = "SCRAM-SHA-512"
        options["sasl_plain_username"] = settings.sasl_username
        options["sasl_plain_password"] = (
            settings.sasl_password.get_secret_value() if settings.sasl_password else None
        )
    return options


def make_consumer(settings: Settings) -> AIOKafkaConsumer:
    """A consumer that never commits on its own: offsets live in Postgres first."""
    return AIOKafkaConsumer(
        **client_options(settings),
        group_id=settings.consumer_group,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        isolation_level="read_committed",
        metadata_max_age_ms=settings.metadata_max_age_ms,
        max_partition_fetch_bytes=settings.max_partition_fetch_bytes,
        fetch_max_bytes=settings.fetch_max_bytes,
        max_poll_records=settings.batch_max_records,
        session_timeout_ms=30000,
        heartbeat_interval_ms=3000,
        max_poll_interval_ms=600000,
    )


def make_producer(settings: Settings, **overrides: Any) -> AIOKafkaProducer:
    """An idempotent producer with acks=all."""
    options: dict[str, Any] = {
        **client_options(settings),
        "acks": "all",
        "enable_idempotence": True,
        "linger_ms": 5,
    }
    options.update(overrides)
    return AIOKafkaProducer(**options)


def make_admin(settings: Settings) -> AIOKafkaAdminClient:
    return AIOKafkaAdminClient(**client_options(settings))


async def ensure_topics(settings: Settings, names: Sequence[str], partitions: int) -> list[str]:
    """Create the topics that do not exist yet; returns those created."""
    admin = make_admin(settings)
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        missing = [n for n in names if n not in existing]
        if missing:
            new = [NewTopic(n, partitions, settings.topic_replication) for n in missing]
            response = await admin.create_topics(new)
            _raise_topic_errors(response)
        return missing
    finally:
        await admin.close()


def _raise_topic_errors(response: Any) -> None:
    for topic, code, *rest in response.topic_errors:
        if code not in (0, TopicAlreadyExistsError.errno):
            message = rest[0] if rest and rest[0] else for_code(code).__name__
            raise KafkaTopicError(f"could not create topic {topic!r}: {message}")


class ListenerBase(ConsumerRebalanceListener):  # type: ignore[misc]
    """Typed base for rebalance listeners."""
