"""On the secure broker, where the service may not create topics: a supplier whose feedback
topic is missing holds nobody back, and its outcomes still undelivered past the bound are
parked, counted and alerted on (security review: outcome outbox head-of-line blocking)."""

from __future__ import annotations

import datetime as dt

import asyncpg
import pytest

from ingest.contract.outcomes import feedback_topic
from ingest.kafka import ensure_topics, feedback_topic_spec
from ingest.ops.metrics import IngestMetrics
from ingest.ops.refresher import FreshnessRefresher
from ingest.settings import Settings
from tests.support.outcomes import queue_outcomes, read_outcomes, relay_of
from tests.support.suppliers import register

from .conftest import SecureBroker

pytestmark = [pytest.mark.security, pytest.mark.slow]

TWO_DAYS = dt.timedelta(days=2).total_seconds()


async def test_outcomes_of_a_supplier_without_a_feedback_topic_are_parked_past_the_bound(
    settings: Settings, secure_broker: SecureBroker, token: str, pg: asyncpg.Connection
) -> None:
    """Reproduction: a supplier registered before feedback topics existed has none, and the
    service's principal may not create it; its outcomes, two days old, stayed in the outbox
    for ever, retried every round, with nothing to tell anyone. Now another supplier's outcome
    goes out in the same round, and the stranded ones, older than
    INGEST_OUTBOX_PARK_AFTER_SECONDS (a day here), are parked: kept, no longer taken, counted
    by triage_outcome_outbox_parked (alert OutcomesParked), no longer by the pending gauge."""
    stranded, flowing = f"{token}-stranded", f"{token}-flowing"
    await register(pg, stranded)
    await register(pg, flowing)
    admin = secure_broker.admin(settings)
    await ensure_topics(admin, [feedback_topic(flowing)], feedback_topic_spec(settings))
    await queue_outcomes(pg, stranded, 2, age_seconds=TWO_DAYS)
    await queue_outcomes(pg, flowing, 1, age_seconds=TWO_DAYS)  # old too, but deliverable
    service = secure_broker.consumer(settings).model_copy(
        update={"outbox_park_after_seconds": 86400.0}
    )

    async with relay_of(service) as relay:
        assert await relay.relay_once() == 1  # the flowing supplier's, in the first round
        assert await relay.relay_once() == 0  # nothing of the stranded one is taken again

    rows = await pg.fetch("SELECT supplier_id, parked_reason FROM triage.outcome_outbox")
    assert sorted((r["supplier_id"], r["parked_reason"]) for r in rows) == [
        (stranded, "stuck"),
        (stranded, "stuck"),
    ]
    assert len(await read_outcomes(admin, flowing, at_least=1)) == 1
    metrics = IngestMetrics()
    metrics.set_registered({stranded, flowing})
    refresher = FreshnessRefresher(settings, metrics)
    try:
        assert await refresher.refresh_once()
    finally:
        await refresher.close()
    gauge = metrics.registry.get_sample_value
    assert gauge("triage_outcome_outbox_parked", {"supplier": stranded}) == 2
    assert gauge("triage_outcome_outbox_pending") == 0
