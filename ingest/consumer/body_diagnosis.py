"""Which field of an Avro body could not be read, and why (pure, no I/O).

Used only after the decoder failed to read a well-framed body (so its cost does not matter):
the writer's fields are read one after the other from the same bytes, each on its own, and
the first one that fails is named. Suppliers then get ``field practice_code: ...`` rather
than a bare library error.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import Any

from fastavro import parse_schema, schemaless_reader
from fastavro.schema import SchemaParseException, UnknownType


@dataclass(frozen=True, slots=True)
class FieldFailure:
    """The first field of a record body that cannot be read."""

    field: str
    cause: str  # e.g. "the body ends inside it", "a string that is not UTF-8 (...)"
    offset: int  # where the field starts in the value

    def __str__(self) -> str:
        return f"field {self.field} (from byte {self.offset}): {self.cause}"


def failing_field(value: bytes, start: int, writer: dict[str, Any]) -> FieldFailure | None:
    """The first field of ``writer`` (a record schema) that cannot be read from ``value``
    after ``start``; None when each field reads (or the schema cannot be split by field)."""
    fields = writer.get("fields")
    if not isinstance(fields, list):
        return None
    stream = io.BytesIO(value)
    stream.seek(start)
    for field in fields:
        name = str(field.get("name", "?"))
        single = {
            "type": "record",
            "name": "OneField",
            "fields": [{"name": name, "type": field.get("type")}],
        }
        try:
            parsed = parse_schema(single)
        except (SchemaParseException, UnknownType, ValueError, TypeError, KeyError):
            return None  # e.g. a type named in an earlier field: no field-by-field reading
        offset = stream.tell()
        try:
            schemaless_reader(stream, parsed, None)
        except (EOFError, StopIteration):
            return FieldFailure(name, "the body ends inside it", offset)
        except UnicodeDecodeError as exc:
            return FieldFailure(name, f"a string that is not UTF-8 ({exc.reason})", offset)
        except Exception as exc:  # fastavro raises many kinds for bad bytes; none escapes
            return FieldFailure(name, f"{type(exc).__name__}: {exc}"[:300], offset)
    return None
