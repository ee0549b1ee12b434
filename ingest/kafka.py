"""The Kafka edge: client factories, topic creation and the one definition of the DLQ topic."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.abc import ConsumerRebalanceListener
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import (
    AuthenticationFailedError,
    SaslAuthenticationFailed,
    TopicAlreadyExistsError,
    for_code,
)
from aiokafka.helpers import create_ssl_context
from aiokafka.protocol.offset import OffsetRequest

from ingest.errors import KafkaTopicError
from ingest.settings import Settings

log = logging.getLogger(__name__)

DAY_MS = 24 * 60 * 60 * 1000
LEADERS_WITHIN_SECONDS = 30.0  # a new topic's partitions get serving leaders within this


@dataclass(frozen=True)
class TopicSpec:
    """How a topic is created: its partitions and the topic-level settings that differ from the
    broker's defaults (replication comes from ``Settings.topic_replication``)."""

    partitions: int
    max_message_bytes: int | None = None  # max.message.bytes: the largest record batch
    retention_ms: int | None = None  # retention.ms: how long records stay

    def configs(self) -> dict[str, str]:
        """The topic configs to create it with (``kafka-topics.sh --config`` names)."""
        configs: dict[str, str] = {}
        if self.max_message_bytes is not None:
            configs["max.message.bytes"] = str(self.max_message_bytes)
        if self.retention_ms is not None:
            configs["retention.ms"] = str(self.retention_ms)
        return configs

    def new_topic(self, name: str, replication: int) -> NewTopic:
        return NewTopic(name, self.partitions, replication, topic_configs=self.configs())


# The dead-letter topic (``Settings.dlq_topic``), wherever it is created: by the service, the
# local stack (plain and secure), the demo and docker-compose (checked by
# tests/unit/test_compose.py). A letter holds the rejected record's key and value (a feed topic
# may allow values above the broker's 1 MB default) plus headers, so it takes up to 16 MB, and
# the DLQ producer may send that much. One partition keeps the letters in rejection order; they
# stay 7 days (every rejection is also kept in Postgres, triage.rejected_events).
DEAD_LETTER_MAX_BYTES = 16 * 1024 * 1024
DEAD_LETTER_TOPIC = TopicSpec(
    partitions=1, max_message_bytes=DEAD_LETTER_MAX_BYTES, retention_ms=7 * DAY_MS
)


def client_options(settings: Settings) -> dict[str, Any]:
    """Connection options shared by every client (address, TLS and SASL/SCRAM credentials)."""
    options: dict[str, Any] = {
        "bootstrap_servers": settings.kafka(),
        "security_protocol": settings.security_protocol,
    }
    if settings.security_protocol in ("SSL", "SASL_SSL"):
        # verifies the broker's certificate chain and host name (CERT_REQUIRED)
        options["ssl_context"] = create_ssl_context(
            cafile=settings.kafka_ssl_cafile,
            certfile=settings.kafka_ssl_certfile,
            keyfile=settings.kafka_ssl_keyfile,
        )
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


# max.message.bytes of every feedback topic: far above the largest outcome (a key of at most
# ingest.contract.outcomes.OUTCOME_KEY_MAX_BYTES, the detail of at most 4,000 characters, the
# other text fields of at most 100), so an outcome is never refused for its size whatever the
# broker's default.
FEEDBACK_MAX_MESSAGE_BYTES = 1024 * 1024


def feedback_topic_spec(settings: Settings) -> TopicSpec:
    """A supplier's feedback topic ``triage.feedback.<supplier_id>`` (contract v1.1 section 6):
    as many partitions as a feed topic; outcomes stay ``feedback_retention_days``; records up
    to FEEDBACK_MAX_MESSAGE_BYTES, far above the largest outcome."""
    return TopicSpec(
        partitions=settings.topic_partitions,
        max_message_bytes=FEEDBACK_MAX_MESSAGE_BYTES,
        retention_ms=int(settings.feedback_retention_days * DAY_MS),
    )


def make_admin(settings: Settings) -> AIOKafkaAdminClient:
    return AIOKafkaAdminClient(**client_options(settings))


