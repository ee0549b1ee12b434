"""Schema evolution: every released writer schema stays readable by the current reader schema.

The check writes sample records with each released writer schema (covering every branch of
every union, so a null or a value is tried in each optional field) and reads them back with
the reader schema using fastavro's schema resolution. A change that breaks resolution (a new
field without a default, a type change that is not an Avro promotion, a rename without an
alias...) makes it fail: the synthetic bad "v3" candidates below prove that it does.
"""

from __future__ import annotations

import copy
import datetime as dt
import io
import itertools
import re
import uuid
from typing import Any
from uuid import UUID

import pytest
from fastavro import schemaless_reader, schemaless_writer
from fastavro.schema import SchemaParseException, parse_schema

from ingest.consumer.decoding import Decoder
from ingest.contract.encoding import encode_single_object
from ingest.contract.model import COUNT_FIELDS
from ingest.contract.schemas import SchemaVersion, reader_schema, released_versions, schema_version
from ingest.db.migrate import MIGRATIONS_DIR

pytestmark = pytest.mark.unit

MIGRATIONS = MIGRATIONS_DIR

# A released schema never changes: its fingerprint (CRC-64-AVRO of the Parsing Canonical
# Form, little-endian, as in single-object encoding) is what writers put in every record.
# Releasing v3 adds a line here; no line is ever edited.
RELEASED_FINGERPRINTS = {
    1: "b441d4a34b7e462b",
    2: "5dd0908a4e5784b2",
    3: "23f7128f5e5711e9",
}


# --------------------------------------------------------------------------------------
# the check
# --------------------------------------------------------------------------------------


def _union_width(schema: Any) -> int:
    if isinstance(schema, list):
        return max(len(schema), *(_union_width(s) for s in schema))
    if isinstance(schema, dict):
        if schema.get("type") == "record":
            return max([1, *(_union_width(f["type"]) for f in schema["fields"])])
        if schema.get("type") == "array":
            return _union_width(schema["items"])
        if schema.get("type") == "map":
            return _union_width(schema["values"])
    return 1


def sample_value(schema: Any, branch: int) -> Any:
    """A value of ``schema``; in unions, the ``branch``-th member (or the last one)."""
    if isinstance(schema, list):
        return sample_value(schema[min(branch, len(schema) - 1)], branch)
    if isinstance(schema, dict):
        kind = schema["type"]
        logical = schema.get("logicalType")
        if logical == "uuid":
            return uuid.UUID(int=branch + 1)
        if logical == "date":
            return dt.date(2025, 1, 1) + dt.timedelta(days=branch)
        if logical in ("timestamp-millis", "timestamp-micros"):
            return dt.datetime(2025, 1, 1, 12, 0, branch, tzinfo=dt.UTC)
        if kind == "record":
            return {f["name"]: sample_value(f["type"], branch) for f in schema["fields"]}
        if kind == "enum":
            return schema["symbols"][min(branch, len(schema["symbols"]) - 1)]
        if kind == "array":
            return [sample_value(schema["items"], branch)]
        if kind == "map":
            return {"k": sample_value(schema["values"], branch)}
        if kind == "fixed":
            return b"\x01" * schema["size"]
        return sample_value(kind, branch)
    return {
        "null": None,
        "boolean": bool(branch % 2),
        "int": 7 + branch,
        "long": 70 + branch,
        "float": 1.5,
        "double": 2.5,
        "bytes": b"raw",
        "string": f"text-{branch}",
    }[schema]


def resolution_problems(writer: dict[str, Any], reader: dict[str, Any]) -> list[str]:
    """Why records written with ``writer`` cannot be read with ``reader`` (empty: they can)."""
    parsed_writer = parse_schema(copy.deepcopy(writer), _write_hint=False)
    try:
        parsed_reader = parse_schema(copy.deepcopy(reader), _write_hint=False)
    except SchemaParseException as exc:
        return [f"the reader schema is not valid Avro: {exc}"]
    writer_fields = {f["name"] for f in writer["fields"]}
    problems: list[str] = []
    for branch in range(_union_width(writer)):
        record = sample_value(writer, branch)
        buffer = io.BytesIO()
        schemaless_writer(buffer, parsed_writer, record)
        buffer.seek(0)
        try:
            read = schemaless_reader(buffer, parsed_writer, parsed_reader)
        except Exception as exc:  # fastavro raises several types; each is a failed resolution
            problems.append(f"sample {branch}: {type(exc).__name__}: {exc}")
            continue
        if not isinstance(read, dict):
            problems.append(f"sample {branch}: read a {type(read).__name__}, not a record")
            continue
        for f in reader["fields"]:
            name = f["name"]
            if name in writer_fields and read.get(name) != record[name]:
                problems.append(f"sample {branch}: {name} {record[name]!r} read as {read[name]!r}")
            if name not in writer_fields and read.get(name) != f.get("default"):
                problems.append(f"sample {branch}: {name} is not its default {f.get('default')!r}")
    return problems


def with_field(base: dict[str, Any], field: dict[str, Any]) -> dict[str, Any]:
    changed = copy.deepcopy(base)
    changed["fields"].append(field)
    return changed


