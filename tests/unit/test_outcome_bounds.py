"""Outcomes are bounded in size, so none can be refused by a feedback topic for its size
(security review: one supplier's 1 MB record keys stopped every supplier's outcomes)."""

from __future__ import annotations

import datetime as dt

import pytest

from ingest.consumer.decoding import Decoder
from ingest.consumer.outbox import OUTCOME_COLUMNS, outcome_rows
from ingest.consumer.pipeline import triage
from ingest.consumer.types import RawRecord
from ingest.contract.model import Outcome, Reason
from ingest.contract.outcomes import (
    DETAIL_MAX_CHARS,
    OUTCOME_KEY_MAX_BYTES,
    SubmissionOutcome,
    encode_outcome,
    outcome_key,
)
from ingest.contract.validation import Limits
from ingest.kafka import FEEDBACK_MAX_MESSAGE_BYTES, feedback_topic_spec
from ingest.settings import Settings
from tests.support.events import TODAY, encoded, event, key_of

pytestmark = pytest.mark.security

# Kafka's per-record overhead in a batch of one record is under 100 bytes (61-byte batch
# header, varints, attributes); 1 KB leaves room to spare.
RECORD_OVERHEAD = 1024


def test_a_key_longer_than_the_bound_never_reaches_an_outbox_row() -> None:
    """Reproduction: a record whose key is 1 MB (anything the broker takes) is re-sent; before,
    its outbox row and outcome carried the whole key. Now the row has no key; a key within the
    bound is kept as it was. (Revision rows keep the key through the same bound; rejection
    rows keep the raw key whole and the relay reads it through the bound.)"""
    day = TODAY - dt.timedelta(days=1)
    sent = event("askmygp", "A81001", day)
    keys_sent = [key_of(sent), b"k" * (OUTCOME_KEY_MAX_BYTES + 1), b"k" * OUTCOME_KEY_MAX_BYTES]
    records = [
        RawRecord("triage.daily.askmygp", 0, offset, key, encoded(sent))
        for offset, key in enumerate(keys_sent)
    ]
    triaged = triage(records, Decoder(), {"askmygp"}, Limits(today=TODAY))
    rows = outcome_rows(triaged, triaged.valid, [Outcome.DUPLICATE] * 3)
    keys = {row[3]: row[OUTCOME_COLUMNS.index("key")] for row in rows}
    assert keys == {0: key_of(sent), 1: None, 2: b"k" * OUTCOME_KEY_MAX_BYTES}
    assert [outcome_key(k) for k in keys_sent] == list(keys.values())


def test_the_largest_outcome_fits_a_feedback_topic_with_room_to_spare() -> None:
    """The largest outcome there can be (a key at the bound, every text field at its cut,
    each character 4 bytes in UTF-8) is well within the feedback topics' max.message.bytes,
    which every feedback topic is created with whatever the broker's default."""
    widest = "\U0001f600"
    largest = SubmissionOutcome(
        2**31 - 1, 2**63 - 1, widest * 100, widest * 100, dt.date(2200, 12, 31), 2**31 - 1,
        Outcome.REJECTED, Reason.CONFLICTING_REVISION, widest * DETAIL_MAX_CHARS,
        dt.datetime(2200, 1, 1, tzinfo=dt.UTC),
    )  # fmt: skip
    size = OUTCOME_KEY_MAX_BYTES + len(encode_outcome(largest)) + RECORD_OVERHEAD
    assert size * 10 < FEEDBACK_MAX_MESSAGE_BYTES
    spec = feedback_topic_spec(Settings())
    assert spec.configs()["max.message.bytes"] == str(FEEDBACK_MAX_MESSAGE_BYTES)
