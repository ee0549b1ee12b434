"""The fast path of decoding (pure, no I/O), used by :meth:`Decoder.fast_reader
<ingest.consumer.decoding.Decoder.fast_reader>`.

A released writer version whose fields are the known ones, each with the reader's type, and
whose resolution to the reader only adds fields with defaults, is read by one compiled regular
expression per (writer version, supplier) that matches the whole value: header, canonical
lower-case UUID, the topic's supplier id, a well-formed practice code, the varints and union
branches, and nothing after. A match gives the same values fastavro gives (the tests compare
both on every released version, random events and mutated bytes); anything the expression
does not match, or that would not pass the contract's checks, goes through the general path
of :mod:`ingest.consumer.decoding`, which alone decides rejections and their details. It is
about 10x cheaper than ``schemaless_reader`` with reader resolution.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Callable

from ingest.contract.model import COUNT_FIELDS
from ingest.contract.schemas import SINGLE_OBJECT_MAGIC, SchemaVersion

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


def compile_reader(writer: SchemaVersion, k: int, supplier: str) -> FastReader:
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
