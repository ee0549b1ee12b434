"""The local stack's Kafka cluster id: ``kafka-storage format -t <id>`` reads an id that starts
with '-' as an option and refuses to format, so such an id is never made (the secure stack of a
test session failed to start on one)."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from pathlib import Path

import pytest

from ingest.devstack.kafka_config import kafka_cluster_id, new_cluster_id
from ingest.devstack.paths import StackPaths

pytestmark = pytest.mark.unit

DASH_FIRST = bytes([0xF8]) + bytes(15)  # top six bits 62: base64url '-'
PLAIN = bytes(range(16))


def drawing(*values: bytes) -> Iterator[bytes]:
    yield from values


def test_an_id_that_would_start_with_a_dash_is_drawn_again() -> None:
    draws = drawing(DASH_FIRST, PLAIN)
    assert base64.urlsafe_b64encode(DASH_FIRST).decode().startswith("-")

    made = new_cluster_id(lambda: next(draws))

    assert made == base64.urlsafe_b64encode(PLAIN).decode().rstrip("=")
    assert len(made) == 22  # 16 bytes, no padding: the form Kafka writes


def test_random_ids_never_start_with_a_dash() -> None:
    assert not any(new_cluster_id().startswith("-") for _ in range(2000))


def test_a_kept_id_is_reused_and_a_kept_dash_id_is_replaced(tmp_path: Path) -> None:
    paths = StackPaths(tmp_path)
    paths.kafka_cluster_id.parent.mkdir(parents=True, exist_ok=True)
    paths.kafka_cluster_id.write_text("AAECAwQFBgcICQoLDA0ODw\n")
    assert kafka_cluster_id(paths) == "AAECAwQFBgcICQoLDA0ODw"

    paths.kafka_cluster_id.write_text("-AECAwQFBgcICQoLDA0ODw\n")  # the format refused it
    replaced = kafka_cluster_id(paths)
    assert not replaced.startswith("-")
    assert paths.kafka_cluster_id.read_text().strip() == replaced
    assert kafka_cluster_id(paths) == replaced  # kept from now on
