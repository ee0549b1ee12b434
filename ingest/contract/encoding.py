"""Encoding events for Kafka (pure): Avro single-object encoding and record keys."""

from __future__ import annotations

import datetime as dt
import io
from typing import Any

from fastavro import schemaless_writer

from ingest.contract.schemas import SINGLE_OBJECT_MAGIC, SchemaVersion, reader_schema


def encode_single_object(event: dict[str, Any], schema: SchemaVersion | None = None) -> bytes:
    """``C3 01`` + fingerprint + Avro body of the event, written with ``schema``."""
    writer = schema or reader_schema()
    buffer = io.BytesIO()
    buffer.write(SINGLE_OBJECT_MAGIC)
    buffer.write(writer.fingerprint)
    schemaless_writer(buffer, writer.parsed, event)
    value = buffer.getvalue()
    return value


def encode_confluent(event: dict[str, Any], schema: SchemaVersion, schema_id: int) -> bytes:
    """``00`` + 4-byte big-endian schema id + Avro body (Confluent wire format)."""
    buffer = io.BytesIO()
    buffer.write(b"\x00")
    buffer.write(schema_id.to_bytes(4, "big"))
    schemaless_writer(buffer, schema.parsed, event)
    return buffer.getvalue()


def record_key(practice_code: str, activity_date: dt.date) -> bytes:
    """The contract's record key: UTF-8 ``<practice_code>:<YYYY-MM-DD>``."""
    return f"{practice_code}:{activity_date.isoformat()}".encode()
