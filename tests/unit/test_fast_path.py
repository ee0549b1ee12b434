"""The fast path gives exactly what the general path gives.

``triage`` reads values through the decoder's fast path (one regular expression per value)
and falls back to ``check_record`` (fastavro with reader resolution, then every rule) for
anything else. These properties compare the two on random events of every released writer
version, on values near each rule's edge, and on mutated bytes.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ingest.consumer.decoding import Decoder
from ingest.consumer.fast_reader import fast_count_fields, varint
from ingest.consumer.pipeline import check_record, triage
from ingest.consumer.types import RawRecord
from ingest.contract.encoding import encode_single_object
from ingest.contract.model import BAND_FIELDS, Rejection
from ingest.contract.schemas import released_versions, version
from ingest.contract.validation import Limits
from tests.bench.data import encode_value, zigzag_varint
from tests.support.events import TODAY

LIMITS = Limits(today=TODAY, horizon_days=400, plausibility_cap=100_000)
REGISTERED = {"askmygp", "klinik"}
TOPIC = "triage.daily.askmygp"
decoder = Decoder()

counts = st.one_of(
    st.none(),
    st.integers(min_value=0, max_value=400),
    st.integers(min_value=-3, max_value=100_003),
    st.integers(min_value=-(2**31), max_value=2**31 - 1),
)
days = st.one_of(
    st.integers(min_value=-403, max_value=3).map(lambda d: TODAY + dt.timedelta(days=d)),
    st.dates(min_value=dt.date(1900, 1, 1), max_value=dt.date(2200, 1, 1)),
)
event_ids = st.one_of(
    st.uuids().map(str),
    st.uuids().map(lambda u: str(u).upper()),
    st.uuids().map(lambda u: u.hex),
    st.uuids().map(lambda u: "{" + str(u) + "}"),
    st.text(max_size=40),
)
practice_codes = st.one_of(
    st.from_regex(r"\A[A-Z][0-9]{5}\Z"),
    st.sampled_from(["a81001", "A8100", "A810011", "A81001\n", "AB1234", "", "Z99999"]),
    st.text(max_size=8),
)


@st.composite
def events(draw: st.DrawFn) -> dict[str, Any]:
    total = draw(st.one_of(st.integers(0, 400), st.integers(-(2**31), 2**31 - 1)))
    parts = draw(st.booleans())
    clinical = draw(counts)
    admin = draw(counts)
    other = draw(counts)
    if parts and total >= 0:
        clinical = draw(st.integers(0, total))
        admin = total - clinical
        other = 0
    band_kind = draw(st.sampled_from(["none", "summing", "any"]))
    if band_kind == "none":
        bands: list[int | None] = [None] * len(BAND_FIELDS)
    elif band_kind == "summing" and total >= 0:
        cuts = sorted(draw(st.lists(st.integers(0, total), min_size=8, max_size=8)))
        bands = [b - a for a, b in zip([0, *cuts], [*cuts, total], strict=True)]
    else:
        bands = [draw(counts) for _ in BAND_FIELDS]
    return {
        "event_id": draw(event_ids),
        "supplier_id": draw(st.sampled_from(["askmygp", "askmygp", "klinik", "nobody"])),
        "practice_code": draw(practice_codes),
        "activity_date": draw(days),
        "revision": draw(st.one_of(st.integers(1, 5), st.integers(-(2**31), 2**31 - 1))),
        "generated_at": draw(
            st.datetimes(
                min_value=dt.datetime(1971, 1, 1),
                max_value=dt.datetime(2100, 1, 1),
                timezones=st.just(dt.UTC),
            ).map(lambda t: t.replace(microsecond=t.microsecond // 1000 * 1000))
        ),
        "total_requests": total,
        "clinical_requests": clinical,
        "admin_requests": admin,
        "other_requests": other,
        "patient_submitted_requests": draw(counts),
        "staff_submitted_requests": draw(counts),
        **dict(zip(BAND_FIELDS, bands, strict=True)),
    }


def _encode(payload: dict[str, Any], schema_version: int) -> bytes:
    schema = version(schema_version)
    fields = set(schema.field_names)
    return encode_single_object({k: v for k, v in payload.items() if k in fields}, schema)


def _same(value: bytes | None, topic: str = TOPIC) -> None:
    record = RawRecord(topic, 3, 17, b"k", value)
    general = check_record(record, decoder, REGISTERED, LIMITS)
    fast = triage([record], decoder, REGISTERED, LIMITS)
    if isinstance(general, Rejection):
        assert fast.rejections == [general] and fast.valid == []
    else:
        assert fast.valid == [general] and fast.rejections == []
        assert fast.raw == {general.source: (b"k", value)}


def test_every_released_version_takes_the_fast_path() -> None:
    reader = released_versions()[-1]
    assert [fast_count_fields(v, reader) for v in released_versions()] == [4, 6, 15]


@pytest.mark.slow
@settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(events(), st.sampled_from([1, 2, 3]))
def test_fast_and_general_paths_agree_on_any_event(payload: dict[str, Any], v: int) -> None:
    try:
        value = _encode(payload, v)
    except (ValueError, OverflowError):
        return  # not encodable (e.g. an event_id fastavro refuses to write)
    _same(value)


@pytest.mark.slow
@settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(events(), st.sampled_from([1, 2, 3]), st.data())
def test_fast_and_general_paths_agree_on_mutated_bytes(
    payload: dict[str, Any], v: int, data: st.DataObject
) -> None:
    payload["event_id"] = str(uuid.uuid4())
    try:
        value = bytearray(_encode(payload, v))
    except (ValueError, OverflowError):
        return
    kind = data.draw(st.sampled_from(["flip", "cut", "extend", "byte"]))
    if kind == "flip":
        i = data.draw(st.integers(0, len(value) - 1))
        value[i] ^= 1 << data.draw(st.integers(0, 7))
    elif kind == "cut":
        del value[data.draw(st.integers(0, len(value) - 1)) :]
    elif kind == "extend":
        value += data.draw(st.binary(min_size=1, max_size=3))
    else:
        value[data.draw(st.integers(10, len(value) - 1))] = data.draw(st.integers(0, 255))
    _same(bytes(value))


def test_edges_of_each_rule_agree() -> None:
    base: dict[str, Any] = {
        "event_id": str(uuid.uuid4()),
        "supplier_id": "askmygp",
        "practice_code": "A81001",
        "activity_date": TODAY,
        "revision": 1,
        "generated_at": dt.datetime(2026, 11, 25, 6, tzinfo=dt.UTC),
        "total_requests": 10,
        "clinical_requests": None,
        "admin_requests": None,
        "other_requests": None,
        "patient_submitted_requests": None,
        "staff_submitted_requests": None,
        **dict.fromkeys(BAND_FIELDS),
    }
    changes: list[dict[str, Any]] = [
        {},
        {"activity_date": TODAY + dt.timedelta(days=1)},
        {"activity_date": LIMITS.oldest},
        {"activity_date": LIMITS.oldest - dt.timedelta(days=1)},
        {"revision": 0},
        {"total_requests": 100_000},
        {"total_requests": 100_001},
        {"total_requests": -1},
        {"clinical_requests": 4, "admin_requests": 3, "other_requests": 3},
        {"clinical_requests": 4, "admin_requests": 3, "other_requests": 2},
        {"clinical_requests": 10, "admin_requests": 0, "other_requests": 0},
        {"patient_submitted_requests": 100_001},
        {"staff_submitted_requests": -5},
        {"supplier_id": "klinik"},
        dict(zip(BAND_FIELDS, (1, 1, 2, 1, 1, 1, 1, 1, 1), strict=True)),
        dict(zip(BAND_FIELDS, (1, 1, 2, 1, 1, 1, 1, 1, 2), strict=True)),
        dict(zip(BAND_FIELDS, (0, 0, 0, 0, 0, 0, 0, 0, 10), strict=True)),
        dict(zip(BAND_FIELDS, (11, 0, 0, 0, 0, 0, 0, 0, -1), strict=True)),
        {"requests_08_10": 10},
        {
            **dict(zip(BAND_FIELDS, (10, 0, 0, 0, 0, 0, 0, 0, 0), strict=True)),
            "requests_18_24": None,
        },
        {"generated_at": dt.datetime(1969, 12, 31, 23, 59, 59, 999000, tzinfo=dt.UTC)},
    ]
    read = decoder.fast_reader("askmygp")
    assert read is not None
    for v in (1, 2, 3):
        fields = read(_encode(base, v))
        assert fields is not None and fields[0] == base["event_id"] and fields[3] == 1
    for change in changes:
        for v in (1, 2, 3):
            _same(_encode({**base, **change}, v))
    for topic in ("triage.daily.nobody", "triage.daily.X", "other.topic"):
        _same(_encode(base, 1), topic)
    for value in (None, b"", b"\xc3", b"\x7fjunk", b"\xc3\x01" + bytes(8)):
        _same(value)


def test_overlong_varints_read_as_fastavro_reads_them() -> None:
    header = b"\xc3\x01" + version(1).fingerprint
    event_id = str(uuid.uuid4()).encode()
    day = (TODAY - dt.date(1970, 1, 1)).days
    fixed = header + b"\x48" + event_id + b"\x0easkmygp" + b"\x0cA81001"
    day_bytes = zigzag_varint(day)
    tail = b"\xd0\x0f" + b"\x14" + b"\x00\x00\x00"  # generated_at, total 10, 3 nulls
    # revision 1 as 0x02, and as the legal but wasteful 3-byte 0x82 0x80 0x00
    read = decoder.fast_reader("askmygp")
    assert read is not None
    for revision in (b"\x02", b"\x82\x80\x00", b"\x82\x80\x80\x80\x80\x80\x80\x80\x00"):
        fields = read(fixed + day_bytes + revision + tail)
        assert fields is not None and fields[3] == 1
        _same(fixed + day_bytes + revision + tail)
    # a 10-byte varint is beyond the fast path (fastavro wraps at 64 bits): general path
    _same(fixed + day_bytes + b"\x82" + b"\x80" * 8 + b"\x00" + tail)
    assert varint(b"\x82\x80\x00") == 1


def test_the_hand_encoder_of_the_benchmark_writes_what_fastavro_writes() -> None:
    no_bands = (None,) * len(BAND_FIELDS)
    figures_v1 = (12, 5, 4, 3, None, None, *no_bands)
    figures_v2 = (12, 5, 4, 3, 7, 5, *no_bands)
    figures_v3 = (12, 5, 4, 3, 7, 5, 0, 1, 4, 2, 1, 1, 2, 1, 0)
    generated = dt.datetime(2026, 11, 24, 9, 30, 1, 123000, tzinfo=dt.UTC)
    ms = int((generated - dt.datetime(1970, 1, 1, tzinfo=dt.UTC)).total_seconds() * 1000)
    versions = ((1, figures_v1), (2, figures_v2), (3, figures_v2), (3, figures_v3))
    for v, figures in versions:
        event_id = "0b2c4e6a-0000-4000-8000-00000000002a"
        payload: dict[str, Any] = {
            "event_id": event_id,
            "supplier_id": "askmygp",
            "practice_code": "A81001",
            "activity_date": dt.date(2026, 11, 24),
            "revision": 2,
            "generated_at": generated,
            "total_requests": 12,
            "clinical_requests": 5,
            "admin_requests": 4,
            "other_requests": 3,
            "patient_submitted_requests": figures[4],
            "staff_submitted_requests": figures[5],
            **dict(zip(BAND_FIELDS, figures[6:], strict=True)),
        }
        mine = encode_value(v, event_id, "askmygp", "A81001", dt.date(2026, 11, 24), 2, ms, figures)
        assert mine == _encode(payload, v)
