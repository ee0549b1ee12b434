"""No supplier can stall the other suppliers' submission outcomes (security review: the
outcome outbox). Real broker and database; the relay as the service runs it."""

from __future__ import annotations

import asyncpg
import pytest
from aiokafka.admin import NewTopic

from ingest.consumer.outcome_relay import OUTBOX_ROUND
from ingest.contract.outcomes import OUTCOME_KEY_MAX_BYTES, feedback_topic
from ingest.kafka import make_admin
from ingest.ops.metrics import IngestMetrics
from ingest.ops.refresher import FreshnessRefresher
from ingest.settings import Settings
from tests.support.events import encoded, event, key_of, yesterday
from tests.support.kafka import produce
from tests.support.outcomes import (
    queue_outcomes,
    read_outcomes,
    relay_of,
    wait_none_waiting,
    wait_outbox_empty,
)
from tests.support.service import running, wait_consumed
from tests.support.suppliers import register, register_with_topic

pytestmark = [pytest.mark.integration, pytest.mark.security]

# A key just under the broker's default record limit (1 MB) with its 8-byte value: the feed
# topic takes the record, an outcome carrying the same key is larger than that limit.
HUGE_KEY_BYTES = 1_048_400


async def in_outbox(pg: asyncpg.Connection, supplier: str) -> int:
    count: int = await pg.fetchval(
        "SELECT count(*) FROM triage.outcome_outbox WHERE supplier_id = $1",
        supplier,
    )
    return count


@pytest.mark.slow
async def test_a_rejected_record_with_a_huge_key_does_not_hold_back_outcomes(
    settings: Settings, pg: asyncpg.Connection, token: str
) -> None:
    """Reproduction: a supplier sends a record its topic accepts but whose 1 MB key makes the
    rejection's outcome larger than a feedback topic takes. Before, that outcome carried the
    whole key, was refused, stayed in the outbox and was fetched and re-sent every round, and
    the other supplier's outcome queued behind it. Now the outcome goes out without the key
    (the rejection keeps it whole) and both suppliers get their outcomes."""
    hostile, other = f"{token}-hostile", f"{token}-other"
    hostile_topic = await register_with_topic(pg, settings, hostile)
    other_topic = await register_with_topic(pg, settings, other)
    huge_key = b"k" * HUGE_KEY_BYTES
    await produce(settings, hostile_topic, [(huge_key, b"not avro")], partition=0)
    good = event(other, "A81001", yesterday())
    await produce(settings, other_topic, [(key_of(good), encoded(good))])

    async with running(settings):
        await wait_consumed(pg, settings, [hostile_topic, other_topic])
        await wait_outbox_empty(pg, within=30)

    ((key, outcome),) = await read_outcomes(settings, hostile, at_least=1)
    assert key is None
    assert (outcome.outcome.value, outcome.reason and outcome.reason.value) == (
        "rejected",
        "undecodable",
    )
    ((_, accepted),) = await read_outcomes(settings, other, at_least=1)
    assert accepted.outcome.value == "accepted"
    stored = await pg.fetchval(
        "SELECT key FROM triage.rejected_events WHERE source_topic = $1", hostile_topic
    )
    assert stored == huge_key  # nothing lost: the rejection keeps the raw key


async def test_a_round_reads_no_key_longer_than_the_bound_from_older_rows(
    settings: Settings, pg: asyncpg.Connection, token: str
) -> None:
    """Reproduction: an outbox row written before keys were bounded holds a 900 KB key. Before,
    every round fetched it whole and tried to send it; now the upgrade drops such a key, the
    table refuses a new one, and the row's outcome goes unkeyed."""
    supplier = f"{token}-legacy"
    await register(pg, supplier)
    with pytest.raises(asyncpg.CheckViolationError):
        await pg.execute(
            "INSERT INTO triage.outcome_outbox_rows (supplier_id, source_topic, source_partition,"
            " source_offset, key, outcome) VALUES ($1, 'triage.daily.' || $1, 0, 0, $2,"
            " 'rejected')",
            supplier,
            b"k" * (OUTCOME_KEY_MAX_BYTES + 1),
        )
    await queue_outcomes(pg, supplier, 1)
    async with relay_of(settings) as relay:
        assert await relay.relay_once() == 1
    ((key, _),) = await read_outcomes(settings, supplier, at_least=1)
    assert key == b"A81001:2025-01-01"


