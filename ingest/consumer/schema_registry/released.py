"""Which registry schemas the service accepts (pure, no I/O).

A schema fetched from a schema registry is accepted when its Parsing Canonical Form equals a
released version's once its record is named like the released schema
(``uk.nhs.triage.DailyPracticeRequests``): so whatever subject it was registered under and
whatever the supplier named the record, the bytes are read with that released version.
Anything else (another record, a field added, removed, retyped or reordered, not Avro) is
``unknown_schema``, with a detail naming the difference from the closest released version.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from fastavro.schema import SchemaParseException, UnknownType, to_parsing_canonical_form

from ingest.contract.schemas import SCHEMA_NAME, SchemaVersion, released_versions

MAX_DIFFERENCES_SHOWN = 5


@dataclass(frozen=True, slots=True)
class RegistrySchema:
    """What the service makes of one registry schema id."""

    schema_id: int
    version: SchemaVersion | None  # the released version it is; None: not accepted
    detail: str  # why it is not accepted (empty when it is)

    @property
    def accepted(self) -> bool:
        return self.version is not None


def unknown_id(schema_id: int) -> RegistrySchema:
    """An id the registry does not know (404)."""
    return RegistrySchema(schema_id, None, f"schema id {schema_id} is unknown to the registry")


def match_released(schema_id: int, schema_text: str, schema_type: str = "AVRO") -> RegistrySchema:
    """The released version a registry schema is, or why it is none."""

    def refused(why: str) -> RegistrySchema:
        return RegistrySchema(
            schema_id, None, f"registry schema id {schema_id} is not a released version: {why}"
        )

    if schema_type.upper() != "AVRO":
        return refused(f"it is a {schema_type} schema, not Avro")
    try:
        source = json.loads(schema_text)
    except ValueError as exc:
        return refused(f"its text is not JSON ({exc})")
    if not isinstance(source, dict) or source.get("type") != "record":
        return refused("it is not an Avro record")
    renamed = {**source, "name": SCHEMA_NAME}
    renamed.pop("namespace", None)
    try:
        canonical = to_parsing_canonical_form(renamed)
    except (SchemaParseException, UnknownType, ValueError, TypeError, KeyError) as exc:
        return refused(f"it is not a valid Avro schema ({exc})")
    for released in released_versions():
        if released.canonical_form == canonical:
            return RegistrySchema(schema_id, released, "")
    return refused(difference(renamed))


def difference(source: dict[str, Any]) -> str:
    """How a record schema differs from the closest released version (by fields)."""
    theirs = _fields(source)
    best: tuple[int, SchemaVersion, list[str]] | None = None
    for released in released_versions():
        ours = _fields(released.source)
        problems = [
            f"field {name} is not in v{released.version}" for name in theirs if name not in ours
        ]
        problems += [
            f"field {name} of v{released.version} is missing" for name in ours if name not in theirs
        ]
        problems += [
            f"field {name} has type {theirs[name]}, v{released.version} has {ours[name]}"
            for name in theirs
            if name in ours and theirs[name] != ours[name]
        ]
        if not problems and list(theirs) != list(ours):
            problems.append(f"its fields are in another order than v{released.version}'s")
        if best is None or len(problems) < best[0]:
            best = (len(problems), released, problems)
    if best is None:  # no released version at all: cannot happen in a built package
        return "no released version to compare with"
    _, released, problems = best
    if not problems:
        return f"it differs from v{released.version} only outside its fields"
    shown = "; ".join(problems[:MAX_DIFFERENCES_SHOWN])
    more = len(problems) - MAX_DIFFERENCES_SHOWN
    return f"closest is v{released.version}: {shown}" + (f" (and {more} more)" if more > 0 else "")


def _fields(source: dict[str, Any]) -> dict[str, str]:
    """Field name -> the canonical form of its type, in the record's order."""
    fields = source.get("fields")
    if not isinstance(fields, list):
        return {}
    out: dict[str, str] = {}
    for field in fields:
        if isinstance(field, dict) and "name" in field:
            out[str(field["name"])] = _canonical_type(field.get("type"))
    return out


def _canonical_type(avro_type: object) -> str:
    wrapper = {"type": "record", "name": "T", "fields": [{"name": "f", "type": avro_type}]}
    try:
        canonical = json.loads(to_parsing_canonical_form(wrapper))
        return json.dumps(canonical["fields"][0]["type"], separators=(",", ":"))
    except (SchemaParseException, UnknownType, ValueError, TypeError, KeyError):
        return json.dumps(avro_type, separators=(",", ":"))
