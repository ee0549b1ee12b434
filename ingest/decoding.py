"""Turn a record value into a dict in the current schema's shape (pure, no I/O).

Two encodings are accepted (CONTRACT section 1):

* Avro single-object encoding: ``C3 01`` + 8-byte little-endian CRC-64-AVRO fingerprint of
  the writer schema + Avro binary body; writer schemas are the released versions.
* Confluent wire format: ``00`` + 4-byte big-endian schema id + Avro binary body; the writer
  schema comes from a schema registry, fetched beforehand by the I/O edge
  (:mod:`ingest.schema_registry`) and handed in through ``registry_schemas``.

Every failure raises :class:`~ingest.errors.DecodeError` with reason ``undecodable`` or
``unknown_schema`` and a detail that says exactly what was wrong.
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from typing import Any

from fastavro import schemaless_reader

from ingest.errors import DecodeError
from ingest.model import Reason
from ingest.schemas import (
    CONFLUENT_MAGIC,
    SINGLE_OBJECT_MAGIC,
    SchemaVersion,
    by_fingerprint,
    reader_schema,
)

SINGLE_OBJECT_HEADER = 10  # 2 magic bytes + 8 fingerprint bytes
CONFLUENT_HEADER = 5  # 1 magic byte + 4 schema id bytes

Decoded = dict[str, Any]


def confluent_schema_id(value: bytes) -> int | None:
    """The registry schema id of a Confluent-framed value, or None for other encodings."""
    if len(value) >= CONFLUENT_HEADER and value[:1] == CONFLUENT_MAGIC:
        return int.from_bytes(value[1:CONFLUENT_HEADER], "big")
    return None


class Decoder:
    """Decodes values written with any released (or registry-known) schema into one shape."""

    def __init__(self, reader: SchemaVersion | None = None) -> None:
        self._reader = reader or reader_schema()
        self._by_fingerprint = by_fingerprint()

    @property
    def reader(self) -> SchemaVersion:
        return self._reader

    def decode(
        self,
        value: bytes | None,
        registry_schemas: Mapping[int, dict[str, Any]] | None = None,
    ) -> Decoded:
        """Decode one record value; raises DecodeError on any problem."""
        if not value:
            raise DecodeError(Reason.UNDECODABLE, "record value is empty (null or 0 bytes)")
        if value[:2] == SINGLE_OBJECT_MAGIC:
            return self._decode_single_object(value)
        if value[:1] == CONFLUENT_MAGIC:
            return self._decode_confluent(value, registry_schemas or {})
        raise DecodeError(
            Reason.UNDECODABLE,
            f"unknown encoding: first byte 0x{value[0]:02x} is neither C3 01 (Avro single-object)"
            " nor 00 (Confluent wire format)",
        )

    def _decode_single_object(self, value: bytes) -> Decoded:
        if len(value) < SINGLE_OBJECT_HEADER:
            raise DecodeError(
                Reason.UNDECODABLE,
                f"single-object header truncated: {len(value)} bytes, need at least 10",
            )
        fp = value[2:SINGLE_OBJECT_HEADER]
        writer = self._by_fingerprint.get(fp)
        if writer is None:
            raise DecodeError(
                Reason.UNKNOWN_SCHEMA,
                f"writer schema fingerprint {fp.hex()} is not a released schema version"
                f" (known: {', '.join(fp.hex() for fp in self._by_fingerprint)})",
            )
        return self._read_body(value, SINGLE_OBJECT_HEADER, writer.parsed, f"v{writer.version}")

    def _decode_confluent(
        self, value: bytes, registry_schemas: Mapping[int, dict[str, Any]]
    ) -> Decoded:
        schema_id = confluent_schema_id(value)
        if schema_id is None:
            raise DecodeError(
                Reason.UNDECODABLE,
                f"Confluent header truncated: {len(value)} bytes, need at least 5",
            )
        writer = registry_schemas.get(schema_id)
        if writer is None:
            raise DecodeError(
                Reason.UNKNOWN_SCHEMA,
                f"schema id {schema_id} is unknown to the schema registry"
                " (or no registry is configured: INGEST_SCHEMA_REGISTRY_URL)",
            )
        return self._read_body(value, CONFLUENT_HEADER, writer, f"registry id {schema_id}")

    def _read_body(self, value: bytes, start: int, writer: dict[str, Any], label: str) -> Decoded:
        stream = io.BytesIO(value)
        stream.seek(start)
        try:
            record = schemaless_reader(stream, writer, self._reader.parsed)
        except (EOFError, StopIteration):
            raise DecodeError(
                Reason.UNDECODABLE, f"Avro body truncated (schema {label}, {len(value)} bytes)"
            ) from None
        except UnicodeDecodeError as exc:
            raise DecodeError(
                Reason.UNDECODABLE, f"Avro body has a string that is not UTF-8 ({exc.reason})"
            ) from None
        except Exception as exc:
            raise DecodeError(
                Reason.UNDECODABLE,
                f"Avro body does not match schema {label}: {type(exc).__name__}: {exc}"[:500],
            ) from None
        leftover = len(value) - stream.tell()
        if leftover:
            raise DecodeError(
                Reason.UNDECODABLE,
                f"{leftover} unexpected trailing bytes after the Avro body (schema {label})",
            )
        if not isinstance(record, dict):
            raise DecodeError(Reason.UNDECODABLE, f"Avro body is not a record (schema {label})")
        return record
