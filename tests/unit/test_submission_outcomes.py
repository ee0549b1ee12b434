"""SubmissionOutcome records (contract v1.1 section 6) and the outbox rows of a batch."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ingest.consumer.decoding import Decoder
from ingest.consumer.outbox import OUTCOME_COLUMNS, outcome_rows
from ingest.consumer.pipeline import triage
from ingest.consumer.types import RawRecord
from ingest.contract.model import Outcome, Reason
from ingest.contract.outcomes import (
    SubmissionOutcome,
    decode_outcome,
    encode_outcome,
    encode_outcome_generic,
    feedback_topic,
    outcome_schema,
)
from ingest.contract.validation import Limits
from ingest.errors import DecodeError
from tests.support.events import TODAY, encoded, event, key_of

AT = dt.datetime(2026, 11, 25, 9, 30, 1, 123000, tzinfo=dt.UTC)


def test_the_feedback_topic_of_a_supplier() -> None:
    assert feedback_topic("askmygp") == "triage.feedback.askmygp"


def test_the_released_schema_has_the_contract_fields() -> None:
    names = [f["name"] for f in outcome_schema().source["fields"]]
    assert names == [
        "source_partition",
        "source_offset",
        "event_id",
        "practice_code",
        "activity_date",
        "revision",
        "outcome",
        "reason",
        "detail",
        "processed_at",
    ]
    assert outcome_schema().source["name"] == "SubmissionOutcome"


def test_an_outcome_survives_encoding() -> None:
    outcome = SubmissionOutcome(
        2, 41, None, "A81001", dt.date(2026, 11, 24), 3, Outcome.REJECTED,
        Reason.NEGATIVE_COUNT, "total_requests -4 is negative", AT,
    )  # fmt: skip
    value = encode_outcome(outcome)
    assert value[:2] == b"\xc3\x01" and value[2:10] == outcome_schema().fingerprint
    assert decode_outcome(value) == outcome


def test_the_detail_is_cut_to_4000_characters() -> None:
    outcome = SubmissionOutcome(
        0, 0, None, None, None, None, Outcome.REJECTED, Reason.UNDECODABLE, "x" * 5000, AT
    )
    detail = decode_outcome(encode_outcome(outcome)).detail
    assert detail is not None and len(detail) == 4000


def test_a_daily_event_is_not_an_outcome() -> None:
    with pytest.raises(DecodeError):
        decode_outcome(encoded(event()))


def test_outbox_rows_cover_valid_and_rejected_records_of_registered_suppliers() -> None:
    day = TODAY - dt.timedelta(days=1)
    good = event("askmygp", "A81001", day)
    bad = event("askmygp", "A81001", day, total=-1)
    records = [
        RawRecord("triage.daily.askmygp", 0, 0, key_of(good), encoded(good)),
        RawRecord("triage.daily.askmygp", 0, 1, key_of(bad), encoded(bad)),
        RawRecord("triage.daily.askmygp", 0, 2, b"k", b"\x42 not avro"),
        RawRecord("triage.daily.nobody", 0, 0, None, encoded(event("nobody"))),
    ]
    triaged = triage(records, Decoder(), {"askmygp"}, Limits(today=TODAY))
    rows = outcome_rows(triaged, triaged.valid, [Outcome.ACCEPTED], triaged.rejections)
    as_dicts = [dict(zip(OUTCOME_COLUMNS, row, strict=True)) for row in rows]
    summary = [
        (d["source_topic"], d["source_offset"], d["outcome"], d["reason"], d["practice_code"])
        for d in as_dicts
    ]
    assert summary == [
        ("triage.daily.askmygp", 0, "accepted", None, "A81001"),
        ("triage.daily.askmygp", 1, "rejected", "negative_count", "A81001"),
        ("triage.daily.askmygp", 2, "rejected", "undecodable", None),
    ]  # the unregistered supplier's record has no feedback topic: no outcome
    assert as_dicts[0]["event_id"] == good["event_id"]
    assert as_dicts[1]["event_id"] == bad["event_id"]


_texts = st.one_of(st.none(), st.text(max_size=120))
_outcomes = st.builds(
    SubmissionOutcome,
    source_partition=st.integers(0, 2**31 - 1),
    source_offset=st.integers(0, 2**63 - 1),
    event_id=_texts,
    practice_code=_texts,
    activity_date=st.one_of(st.none(), st.dates(dt.date(1900, 1, 1), dt.date(2200, 12, 31))),
    revision=st.one_of(st.none(), st.integers(-(2**31), 2**31 - 1)),
    outcome=st.sampled_from(Outcome),
    reason=st.one_of(st.none(), st.sampled_from(Reason)),
    detail=st.one_of(st.none(), st.text(max_size=4100)),
    processed_at=st.datetimes(
        dt.datetime(1971, 1, 1), dt.datetime(2200, 1, 1), timezones=st.just(dt.UTC)
    ),
)


@given(_outcomes)
@settings(max_examples=300, deadline=None)
def test_the_direct_encoder_writes_what_fastavro_writes(outcome: SubmissionOutcome) -> None:
    assert encode_outcome(outcome) == encode_outcome_generic(outcome)