async def ensure_topics(
    settings: Settings, names: Sequence[str], spec: TopicSpec | int
) -> list[str]:
    """Create the topics that do not exist yet (``spec``: how, or just a partition count);
    returns those created. An existing topic is left as it is."""
    how = spec if isinstance(spec, TopicSpec) else TopicSpec(spec)
    admin = make_admin(settings)
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        missing = [n for n in names if n not in existing]
        if missing:
            new = [how.new_topic(n, settings.topic_replication) for n in missing]
            response = await admin.create_topics(new)
            _raise_topic_errors(response)
            await _await_leaders(admin, missing)
        return missing
    finally:
        await admin.close()


async def _await_leaders(
    admin: AIOKafkaAdminClient, topics: Sequence[str], within: float = LEADERS_WITHIN_SECONDS
) -> None:
    """Wait until every partition of new topics has a leader that serves it: a producer
    writing at once would otherwise meet NotLeaderForPartitionError (retried, but logged)
    while the broker takes leadership. Asked as the clients ask: ListOffsets to each leader."""
    client = admin._client  # aiokafka has no public call for a request to one node
    deadline = asyncio.get_running_loop().time() + within
    while True:
        waiting = 0
        by_leader: dict[int, dict[str, list[tuple[int, int]]]] = {}  # leader: topic: (p, -1)
        for topic in await admin.describe_topics(list(topics)):
            waiting += not topic["partitions"]  # not in the metadata yet
            for p in topic["partitions"]:
                if p["leader"] < 0:
                    waiting += 1
                else:
                    asked = by_leader.setdefault(p["leader"], {})
                    asked.setdefault(topic["topic"], []).append((p["partition"], -1))
        for leader, asked in by_leader.items():
            response = await client.send(leader, OffsetRequest(-1, 0, list(asked.items())))
            waiting += sum(1 for _, parts in response.topics for part in parts if part[1] != 0)
        if not waiting:
            return
        if asyncio.get_running_loop().time() > deadline:
            raise KafkaTopicError(
                f"{waiting} partitions of {', '.join(topics)} have no serving leader after"
                f" {within:g} s"
            )
        await asyncio.sleep(0.1)


async def create_dead_letter_topic(settings: Settings) -> bool:
    """Create ``settings.dlq_topic`` as :data:`DEAD_LETTER_TOPIC` says unless it exists; True
    when this call created it."""
    return bool(await ensure_topics(settings, [settings.dlq_topic], DEAD_LETTER_TOPIC))


def _raise_topic_errors(response: Any) -> None:
    for topic, code, *rest in response.topic_errors:
        if code not in (0, TopicAlreadyExistsError.errno):
            message = rest[0] if rest and rest[0] else for_code(code).__name__
            raise KafkaTopicError(f"could not create topic {topic!r}: {message}")


class ListenerBase(ConsumerRebalanceListener):  # type: ignore[misc]
    """Typed base for rebalance listeners."""


@contextlib.contextmanager
def muted_logger(logger_name: str) -> Iterator[None]:
    """A client library's logger silenced while we report the outcome ourselves (e.g.
    aiokafka's connection errors, which our one-line error already names)."""
    logger = logging.getLogger(logger_name)
    previous = logger.disabled
    logger.disabled = True
    try:
        yield
    finally:
        logger.disabled = previous


class ConnectionFailures(logging.Handler):
    """Whether a broker refused the client's user name and password (SASL) while watched."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.authentication = False

    def emit(self, record: logging.LogRecord) -> None:
        args = record.args if isinstance(record.args, tuple) else ()
        refused = (SaslAuthenticationFailed, AuthenticationFailedError)
        self.authentication = self.authentication or any(isinstance(a, refused) for a in args)


@contextlib.contextmanager
def connection_failures() -> Iterator[ConnectionFailures]:
    """Why aiokafka could not connect: it logs each broker's error (a wrong password...) and
    then raises a bare "Unable to bootstrap"; this reads those logged errors meanwhile."""
    logger = logging.getLogger("aiokafka")  # the name aiokafka's client logs under
    handler = ConnectionFailures()
    logger.addHandler(handler)
    try:
        yield handler
    finally:
        logger.removeHandler(handler)
