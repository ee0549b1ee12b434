"""The benchmark's CPU per event by component: CPU seconds of a run become microseconds per
event, and a profile's relay and outbox samples become their share of the consumer."""

from __future__ import annotations

import pytest

from tests.bench.components import (
    BACKENDS,
    OUTBOX_MODULE,
    RELAY_MODULE,
    ProfileShares,
    describe,
    per_event,
    profile_shares,
)

pytestmark = pytest.mark.unit

LOOP = "run (asyncio/base_events.py:600)"
RELAY = f"_run_once (/srv/{RELAY_MODULE}:120)"
OUTBOX = f"insert_outcomes (/srv/{OUTBOX_MODULE}:40)"
SEND = "send_batch (aiokafka/producer/producer.py:300)"
STORE = "write_batch (/srv/ingest/consumer/store.py:200)"


def test_cpu_seconds_become_microseconds_per_event_by_component() -> None:
    events = 250_000
    consumer, postgres, backends, broker = [3.0, 2.0], 4.0, 3.5, 0.5
    cost = per_event(events, consumer, postgres, {BACKENDS: backends, "autovacuum": 0.5}, broker)
    assert cost.consumer == pytest.approx(sum(consumer) / events * 1e6)
    assert cost.postgres == pytest.approx(postgres / events * 1e6)
    assert cost.postgres_backends == pytest.approx(backends / events * 1e6)
    assert cost.broker == pytest.approx(broker / events * 1e6)
    assert cost.total == pytest.approx((sum(consumer) + postgres + broker) / events * 1e6)


def test_without_a_profile_the_relay_share_is_unknown_not_zero() -> None:
    cost = per_event(1_000, [1.0], 1.0, {}, 0.1)
    assert cost.relay is None and cost.outbox_rows is None
    assert "needs --py-spy" in describe(cost)


def test_a_sample_is_the_relays_when_any_frame_is_in_the_relay_module() -> None:
    stacks = [
        ([LOOP, RELAY, SEND], 30),  # the relay sending: the relay's, though aiokafka is innermost
        ([LOOP, RELAY], 10),
        ([LOOP, STORE, OUTBOX], 5),
        ([LOOP, STORE], 55),
    ]
    shares = profile_shares(stacks)
    total = sum(n for _, n in stacks)
    assert shares == ProfileShares(total, (30 + 10) / total, 5 / total)


def test_the_relay_share_applies_to_the_consumers_cpu() -> None:
    shares = ProfileShares(samples=200, relay=0.25, outbox=0.05)
    events, consumer = 100_000, 4.0
    cost = per_event(events, [consumer], 3.0, {}, 0.2, shares)
    consumer_us = consumer / events * 1e6
    assert cost.relay == pytest.approx(0.25 * consumer_us)
    assert cost.outbox_rows == pytest.approx(0.05 * consumer_us)


def test_an_empty_profile_gives_no_share() -> None:
    assert profile_shares([]) == ProfileShares(0, 0.0, 0.0)
    assert per_event(10, [1.0], 1.0, {}, 0.0, ProfileShares(0, 0.0, 0.0)).relay is None


def test_a_run_of_no_events_is_refused() -> None:
    with pytest.raises(ValueError):
        per_event(0, [1.0], 1.0, {}, 0.0)
