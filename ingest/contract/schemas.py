"""The released Avro schema versions under ``schemas/`` and their fingerprints (pure).

Every released version is a possible *writer* schema; the newest is the *reader* schema that
every event is resolved into, so the rest of the service sees one current shape.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from fastavro.schema import fingerprint, parse_schema, to_parsing_canonical_form

SCHEMA_NAME = "uk.nhs.triage.DailyPracticeRequests"
SINGLE_OBJECT_MAGIC = b"\xc3\x01"
CONFLUENT_MAGIC = b"\x00"
_VERSION_FILE_RE = re.compile(r"^daily_practice_requests\.v(\d+)\.avsc$")


def schemas_dir() -> Path:
    """Where the released ``.avsc`` files live (repository root or installed data)."""
    here = Path(__file__).resolve().parent
    for candidate in (here / "released", here.parent.parent / "schemas"):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError("the schemas/ folder with the released Avro schemas is missing")


@dataclass(frozen=True)
class SchemaVersion:
    """One released schema version."""

    version: int
    source: dict[str, Any]
    parsed: dict[str, Any]
    canonical_form: str
    fingerprint: bytes  # 8 bytes, little-endian CRC-64-AVRO, as in single-object encoding

    @property
    def field_names(self) -> tuple[str, ...]:
        return tuple(f["name"] for f in self.source["fields"])


def _parsed_record(source: dict[str, Any]) -> dict[str, Any]:
    parsed = parse_schema(source, _write_hint=False)
    if not isinstance(parsed, dict):
        raise TypeError("a released schema must be an Avro record")
    return parsed


def crc64_avro_fingerprint(canonical_form: str) -> bytes:
    """The 8-byte little-endian CRC-64-AVRO fingerprint used by single-object encoding."""
    return bytes.fromhex(fingerprint(canonical_form, "CRC-64-AVRO"))


def schema_version(source: dict[str, Any], version: int) -> SchemaVersion:
    """Build a SchemaVersion from a schema's JSON."""
    canonical = to_parsing_canonical_form(source)
    return SchemaVersion(
        version=version,
        source=source,
        parsed=_parsed_record(source),
        canonical_form=canonical,
        fingerprint=crc64_avro_fingerprint(canonical),
    )


@cache
def released_versions(directory: Path | None = None) -> tuple[SchemaVersion, ...]:
    """Every released schema version, oldest first."""
    folder = directory or schemas_dir()
    found = []
    for path in folder.iterdir():
        match = _VERSION_FILE_RE.match(path.name)
        if match:
            found.append(schema_version(json.loads(path.read_text()), int(match.group(1))))
    if not found:
        raise FileNotFoundError(f"no released schema in {folder}")
    return tuple(sorted(found, key=lambda s: s.version))


def reader_schema() -> SchemaVersion:
    """The current shape every event is read into: the newest released version."""
    return released_versions()[-1]


def by_fingerprint() -> dict[bytes, SchemaVersion]:
    """Released versions keyed by their single-object fingerprint."""
    return {s.fingerprint: s for s in released_versions()}


def version(number: int) -> SchemaVersion:
    """A released version by number; KeyError when it was never released."""
    for candidate in released_versions():
        if candidate.version == number:
            return candidate
    raise KeyError(f"schema v{number} is not released")