@pytest.mark.slow
async def test_a_supplier_with_a_large_backlog_does_not_hold_back_another_suppliers_outcomes(
    settings: Settings, pg: asyncpg.Connection, token: str
) -> None:
    """Reproduction: one supplier has more outcomes waiting than a round takes (6,000; its
    feedback topic missing, say), another has three. Before, a round took the oldest 5,000
    rows, all the first supplier's, and the three waited behind them round after round. Now
    each round shares its rows between the suppliers with outcomes waiting."""
    backlog, small = f"{token}-backlog", f"{token}-small"
    await register(pg, backlog)
    await register(pg, small)
    await queue_outcomes(pg, backlog, OUTBOX_ROUND + 1000)
    await queue_outcomes(pg, small, 3)

    async with relay_of(settings) as relay:
        await relay.relay_once()
    assert await in_outbox(pg, small) == 0  # the first round carried them
    assert await in_outbox(pg, backlog) > 0
    assert len(await read_outcomes(settings, small, at_least=3)) == 3


async def test_an_outcome_refused_as_too_large_is_parked_and_the_others_flow(
    settings: Settings, pg: asyncpg.Connection, token: str
) -> None:
    """Reproduction: a supplier's feedback topic takes smaller records than its outcome (here
    a topic made with max.message.bytes 64). Before, the refusal counted as a passing failure:
    the row stayed and was sent again every round for ever. Now a size refusal is final: the row
    is parked (kept, no longer sent, counted by triage_outcome_outbox_parked) and the other
    supplier's outcome is delivered in the same round."""
    narrow, other = f"{token}-narrow", f"{token}-other"
    await register(pg, narrow)
    await register(pg, other)
    await narrow_feedback_topic(settings, narrow)
    await queue_outcomes(pg, narrow, 1)
    await queue_outcomes(pg, other, 1)

    async with relay_of(settings) as relay:
        assert await relay.relay_once() == 1
        assert await relay.relay_once() == 0  # nothing is taken again
    parked = await pg.fetch(
        "SELECT supplier_id, parked_reason FROM triage.outcome_outbox WHERE parked_at IS NOT NULL"
    )
    assert [(r["supplier_id"], r["parked_reason"]) for r in parked] == [(narrow, "too_large")]
    assert await in_outbox(pg, other) == 0
    assert await parked_gauge(settings, narrow) == 1


async def narrow_feedback_topic(settings: Settings, supplier: str) -> None:
    """The supplier's feedback topic made by hand with max.message.bytes 64: no outcome fits."""
    admin = make_admin(settings)
    await admin.start()
    try:
        topic = NewTopic(feedback_topic(supplier), 1, 1, topic_configs={"max.message.bytes": "64"})
        await admin.create_topics([topic])
    finally:
        await admin.close()


@pytest.mark.slow
async def test_an_outcome_read_from_its_revision_row_refused_as_too_large_is_parked(
    settings: Settings, pg: asyncpg.Connection, token: str
) -> None:
    """The same refusal for an outcome the relay reads back from the stored revision (no
    outbox row of it): it gets an outbox row, parked, the partition's mark moves past it, and
    the next outcome of that partition and the other supplier's are not held back."""
    narrow, other = f"{token}-narrow", f"{token}-other"
    narrow_topic = await register_with_topic(pg, settings, narrow)
    other_topic = await register_with_topic(pg, settings, other)
    await narrow_feedback_topic(settings, narrow)
    first = event(narrow, "A81001", yesterday())
    good = event(other, "A81001", yesterday())
    await produce(settings, narrow_topic, [(key_of(first), encoded(first))], partition=0)
    await produce(settings, other_topic, [(key_of(good), encoded(good))])

    async with running(settings):
        await wait_consumed(pg, settings, [narrow_topic, other_topic])
        await wait_none_waiting(pg, within=30)

    parked = await pg.fetch(
        "SELECT supplier_id, outcome, practice_code, parked_reason"
        " FROM triage.outcome_outbox_rows WHERE parked_at IS NOT NULL"
    )
    assert [tuple(r) for r in parked] == [(narrow, "accepted", "A81001", "too_large")]
    mark = await pg.fetchval(
        "SELECT next_offset FROM triage.outcome_progress"
        " WHERE source_topic = $1 AND source_partition = 0",
        narrow_topic,
    )
    assert mark == 1  # past the parked outcome: nothing of that partition waits behind it
    ((_, accepted),) = await read_outcomes(settings, other, at_least=1)
    assert accepted.outcome.value == "accepted"
    assert await parked_gauge(settings, narrow) == 1


async def refreshed(settings: Settings, supplier: str) -> IngestMetrics:
    """The gauges as the refresher publishes them (the supplier registered)."""
    metrics = IngestMetrics()
    metrics.set_registered({supplier})
    refresher = FreshnessRefresher(settings, metrics)
    try:
        assert await refresher.refresh_once()
    finally:
        await refresher.close()
    return metrics


async def parked_gauge(settings: Settings, supplier: str) -> float | None:
    """triage_outcome_outbox_parked of the supplier, as the refresher publishes it."""
    metrics = await refreshed(settings, supplier)
    return metrics.registry.get_sample_value("triage_outcome_outbox_parked", {"supplier": supplier})
