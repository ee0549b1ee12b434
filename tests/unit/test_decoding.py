"""Decoding: both encodings, every released writer version, and clear failures."""

from __future__ import annotations

import io
import json

import pytest
from fastavro import schemaless_writer
from hypothesis import given, settings
from hypothesis import strategies as st

from ingest.consumer.decoding import Decoder
from ingest.consumer.schema_registry.released import match_released
from ingest.contract.encoding import encode_confluent
from ingest.contract.model import Reason
from ingest.contract.schemas import released_versions, schema_version, version
from ingest.errors import DecodeError
from tests.support.events import encoded, event

decoder = Decoder()


def test_v1_event_is_read_into_the_current_shape_with_new_fields_null() -> None:
    payload = event(total=12, clinical=5, admin=4, other=3)
    decoded = decoder.decode(encoded(payload, 1))
    assert decoded["total_requests"] == 12
    assert decoded["clinical_requests"] == 5
    assert decoded["patient_submitted_requests"] is None
    assert decoded["staff_submitted_requests"] is None
    assert decoded["activity_date"] == payload["activity_date"]


def test_v2_event_keeps_its_new_fields() -> None:
    decoded = decoder.decode(encoded(event(total=9, patient=6, staff=3), 2))
    assert (decoded["patient_submitted_requests"], decoded["staff_submitted_requests"]) == (6, 3)


def test_every_released_version_has_a_distinct_fingerprint() -> None:
    fingerprints = [s.fingerprint for s in released_versions()]
    assert len(set(fingerprints)) == len(fingerprints) >= 2


def test_v1_fingerprint_matches_the_contract_schema() -> None:
    # CRC-64-AVRO of the Parsing Canonical Form of schema v1, as suppliers compute it.
    assert version(1).fingerprint.hex() == "b441d4a34b7e462b"


def test_confluent_wire_format_uses_the_registry_schema() -> None:
    v1 = version(1)
    payload = {k: v for k, v in event(total=3).items() if k in v1.field_names}
    value = encode_confluent(payload, v1, schema_id=42)
    decoded = decoder.decode(value, {42: match_released(42, json.dumps(v1.source))})
    assert decoded["total_requests"] == 3


def test_confluent_id_unknown_to_the_registry_is_unknown_schema() -> None:
    value = encode_confluent(
        {k: v for k, v in event().items() if k in version(1).field_names}, version(1), 7
    )
    with pytest.raises(DecodeError) as err:
        decoder.decode(value, {})
    assert err.value.reason == Reason.UNKNOWN_SCHEMA
    assert "schema id 7" in err.value.detail


def test_unknown_fingerprint_is_unknown_schema_and_names_it() -> None:
    value = b"\xc3\x01" + bytes(range(8)) + b"\x00"
    with pytest.raises(DecodeError) as err:
        decoder.decode(value)
    assert err.value.reason == Reason.UNKNOWN_SCHEMA
    assert "0001020304050607" in err.value.detail


@pytest.mark.parametrize(
    ("value", "words"),
    [
        (None, "empty"),
        (b"", "empty"),
        (b"\x7f\x01garbage", "unknown encoding: first byte 0x7f"),
        (b"\xc3\x01\x00", "header truncated"),
        (b"\x00\x00", "Confluent header truncated"),
    ],
)
def test_malformed_values_are_undecodable_with_a_specific_detail(
    value: bytes | None, words: str
) -> None:
    with pytest.raises(DecodeError) as err:
        decoder.decode(value)
    assert err.value.reason == Reason.UNDECODABLE
    assert words in err.value.detail


def test_truncated_body_is_undecodable_naming_the_field_it_ends_in() -> None:
    value = encoded(event(total=5), 1)
    with pytest.raises(DecodeError) as err:
        decoder.decode(value[:-3])
    assert err.value.reason == Reason.UNDECODABLE
    assert "in field " in err.value.detail
    assert "the body ends inside it" in err.value.detail


def test_a_string_that_is_not_utf8_is_undecodable_naming_the_field() -> None:
    value = bytearray(encoded(event(practice_code="A81001"), 1))
    index = value.index(b"A81001")
    value[index] = 0xFF
    with pytest.raises(DecodeError) as err:
        decoder.decode(bytes(value))
    assert err.value.reason == Reason.UNDECODABLE
    assert "in field practice_code" in err.value.detail


def test_trailing_bytes_after_the_body_are_undecodable() -> None:
    with pytest.raises(DecodeError) as err:
        decoder.decode(encoded(event()) + b"\x00\x00")
    assert "2 unexpected trailing bytes" in err.value.detail


def test_event_id_that_is_not_a_uuid_decodes_for_validation_to_reject() -> None:
    # CONTRACT section 6: invalid_event_id (a validation reason), not undecodable
    assert decoder.decode(encoded(event(event_id="not-a-uuid")))["event_id"] == "not-a-uuid"


def test_registry_schema_event_id_that_is_not_a_uuid_decodes_too() -> None:
    v1 = version(1)
    payload = {k: v for k, v in event(event_id="nope").items() if k in v1.field_names}
    value = encode_confluent(payload, v1, schema_id=42)
    registry = {42: match_released(42, json.dumps(v1.source))}
    assert decoder.decode(value, registry)["event_id"] == "nope"


def test_a_registry_schema_that_is_no_released_version_is_unknown_schema_naming_it() -> None:
    other = {"type": "record", "name": "Other", "fields": [{"name": "x", "type": "int"}]}
    buf = io.BytesIO()
    schemaless_writer(buf, schema_version(other, 99).parsed, {"x": 1})
    value = b"\x00" + (5).to_bytes(4, "big") + buf.getvalue()
    with pytest.raises(DecodeError) as err:
        decoder.decode(value, {5: match_released(5, json.dumps(other))})
    assert err.value.reason == Reason.UNKNOWN_SCHEMA
    assert "registry schema id 5 is not a released version" in err.value.detail
    assert "field x is not in v" in err.value.detail


@settings(max_examples=500, deadline=None)
@given(st.binary(max_size=200))
def test_random_bytes_never_escape_as_anything_but_decode_error(value: bytes) -> None:
    try:
        decoder.decode(value)
    except DecodeError as err:
        assert err.reason in (Reason.UNDECODABLE, Reason.UNKNOWN_SCHEMA)


@settings(max_examples=300, deadline=None)
@given(st.integers(min_value=0), st.integers(min_value=0, max_value=7))
def test_bit_flipped_bodies_decode_or_fail_cleanly(position: int, bit: int) -> None:
    value = bytearray(encoded(event(total=5)))
    index = 10 + position % (len(value) - 10)
    value[index] ^= 1 << bit
    try:
        decoded = decoder.decode(bytes(value))
    except DecodeError as err:
        assert err.reason == Reason.UNDECODABLE
    else:
        assert set(decoded) >= {"event_id", "total_requests"}


def test_released_schemas_are_valid_json_files() -> None:
    for s in released_versions():
        assert json.loads(json.dumps(s.source))["name"] == "DailyPracticeRequests"
        assert any(f["name"] == "activity_date" for f in s.source["fields"])
