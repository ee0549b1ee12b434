"""Turn a record value into a dict in the current schema's shape (pure, no I/O).

Two encodings are accepted (CONTRACT section 1):

* Avro single-object encoding: ``C3 01`` + 8-byte little-endian CRC-64-AVRO fingerprint of
  the writer schema + Avro binary body; writer schemas are the released versions.
* Confluent wire format: ``00`` + 4-byte big-endian schema id + Avro binary body; the schema
  id is looked up beforehand by the I/O edge (:mod:`ingest.consumer.schema_registry.client`) and
  handed in through ``registry_schemas``: an id whose registry schema is a released version
  (:mod:`ingest.consumer.schema_registry.released`) is read with that version, any other is
  ``unknown_schema`` with the difference in its detail.

Every failure raises :class:`~ingest.errors.DecodeError` with reason ``undecodable`` or
``unknown_schema`` and a detail that says exactly what was wrong.

Fast path (:meth:`Decoder.fast_reader`): whole values matched by one compiled regular
expression per (writer version, supplier), in :mod:`ingest.consumer.fast_reader`.
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from typing import Any

from fastavro import parse_schema, schemaless_reader

from ingest.consumer.body_diagnosis import failing_field
from ingest.consumer.fast_reader import FastFields, FastReader, compile_reader, fast_count_fields
from ingest.consumer.schema_registry.released import RegistrySchema
from ingest.contract.model import Reason
from ingest.contract.schemas import (
    CONFLUENT_MAGIC,
    SINGLE_OBJECT_MAGIC,
    SchemaVersion,
    by_fingerprint,
    reader_schema,
    released_versions,
)
from ingest.errors import DecodeError

SINGLE_OBJECT_HEADER = 10  # 2 magic bytes + 8 fingerprint bytes
CONFLUENT_HEADER = 5  # 1 magic byte + 4 schema id bytes

Decoded = dict[str, Any]


def confluent_schema_id(value: bytes) -> int | None:
    """The registry schema id of a Confluent-framed value, or None for other encodings."""
    if len(value) >= CONFLUENT_HEADER and value[:1] == CONFLUENT_MAGIC:
        return int.from_bytes(value[1:CONFLUENT_HEADER], "big")
    return None


def plain_event_id(schema: dict[str, Any]) -> dict[str, Any]:
    """The writer schema with ``event_id`` read as a plain string (its ``uuid`` logical type
    dropped). fastavro converts a uuid field inside the body, so a value that is not a UUID
    would fail there with no field named; read as a string, it decodes and validation rejects
    it ``invalid_event_id`` with the field and the value. Other schemas are returned as they
    are."""
    fields = schema.get("fields")
    if not isinstance(fields, list):
        return schema
    changed = False
    plain: list[Any] = []
    for field in fields:
        avro_type = field.get("type") if isinstance(field, dict) else None
        if (
            isinstance(field, dict)
            and field.get("name") == "event_id"
            and isinstance(avro_type, dict)
            and avro_type.get("logicalType") == "uuid"
        ):
            string_type = {k: v for k, v in avro_type.items() if k != "logicalType"}
            plain.append({**field, "type": string_type})
            changed = True
        else:
            plain.append(field)
    return {**schema, "fields": plain} if changed else schema


def _hinted(schema: SchemaVersion) -> dict[str, Any]:
    parsed = parse_schema(plain_event_id(schema.source))
    if not isinstance(parsed, dict):
        raise TypeError("a released schema must be an Avro record")
    return parsed


class Decoder:
    """Decodes values written with any released (or registry-known) schema into one shape."""

    def __init__(self, reader: SchemaVersion | None = None) -> None:
        self._reader = reader or reader_schema()
        self._by_fingerprint = by_fingerprint()
        self._fast_versions = [
            (writer, k)
            for writer in released_versions()
            if (k := fast_count_fields(writer, self._reader)) is not None
        ]
        self._fast: dict[str, FastReader | None] = {}
        self._fast_by_fingerprint: dict[str, dict[bytes, FastReader]] = {}
        # Parsed with fastavro's hint, so schemaless_reader does not parse them again on
        # every call (half the cost of the general path otherwise).
        self._hinted: dict[bytes, dict[str, Any]] = {
            v.fingerprint: _hinted(v) for v in released_versions()
        }
        self._hinted_reader = self._hinted.get(self._reader.fingerprint) or _hinted(self._reader)

    def fast_readers(self, supplier: str) -> dict[bytes, FastReader]:
        """The fast path's readers for values on a supplier's topic, by writer fingerprint
        (bytes 2-10 of a single-object value); each returns None for any value it does not
        read exactly. Empty when no released version qualifies."""
        readers = self._fast_by_fingerprint.get(supplier)
        if readers is None:
            readers = self._fast_by_fingerprint[supplier] = {
                writer.fingerprint: compile_reader(writer, k, supplier)
                for writer, k in self._fast_versions
            }
        return readers

    def fast_reader(self, supplier: str) -> FastReader | None:
        """One reader of the fast path for values on a supplier's topic (None: no released
        version qualifies). It returns None for any value it does not read exactly."""
        if supplier in self._fast:
            return self._fast[supplier]
        readers = self.fast_readers(supplier)
        fast: FastReader | None = None
        if readers:

            def fast(value: bytes) -> FastFields | None:
                read = readers.get(value[2:10])
                return None if read is None else read(value)

        self._fast[supplier] = fast
        return fast

    @property
    def reader(self) -> SchemaVersion:
        return self._reader

    def decode(
        self,
        value: bytes | None,
        registry_schemas: Mapping[int, RegistrySchema] | None = None,
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
        return self._read_body(
            value, SINGLE_OBJECT_HEADER, self._hinted[writer.fingerprint], f"v{writer.version}"
        )

    def _decode_confluent(
        self, value: bytes, registry_schemas: Mapping[int, RegistrySchema]
    ) -> Decoded:
        schema_id = confluent_schema_id(value)
        if schema_id is None:
            raise DecodeError(
                Reason.UNDECODABLE,
                f"Confluent header truncated: {len(value)} bytes, need at least 5",
            )
        found = registry_schemas.get(schema_id)
        if found is None:
            raise DecodeError(
                Reason.UNKNOWN_SCHEMA,
                f"schema id {schema_id} is unknown to the schema registry"
                " (or no registry is configured: INGEST_SCHEMA_REGISTRY_URL)",
            )
        if found.version is None:
            raise DecodeError(Reason.UNKNOWN_SCHEMA, found.detail)
        writer = found.version
        label = f"registry id {schema_id} = v{writer.version}"
        return self._read_body(value, CONFLUENT_HEADER, self._hinted[writer.fingerprint], label)

    def _read_body(self, value: bytes, start: int, writer: dict[str, Any], label: str) -> Decoded:
        stream = io.BytesIO(value)
        stream.seek(start)
        try:
            record = schemaless_reader(stream, writer, self._hinted_reader)
        except (EOFError, StopIteration):
            raise DecodeError(
                Reason.UNDECODABLE,
                f"Avro body truncated{_at_field(value, start, writer)} (schema {label},"
                f" {len(value)} bytes)",
            ) from None
        except UnicodeDecodeError as exc:
            raise DecodeError(
                Reason.UNDECODABLE,
                f"Avro body has a string that is not UTF-8{_at_field(value, start, writer)}"
                f" ({exc.reason})",
            ) from None
        except Exception as exc:
            raise DecodeError(
                Reason.UNDECODABLE,
                f"Avro body does not match schema {label}{_at_field(value, start, writer)}:"
                f" {type(exc).__name__}: {exc}"[:500],
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


def _at_field(value: bytes, start: int, writer: dict[str, Any]) -> str:
    """ ", in field NAME (from byte N): CAUSE" for the field that fails, else ""."""
    failure = failing_field(value, start, writer)
    return "" if failure is None else f", in {failure}"
