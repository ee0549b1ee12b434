"""Smoke test of the real broker: one Avro event (CONTRACT section 1 single-object encoding)
produced to a real topic, consumed back, decoded and compared.

The encoding is built here from the Avro specification, independently of
ingest.contract.encoding, so this test also pins the wire format suppliers rely on.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import io
import json
import uuid
from pathlib import Path
from typing import Any

import fastavro
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from fastavro.schema import fingerprint, to_parsing_canonical_form

from ingest.settings import Settings
from tests.support.kafka import CreateTopics

SCHEMA_V1 = Path(__file__).resolve().parents[2] / "schemas" / "daily_practice_requests.v1.avsc"
MAGIC = b"\xc3\x01"
_CRC64_EMPTY = 0xC15D213AA4D7A795


def _crc64_table() -> list[int]:
    table = []
    for byte in range(256):
        fp = byte
        for _ in range(8):
            fp = (fp >> 1) ^ (_CRC64_EMPTY if fp & 1 else 0)
        table.append(fp)
    return table


_TABLE = _crc64_table()


def crc64_avro(data: bytes) -> int:
    """CRC-64-AVRO (Rabin) fingerprint, as specified in the Avro spec."""
    fp = _CRC64_EMPTY
    for byte in data:
        fp = (fp >> 8) ^ _TABLE[(fp ^ byte) & 0xFF]
    return fp


def load_v1() -> tuple[dict[str, Any], bytes]:
    """Parsed writer schema v1 and its 8-byte little-endian fingerprint."""
    raw = json.loads(SCHEMA_V1.read_text())
    canonical = to_parsing_canonical_form(raw)
    fp = crc64_avro(canonical.encode()).to_bytes(8, "little")
    assert fp.hex() == fingerprint(canonical, "CRC-64-AVRO")  # fastavro agrees (same bytes)
    return fastavro.parse_schema(raw), fp


def encode(event: dict[str, Any]) -> bytes:
    schema, fp = load_v1()
    body = io.BytesIO()
    fastavro.schemaless_writer(body, schema, event)
    return MAGIC + fp + body.getvalue()


def decode(value: bytes) -> dict[str, Any]:
    schema, fp = load_v1()
    assert value[:2] == MAGIC, "not Avro single-object encoding"
    assert value[2:10] == fp, "written with another schema than v1"
    record = fastavro.schemaless_reader(io.BytesIO(value[10:]), schema, None)
    assert isinstance(record, dict)
    return record


def sample_event(supplier_id: str) -> dict[str, Any]:
    now = dt.datetime.now(dt.UTC)
    return {
        "event_id": str(uuid.uuid4()),
        "supplier_id": supplier_id,
        "practice_code": "A81001",
        "activity_date": dt.date.today() - dt.timedelta(days=1),
        "revision": 1,
        "generated_at": now.replace(microsecond=now.microsecond // 1000 * 1000),
        "total_requests": 42,
        "clinical_requests": 30,
        "admin_requests": 10,
        "other_requests": 2,
    }


def test_fingerprint_matches_the_avro_spec_test_vector() -> None:
    # Avro's own test data (share/test/data/schema-tests.txt) lists these fingerprints.
    assert crc64_avro(b'"int"') == 8247732601305521295
    assert crc64_avro(b'"null"') == 7195948357588979594


async def test_one_avro_event_round_trips_through_a_real_topic(
    settings: Settings, token: str, create_topics: CreateTopics
) -> None:
    supplier = f"{token}-smoke"
    topic = f"triage.daily.{supplier}"
    await create_topics(topic, partitions=3)
    event = sample_event(supplier)
    key = f"{event['practice_code']}:{event['activity_date'].isoformat()}".encode()

    producer = AIOKafkaProducer(bootstrap_servers=settings.kafka(), acks="all")
    await producer.start()
    try:
        sent = await producer.send_and_wait(topic, encode(event), key=key)
    finally:
        await producer.stop()

    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=settings.kafka(),
        group_id=settings.consumer_group,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
    )
    await consumer.start()
    try:
        async with asyncio.timeout(60):
            record = await consumer.getone()
    finally:
        await consumer.stop()

    assert (record.topic, record.partition, record.offset) == (topic, sent.partition, sent.offset)
    assert record.key == key
    decoded = decode(record.value)
    decoded["event_id"] = str(decoded["event_id"])  # the uuid logical type may come back a UUID
    assert decoded == event
