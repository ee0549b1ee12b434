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
    OutcomeEncoder,
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


def test_outbox_rows_are_written_only_for_outcomes_no_other_row_records() -> None:
    """Accepted records are read back from their revision rows and rejected ones from their
    rejection rows; only duplicates (no row at all) and superseded records (whose revision row
    reads like an accepted one) get an outbox row, with what their outcome says."""
    day = TODAY - dt.timedelta(days=1)
    first, again = event("askmygp", "A81001", day), event("askmygp", "A81002", day)
    late = event("askmygp", "A81003", day, revision=1)
    records = [
        RawRecord("triage.daily.askmygp", 0, offset, key_of(e), encoded(e))
        for offset, e in enumerate([first, again, late])
    ]
    triaged = triage(records, Decoder(), {"askmygp"}, Limits(today=TODAY))
    outcomes = [Outcome.ACCEPTED, Outcome.DUPLICATE, Outcome.SUPERSEDED]
    rows = outcome_rows(triaged, triaged.valid, outcomes)
    as_dicts = [dict(zip(OUTCOME_COLUMNS, row, strict=True)) for row in rows]
    summary = [
        (d["source_offset"], d["outcome"], d["practice_code"], d["event_id"], d["key"])
        for d in as_dicts
    ]
    assert summary == [
        (1, "duplicate", "A81002", again["event_id"], key_of(again)),
        (2, "superseded", "A81003", late["event_id"], key_of(late)),
    ]


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


def _fields(outcome: SubmissionOutcome) -> tuple[object, ...]:
    return (
        outcome.source_partition,
        outcome.source_offset,
        outcome.event_id,
        outcome.practice_code,
        outcome.activity_date,
        outcome.revision,
        outcome.outcome.value,
        None if outcome.reason is None else outcome.reason.value,
        outcome.detail,
        outcome.processed_at,
    )


@given(st.lists(_outcomes, min_size=1, max_size=20))
@settings(max_examples=150, deadline=None)
def test_the_stream_encoder_writes_what_the_direct_encoder_writes(
    outcomes: list[SubmissionOutcome],
) -> None:
    """One encoder through a stream (what it keeps encoded from one outcome to the next never
    leaks into another's bytes), each outcome also encoded twice in a row."""
    encoder = OutcomeEncoder()
    for outcome in outcomes:
        expected = encode_outcome(outcome)
        assert encoder.encode(*_fields(outcome)) == expected  # type: ignore[arg-type]
        assert encoder.encode(*_fields(outcome)) == expected  # type: ignore[arg-type]


def test_the_stream_encoder_refuses_what_is_not_an_outcome_or_reason_code() -> None:
    encoder = OutcomeEncoder()
    stored = dt.datetime(2026, 12, 1, tzinfo=dt.UTC)
    with pytest.raises(ValueError, match="not an outcome or reason code"):
        encoder.encode(0, 1, None, None, None, None, "approved", None, None, stored)
    with pytest.raises(ValueError, match="not an outcome or reason code"):
        encoder.encode(0, 1, None, None, None, None, "rejected", "too_big", None, stored)
