"""Turn a record value into a dict in the current schema's shape (pure, no I/O).

Two encodings are accepted (CONTRACT section 1):

* Avro single-object encoding: ``C3 01`` + 8-byte little-endian CRC-64-AVRO fingerprint of
  the writer schema + Avro binary body; writer schemas are the released versions.
* Confluent wire format: ``00`` + 4-byte big-endian schema id + Avro binary body; the schema
  id is looked up beforehand by the I/O edge (:mod:`ingest.consumer.schema_registry`) and
  handed in through ``registry_schemas``: an id whose registry schema is a released version
  (:mod:`ingest.consumer.registry_schemas`) is read with that version, any other is
  ``unknown_schema`` with the difference in its detail.

Every failure raises :class:`~ingest.errors.DecodeError` with reason ``undecodable`` or
``unknown_schema`` and a detail that says exactly what was wrong.

Fast path (:meth:`Decoder.fast_reader`): a released writer version whose fields are the
known ones, each with the reader's type, and whose resolution to the reader only adds fields
with defaults, is read by one compiled regular expression per (writer version, supplier) that
matches the whole value: header, canonical lower-case UUID, the topic's supplier id, a
well-formed practice code, the varints and union branches, and nothing after. A match gives
the same values fastavro gives (the tests compare both on every released version, random
events and mutated bytes); anything the expression does not match, or that would not pass
the contract's checks, goes through the general path above, which alone decides rejections
and their details. It is about 10x cheaper than ``schemaless_reader`` with reader resolution.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import re
from collections.abc import Callable, Mapping
from typing import Any

from fastavro import parse_schema, schemaless_reader

from ingest.consumer.body_diagnosis import failing_field
from ingest.consumer.registry_schemas import RegistrySchema
from ingest.contract.model import COUNT_FIELDS, Reason
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


# --- fast path -----------------------------------------------------------------------------

# event_id, practice_code, activity_date (days since 1970-01-01), revision, generated_at
# (milliseconds since the epoch, UTC), then the values of COUNT_FIELDS in that order.
FastFields = tuple[str, str, int, int, int, tuple[int | None, ...]]
FastReader = Callable[[bytes], FastFields | None]

# A varint of at most 9 bytes (63 bits: read exactly as fastavro reads it, no overflow).
_VARINT = rb"([\x80-\xff]{0,8}[\x00-\x7f])"
_FIELD_PATTERNS: dict[str, tuple[object, bytes]] = {
    # field name: (its Avro type in the released schemas, the pattern of its encoding)
    "event_id": (
        {"type": "string", "logicalType": "uuid"},
        rb"\x48([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})",
    ),
    "practice_code": ("string", rb"\x0c([A-Z][0-9]{5})"),
    "activity_date": ({"type": "int", "logicalType": "date"}, _VARINT),
    "revision": ("int", _VARINT),
    "generated_at": ({"type": "long", "logicalType": "timestamp-millis"}, _VARINT),
}
_COUNT_PATTERNS: dict[str, bytes] = {
    '"int"': _VARINT,
    '["null", "int"]': rb"(?:\x00|\x02" + _VARINT + rb")",
}
_VARINT_CACHE_MAX = 1 << 16
_GENERATED_AT_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


def varint(raw: bytes) -> int:
    """The value of a zig-zag varint (as fastavro's read_long computes it)."""
    if len(raw) == 6:  # timestamps in milliseconds of this century: one expression
        x = int.from_bytes(raw, "little")
        n = (
            (x & 0x7F)
            | ((x >> 1) & 0x3F80)
            | ((x >> 2) & 0x1FC000)
            | ((x >> 3) & 0xFE00000)
            | ((x >> 4) & 0x7F0000000)
            | ((x >> 5) & 0x3F800000000)
        )
        return (n >> 1) ^ -(n & 1)
    n = 0
    shift = 0
    for byte in raw:
        n |= (byte & 0x7F) << shift
        shift += 7
    return (n >> 1) ^ -(n & 1)


class _Varints(dict[bytes, int]):
    """Varint values by their bytes: a hit is one dict lookup in C (no Python call); a miss
    computes the value and keeps it while there is room (counts repeat a few thousand values)."""

    def __missing__(self, raw: bytes) -> int:
        value = varint(raw)
        if len(self) < _VARINT_CACHE_MAX:
            self[raw] = value
        return value


_VARINT_CACHE = _Varints()
_small = _VARINT_CACHE.__getitem__


def timestamp_millis(ms: int) -> dt.datetime:
    """The datetime fastavro reads for a timestamp-millis value."""
    return _GENERATED_AT_EPOCH + dt.timedelta(microseconds=ms * 1000)


def _avro_string(text: str) -> bytes:
    raw = text.encode()
    return _zigzag_varint(len(raw)) + raw


def _zigzag_varint(n: int) -> bytes:
    z = (n << 1) ^ (n >> 63)
    out = bytearray()
    while z & ~0x7F:
        out.append((z & 0x7F) | 0x80)
        z >>= 7
    out.append(z)
    return bytes(out)


_LEADING_FIELDS = (
    "event_id",
    "supplier_id",
    "practice_code",
    "activity_date",
    "revision",
    "generated_at",
)


def fast_count_fields(writer: SchemaVersion, reader: SchemaVersion) -> int | None:
    """How many of COUNT_FIELDS a writer version carries when it can take the fast path,
    else None. It can when its fields are the leading ones then the first k count fields, in
    that order, each with the reader's exact type and a type the fast path reads, and every
    other reader field defaults to null (so resolution to the reader only adds nulls)."""
    reader_fields = {f["name"]: f for f in reader.source["fields"]}
    names = [f["name"] for f in writer.source["fields"]]
    k = len(names) - len(_LEADING_FIELDS)
    if tuple(names[: len(_LEADING_FIELDS)]) != _LEADING_FIELDS or not 1 <= k <= len(COUNT_FIELDS):
        return None
    if tuple(names[len(_LEADING_FIELDS) :]) != COUNT_FIELDS[:k]:
        return None
    for f in writer.source["fields"]:
        name, avro_type = f["name"], f["type"]
        if name not in reader_fields or reader_fields[name]["type"] != avro_type:
            return None
        if name == "supplier_id":
            ok = avro_type == "string"
        elif name in _FIELD_PATTERNS:
            ok = _FIELD_PATTERNS[name][0] == avro_type
        else:
            ok = _type_key(avro_type) in _COUNT_PATTERNS
        if not ok:
            return None
    for name, f in reader_fields.items():
        if name not in names and ("default" not in f or f["default"] is not None):
            return None
    return k


def _type_key(avro_type: object) -> str:
    return json.dumps(avro_type, sort_keys=True)


def _compile_reader(writer: SchemaVersion, k: int, supplier: str) -> FastReader:
    """The fast reader of one writer version on one supplier's topic."""
    types = {f["name"]: f["type"] for f in writer.source["fields"]}
    pattern = b"".join(
        [
            re.escape(SINGLE_OBJECT_MAGIC + writer.fingerprint),
            _FIELD_PATTERNS["event_id"][1],
            re.escape(_avro_string(supplier)),
            *(_FIELD_PATTERNS[n][1] for n in _LEADING_FIELDS[2:]),
            *(_COUNT_PATTERNS[_type_key(types[n])] for n in COUNT_FIELDS[:k]),
        ]
    )
    fullmatch = re.compile(pattern).fullmatch
    small = _small
    pad: tuple[None, ...] = (None,) * (len(COUNT_FIELDS) - k)

    if k == 4:  # schema v1: the v2 and v3 fields read as null

        def read_4(value: bytes) -> FastFields | None:
            match = fullmatch(value)
            if match is None:
                return None
            event_id, code, day, revision, generated, total, c, a, o = match.groups()
            return (
                event_id.decode(),
                code.decode(),
                small(day),
                small(revision),
                varint(generated),
                (
                    small(total),
                    None if c is None else small(c),
                    None if a is None else small(a),
                    None if o is None else small(o),
                    *pad,
                ),
            )

        return read_4

    if k == 6:  # schema v2: the v3 fields read as null

        def read_6(value: bytes) -> FastFields | None:
            match = fullmatch(value)
            if match is None:
                return None
            event_id, code, day, revision, generated, total, c, a, o, p, s = match.groups()
            return (
                event_id.decode(),
                code.decode(),
                small(day),
                small(revision),
                varint(generated),
                (
                    small(total),
                    None if c is None else small(c),
                    None if a is None else small(a),
                    None if o is None else small(o),
                    None if p is None else small(p),
                    None if s is None else small(s),
                    *pad,
                ),
            )

        return read_6

    if k == 15:  # schema v3: the nine time bands, all null or all present

        def read_15(value: bytes) -> FastFields | None:
            match = fullmatch(value)
            if match is None:
                return None
            g = match.groups()
            counts = g[5:]  # total, clinical, admin, other, patient, staff, the nine bands
            return (
                g[0].decode(),
                g[1].decode(),
                small(g[2]),
                small(g[3]),
                varint(g[4]),
                (
                    *(
                        [None if r is None else small(r) for r in counts]
                        if None in counts
                        else map(small, counts)
                    ),
                    *pad,
                ),
            )

        return read_15

    def read(value: bytes) -> FastFields | None:
        match = fullmatch(value)
        if match is None:
            return None
        g = match.groups()
        return (
            g[0].decode(),
            g[1].decode(),
            small(g[2]),
            small(g[3]),
            varint(g[4]),
            tuple([None if r is None else small(r) for r in g[5:]]) + pad,
        )

    return read


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
                writer.fingerprint: _compile_reader(writer, k, supplier)
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
