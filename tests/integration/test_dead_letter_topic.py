"""The dead-letter topic is created as ``ingest.kafka.DEAD_LETTER_TOPIC`` defines it, by the
local stack and by the service's call, on the real broker."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from aiokafka.admin import AIOKafkaAdminClient

from ingest.consumer.dead_letters import ensure_dead_letter_topic
from ingest.devstack import stack as local_stack
from ingest.kafka import DEAD_LETTER_TOPIC, create_dead_letter_topic
from ingest.settings import Settings
from tests.conftest import REPO_ROOT
from tests.support.kafka import topic_layout


async def test_the_service_creates_the_dead_letter_topic_as_defined(
    settings: Settings, kafka_admin: AIOKafkaAdminClient
) -> None:
    await ensure_dead_letter_topic(settings)  # what the service calls at start-up
    assert not await create_dead_letter_topic(settings)  # it exists now: left as it is

    layout = await topic_layout(kafka_admin, settings.dlq_topic, DEAD_LETTER_TOPIC)

    assert layout == (DEAD_LETTER_TOPIC.partitions, DEAD_LETTER_TOPIC.configs())
    assert DEAD_LETTER_TOPIC.configs()["max.message.bytes"] == str(16 * 1024 * 1024)


async def test_the_local_stack_creates_the_dead_letter_topic_as_defined(
    stack: local_stack.StackAddresses, kafka_admin: AIOKafkaAdminClient
) -> None:
    folder = Settings().state_dir
    if "INGEST_STATE_DIR" not in os.environ:
        folder = REPO_ROOT / folder
    if local_stack.read_addresses(Path(folder)) != stack:
        pytest.skip(f"the stack under test is not the local one of {folder}")

    await local_stack.kafka_up(Path(folder))  # the running broker: ensures the topic only

    layout = await topic_layout(kafka_admin, Settings().dlq_topic, DEAD_LETTER_TOPIC)
    assert layout == (DEAD_LETTER_TOPIC.partitions, DEAD_LETTER_TOPIC.configs())