def with_type(base: dict[str, Any], name: str, new_type: Any) -> dict[str, Any]:
    changed = copy.deepcopy(base)
    for f in changed["fields"]:
        if f["name"] == name:
            f["type"] = new_type
            f.pop("default", None)
    return changed


# --------------------------------------------------------------------------------------
# the released schemas
# --------------------------------------------------------------------------------------


def test_versions_are_numbered_1_to_n_without_gaps() -> None:
    numbers = [s.version for s in released_versions()]
    assert numbers == list(range(1, len(numbers) + 1))
    assert numbers[:2] == [1, 2]


@pytest.mark.parametrize("writer", released_versions(), ids=lambda s: f"v{s.version}")
def test_every_released_writer_resolves_to_the_current_reader(writer: SchemaVersion) -> None:
    assert resolution_problems(writer.source, reader_schema().source) == []


@pytest.mark.parametrize("writer", released_versions(), ids=lambda s: f"v{s.version}")
def test_every_released_writer_is_decoded_by_the_service(writer: SchemaVersion) -> None:
    """The consumer's decoder finds each writer by fingerprint and fills new fields."""
    record = sample_value(writer.source, 1)
    decoded = Decoder().decode(encode_single_object(record, writer))
    for f in reader_schema().source["fields"]:
        expected = record.get(f["name"], f.get("default"))
        if isinstance(expected, UUID):
            expected = str(expected)  # event_id is read as its text (validation checks it)
        assert decoded[f["name"]] == expected, f["name"]


def test_released_schemas_keep_every_field_of_the_versions_before_them() -> None:
    versions = released_versions()
    for older, newer in itertools.pairwise(versions):
        assert newer.field_names[: len(older.field_names)] == older.field_names
        for f in newer.source["fields"][len(older.field_names) :]:
            assert "default" in f, f"v{newer.version} adds {f['name']} without a default"


def test_released_schemas_never_change() -> None:
    """Writers stamp these fingerprints on every record: editing a released file breaks them."""
    assert sorted(RELEASED_FINGERPRINTS) == [s.version for s in released_versions()]
    for number, expected in RELEASED_FINGERPRINTS.items():
        found = next(s for s in released_versions() if s.version == number)
        assert found.fingerprint.hex() == expected, f"schemas v{number} was edited after release"


def test_every_count_field_of_the_reader_is_known_to_the_service_and_the_database() -> None:
    reader_fields = reader_schema().field_names
    counts = list(reader_fields[reader_fields.index("total_requests") :])
    assert tuple(counts) == COUNT_FIELDS
    sql = "\n".join(p.read_text() for p in sorted(MIGRATIONS.glob("*.sql")))
    for name in counts:
        for table in ("daily_requests", "daily_request_revisions"):
            declared = re.search(rf"{table}\b[^;]*\b{name}\s+integer", sql, re.S)
            assert declared, f"no migration adds {name} to triage.{table}"


# --------------------------------------------------------------------------------------
# the check itself catches breaking candidates
# --------------------------------------------------------------------------------------

CURRENT = reader_schema().source


@pytest.mark.parametrize(
    ("label", "candidate"),
    [
        (
            "new field without a default",
            with_field(CURRENT, {"name": "video_consultations", "type": "int"}),
        ),
        (
            "new nullable field without a default",
            with_field(CURRENT, {"name": "video_consultations", "type": ["null", "int"]}),
        ),
        ("type change int -> string", with_type(CURRENT, "total_requests", "string")),
        ("optional made required", with_type(CURRENT, "clinical_requests", "int")),
        ("narrowing long -> int", with_type(CURRENT, "generated_at", "int")),
        (
            "renamed without an alias",
            {
                **CURRENT,
                "fields": [
                    {**f, "name": "requests_total"} if f["name"] == "total_requests" else f
                    for f in CURRENT["fields"]
                ],
            },
        ),
        ("record renamed", {**CURRENT, "name": "DailyPracticeCounts"}),
    ],
)
def test_a_breaking_v3_candidate_fails_the_check(label: str, candidate: dict[str, Any]) -> None:
    problems = [
        problem
        for writer in released_versions()
        for problem in resolution_problems(writer.source, candidate)
    ]
    assert problems, f"{label}: the check let a breaking change through"


@pytest.mark.parametrize(
    ("label", "candidate"),
    [
        (
            "new optional count with default null",
            with_field(
                CURRENT, {"name": "video_requests", "type": ["null", "int"], "default": None}
            ),
        ),
        (
            "new required-looking field with a default",
            with_field(CURRENT, {"name": "channel", "type": "string", "default": "online"}),
        ),
        ("promotion int -> long", with_type(CURRENT, "total_requests", "long")),
    ],
)
def test_a_compatible_v3_candidate_passes_the_check(label: str, candidate: dict[str, Any]) -> None:
    for writer in released_versions():
        assert resolution_problems(writer.source, candidate) == [], label
    assert schema_version(candidate, 3).fingerprint != reader_schema().fingerprint
