"""The suite's own instruments, checked before they judge the service (no I/O).

* the oracle reproduces CONTRACT section 3's table case by case;
* the generator's intent (the verdict it built each record for) is exactly what the
  service's decoder and validator say, for the mixed traffic and the whole poison corpus;
* the oracle, run over the mixed traffic in generation order, gives every record the outcome
  its story meant (re-sends are duplicates, late restatements superseded, ...);
* the traffic covers every reason code and every story.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter

import pytest

from tests.faults.traffic import Classifier, Traffic, disagreements, verdict_of
from tests.support.oracle import (
    ACCEPTED,
    DUPLICATE,
    REASONS,
    REJECTED,
    SUPERSEDED,
    Invalid,
    Record,
    Valid,
    expected_state,
)

pytestmark = [pytest.mark.faults, pytest.mark.integration]

DAY = dt.date(2026, 3, 2)
AT = dt.datetime(2026, 3, 3, 6, 0, tzinfo=dt.UTC)
TOPIC = "triage.daily.askmygp"


def _valid(revision: int, total: int, event_id: str = "e") -> Valid:
    return Valid(
        "askmygp", "A81001", DAY, revision, (total, None, None, None, None, None), event_id, AT
    )


def _records(*verdicts: Valid | Invalid, topic: str = TOPIC) -> list[Record]:
    return [Record(topic, 0, i, None, bytes([i]), v) for i, v in enumerate(verdicts)]


def test_oracle_follows_the_contract_table_case_by_case() -> None:
    records = _records(
        _valid(2, 10, "a"),  # new key: accepted
        _valid(3, 12, "b"),  # higher revision: accepted, replaces
        _valid(1, 9, "c"),  # lower revision, not stored: superseded, kept in revisions
        _valid(3, 12, "d"),  # stored with the same figures, another event_id: duplicate
        _valid(1, 9, "e"),  # a late re-send of the superseded one: duplicate
        _valid(3, 13, "f"),  # stored with other figures: conflicting_revision
        Invalid("negative_count"),
    )
    state = expected_state(records, ["askmygp"])
    outcomes = [state.outcome_at[r.position] for r in records]
    assert outcomes == [ACCEPTED, ACCEPTED, SUPERSEDED, DUPLICATE, DUPLICATE, REJECTED, REJECTED]
    key = ("askmygp", "A81001", DAY)
    assert state.current[key].event.event_id == "b"
    assert {r: s.event.event_id for (_, r), s in state.revisions.items()} == {
        2: "a",
        3: "b",
        1: "c",
    }
    assert [r.reason for r in state.rejections.values()] == [
        "conflicting_revision",
        "negative_count",
    ]
    assert all(r.supplier_id == "askmygp" for r in state.rejections.values())
    assert state.next_offsets == {(TOPIC, 0): 7}


def test_oracle_attributes_rejections_only_to_registered_suppliers() -> None:
    ghost = _records(Invalid("unknown_supplier"), topic="triage.daily.ghost")
    badly_named = _records(Invalid("unknown_supplier"), topic="triage.daily.Not_A_Supplier")
    state = expected_state([*ghost, *badly_named], ["askmygp"])
    assert [r.supplier_id for r in state.rejections.values()] == [None, None]


def test_oracle_refuses_records_out_of_offset_order() -> None:
    records = _records(_valid(1, 1), _valid(2, 2))
    with pytest.raises(ValueError, match="out of offset order"):
        expected_state(list(reversed(records)), ["askmygp"])


def test_generator_intent_is_what_the_decoder_and_validator_say() -> None:
    traffic = Traffic("tintent", seed=11)
    classify = Classifier(traffic.registered, traffic.today)
    mixed = traffic.mixed(practice_days=2000, bad_events=1000)
    poison = traffic.poison(
        random_values=10_000, avro_mutations=1000, fuzz_topic=traffic.feed_topics[0]
    )
    assert disagreements(mixed, classify) == []
    assert disagreements(poison, classify) == []
    # bit-flipped bodies are judged by the decoder; some decode to valid events, most not
    flipped = [verdict_of(r, classify) for r in poison if r.kind == "bit_flip_body"]
    assert any(isinstance(v, Invalid) for v in flipped)


def test_mixed_traffic_gets_the_outcomes_its_stories_meant_and_covers_every_reason() -> None:
    traffic = Traffic("tstories", seed=12)
    classify = Classifier(traffic.registered, traffic.today)
    mixed = traffic.mixed(practice_days=2000, bad_events=1000)
    offsets: Counter[tuple[str, int]] = Counter()
    records = []
    for r in mixed:
        tp = (r.topic, r.partition)
        records.append(
            Record(r.topic, r.partition, offsets[tp], r.key, r.value, verdict_of(r, classify))
        )
        offsets[tp] += 1
    state = expected_state(records, traffic.registered)
    seen = [
        state.rejections[rec.position].reason
        if state.outcome_at[rec.position] == REJECTED
        else state.outcome_at[rec.position]
        for rec in records
    ]
    wrong = [(r.kind, r.meant, s) for r, s in zip(mixed, seen, strict=True) if r.meant != s]
    assert wrong == []
    assert set(state.reasons) == set(REASONS)
    assert set(state.outcomes) == {ACCEPTED, SUPERSEDED, DUPLICATE, REJECTED}
    kinds = Counter(r.kind for r in mixed)
    for story in (
        "resend",
        "resend_same_bytes",
        "out_of_order",
        "late_first",
        "conflict",
        "v1_resend_of_v2",
    ):
        assert kinds[story] > 0, story
