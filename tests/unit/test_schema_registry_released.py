"""Registry schemas: a released version is accepted whatever its name; anything else is
unknown_schema with the difference named."""

from __future__ import annotations

import json
from typing import Any

import pytest

from ingest.consumer.schema_registry.released import match_released
from ingest.contract.schemas import SchemaVersion, released_versions, version

pytestmark = pytest.mark.unit


def _text(source: dict[str, Any]) -> str:
    return json.dumps(source)


@pytest.mark.parametrize("released", released_versions(), ids=lambda s: f"v{s.version}")
def test_a_released_version_is_accepted_as_itself(released: SchemaVersion) -> None:
    found = match_released(7, _text(released.source))
    assert found.accepted and found.version == released and found.detail == ""


@pytest.mark.parametrize("released", released_versions(), ids=lambda s: f"v{s.version}")
def test_a_released_version_under_another_record_name_is_accepted(
    released: SchemaVersion,
) -> None:
    renamed = {**released.source, "name": "TriageCounts", "namespace": "com.example.supplier"}
    assert match_released(8, _text(renamed)).version == released


def test_docs_defaults_and_logical_types_do_not_matter_canonical_form_does() -> None:
    v1 = version(1).source
    fields = [{k: v for k, v in f.items() if k not in ("doc", "default")} for f in v1["fields"]]
    fields[0] = {"name": "event_id", "type": "string"}  # no uuid logical type
    plain = {"type": "record", "name": "DailyPracticeRequests", "fields": fields}
    assert match_released(9, _text(plain)).version == version(1)


def test_an_added_field_is_unknown_naming_it() -> None:
    v1 = version(1).source
    extra = {**v1, "fields": [*v1["fields"], {"name": "site", "type": "string"}]}
    found = match_released(10, _text(extra))
    assert not found.accepted
    assert found.detail.startswith("registry schema id 10 is not a released version: ")
    assert "field site is not in v1" in found.detail


def test_a_retyped_field_is_unknown_naming_both_types() -> None:
    v2 = version(2).source
    fields = [dict(f) for f in v2["fields"]]
    index = next(i for i, f in enumerate(fields) if f["name"] == "total_requests")
    fields[index]["type"] = "long"
    found = match_released(11, _text({**v2, "fields": fields}))
    assert 'field total_requests has type "long", v2 has "int"' in found.detail


def test_reordered_fields_are_unknown() -> None:
    v1 = version(1).source
    fields = list(reversed(v1["fields"]))
    found = match_released(12, _text({**v1, "fields": fields}))
    assert not found.accepted
    assert "another order than v1's" in found.detail


@pytest.mark.parametrize(
    ("text", "kind", "words"),
    [
        ('syntax = "proto3";', "PROTOBUF", "a PROTOBUF schema, not Avro"),
        ("{not json", "AVRO", "not JSON"),
        ('"string"', "AVRO", "not an Avro record"),
        ('{"type": "record", "name": "X", "fields": [{"name": "a", "type": "nope"}]}', "AVRO", ""),
    ],
)
def test_what_is_not_an_avro_record_is_unknown_with_a_reason(
    text: str, kind: str, words: str
) -> None:
    found = match_released(13, text, kind)
    assert not found.accepted
    assert words in found.detail
