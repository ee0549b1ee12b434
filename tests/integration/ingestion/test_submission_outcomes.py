"""Submission outcomes on the real broker and database (contract v1.1
section 6): one outcome per record of a mixed batch, matching the database row for row."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Sequence

import asyncpg
import pytest

from ingest.consumer.outcome_relay import OutcomeRelay
from ingest.consumer.outcome_source import Pending, Round
from ingest.contract.outcomes import SubmissionOutcome
from ingest.contract.participation import ParticipationPeriod
from ingest.kafka import ensure_topics, make_producer
from ingest.ops.metrics import IngestMetrics
from ingest.ops.refresher import FreshnessRefresher
from ingest.reference.records import ReferenceKind
from ingest.reference.store import load_records
from ingest.settings import Settings
from tests.support.bad_records import bad_records
from tests.support.events import encoded, event, key_of, yesterday
from tests.support.kafka import produce
from tests.support.outcomes import read_outcomes, wait_outbox_empty
from tests.support.service import running, sample, wait_consumed
from tests.support.suppliers import register_with_topic

pytestmark = pytest.mark.integration


async def test_every_record_of_a_mixed_batch_gets_one_outcome_matching_the_database(
    settings: Settings, pg: asyncpg.Connection, token: str
) -> None:
    supplier = f"{token}-patchs"
    topic = await register_with_topic(pg, settings, supplier)
    stray_topic = f"triage.daily.{token}-nobody"
    await ensure_topics(settings, [stray_topic], 1)
    day = yesterday()
    await load_records(
        pg,
        ReferenceKind.PARTICIPATION,
        [
            ParticipationPeriod(code, day - dt.timedelta(days=60), None)
            for code in ("A81001", "B82001", "E85001", "D84000", "D84001")
        ],
        "participation.csv",
    )
    bad = bad_records(supplier, f"{token}-other", day)
    restated = [event(supplier, "B82001", day, r, r * 10) for r in (1, 3, 2)]
    resent = event(supplier, "B82001", day, 3, 30)
    conflict = [event(supplier, "E85001", day, 1, 1), event(supplier, "E85001", day, 1, 2)]
    outsider = event(supplier, "F86001", day)  # not on the participation list
    good = [event(supplier, f"D8400{i}", day, total=i) for i in range(2)]
    sent: list[tuple[bytes | None, bytes | None, str, str | None]] = [
        (key_of(good[0]), encoded(good[0]), "accepted", None),
        *((k, v, "rejected", reason) for reason, (k, v) in bad.items()),
        (key_of(restated[0]), encoded(restated[0]), "accepted", None),
        (key_of(restated[1]), encoded(restated[1]), "accepted", None),
        (key_of(restated[2]), encoded(restated[2]), "superseded", None),
        (key_of(resent), encoded(resent), "duplicate", None),
        (key_of(conflict[0]), encoded(conflict[0]), "accepted", None),
        (key_of(conflict[1]), encoded(conflict[1]), "rejected", "conflicting_revision"),
        (key_of(outsider), encoded(outsider), "rejected", "practice_not_participating"),
        (key_of(good[1]), encoded(good[1]), "accepted", None),
    ]
    await produce(settings, topic, [(k, v) for k, v, _, _ in sent], partition=0)
    stray = event(f"{token}-nobody", "A81001", day)
    await produce(settings, stray_topic, [(key_of(stray), encoded(stray))])

    async with running(settings):
        await wait_consumed(pg, settings, [topic, stray_topic])
        await wait_outbox_empty(pg)
    outcomes = await read_outcomes(settings, supplier, at_least=len(sent))

    by_offset: dict[int, tuple[bytes | None, SubmissionOutcome]] = {}
    for key, outcome in outcomes:
        assert outcome.source_offset not in by_offset, f"two outcomes for {outcome}"
        by_offset[outcome.source_offset] = (key, outcome)
    assert sorted(by_offset) == list(range(len(sent)))  # one per record, none invented
    reasons = {o.reason for _, o in by_offset.values() if o.reason is not None}
    assert {str(r) for r in reasons} == {*bad, "conflicting_revision", "practice_not_participating"}

    stored = {
        r["source_offset"]: r
        for r in await pg.fetch(
            "SELECT * FROM triage.daily_request_revisions WHERE source_topic = $1", topic
        )
    }
    rejected = {
        r["source_offset"]: r
        for r in await pg.fetch(
            "SELECT * FROM triage.rejected_events WHERE source_topic = $1", topic
        )
    }
    for offset, (key, value, expected, reason) in enumerate(sent):
        got_key, got = by_offset[offset]
        assert (got.source_partition, got_key) == (0, key), offset
        assert (got.outcome.value, got.reason and got.reason.value) == (expected, reason), offset
        assert got.processed_at.tzinfo is not None
        if expected in ("accepted", "superseded"):
            row = stored[offset]  # the revision row of this very record
            assert (got.event_id, got.practice_code, got.activity_date, got.revision) == (
                str(row["event_id"]),
                row["practice_code"],
                row["activity_date"],
                row["revision"],
            )
            assert offset not in rejected
        elif expected == "duplicate":
            assert offset not in stored and offset not in rejected
            assert (got.practice_code, got.revision) == ("B82001", 3)
        else:
            row = rejected[offset]
            assert (row["reason"], row["value"]) == (reason, value)
            assert got.detail == row["detail"]
            assert offset not in stored
    undecodable = by_offset[1 + list(bad).index("undecodable")][1]
    assert (undecodable.event_id, undecodable.practice_code) == (None, None)
    mismatch = by_offset[1 + list(bad).index("invalid_practice_code")][1]
    assert (mismatch.practice_code, mismatch.activity_date) == ("81001A", day)


async def test_an_outcome_waits_in_the_outbox_until_the_relay_sends_it(
    settings: Settings, pg: asyncpg.Connection, token: str
) -> None:
    """The outcome is written with the batch, in the same transaction: once the offsets are
    stored, the outbox or the feedback topic holds it."""
    supplier = f"{token}-klinik"
    topic = await register_with_topic(pg, settings, supplier)
    e = event(supplier, "A81001", yesterday())
    await produce(settings, topic, [(key_of(e), encoded(e))])
    slow_relay = settings.model_copy(update={"outcome_relay_interval_seconds": 3600})
    async with running(slow_relay) as service:
        await wait_consumed(pg, settings, [topic])
        relay = service.relay
        assert relay is not None
        waiting = await pg.fetchval(
            "SELECT count(*) FROM triage.outcome_outbox WHERE source_topic = $1", topic
        )
        assert waiting + relay.sent == 1
        metrics = IngestMetrics()
        refresher = FreshnessRefresher(settings, metrics)
        try:
            assert await refresher.refresh_once()
        finally:
            await refresher.close()
        assert metrics.registry.get_sample_value("triage_outcome_outbox_pending") == waiting
    async with running(settings) as service:
        await wait_outbox_empty(pg)
        relayed = sample(service, "triage_outcomes_relayed_total", supplier=supplier)
    ((_, outcome),) = await read_outcomes(settings, supplier, at_least=1)
    assert (outcome.outcome.value, outcome.practice_code) == ("accepted", "A81001")
    assert relayed == 1  # counted by the relay that sent it


class CrashBeforeDelete(OutcomeRelay):
    """A relay that dies once between the broker's acknowledgement and recording the outcomes
    as sent."""

    crashed = False

    async def _acknowledge(
        self,
        conn: asyncpg.Connection,
        taken: Round,
        acknowledged: Sequence[Pending],
        too_large: Sequence[Pending],
    ) -> None:
        if not self.crashed:
            self.crashed = True
            raise ConnectionResetError("simulated crash before the acknowledgement commits")
        await super()._acknowledge(conn, taken, acknowledged, too_large)


async def test_a_relay_crash_after_sending_re_delivers_the_same_outcomes(
    settings: Settings, pg: asyncpg.Connection, token: str
) -> None:
    supplier = f"{token}-accurx"
    topic = await register_with_topic(pg, settings, supplier)
    sent = [event(supplier, f"A8100{i}", yesterday()) for i in range(3)]
    await produce(settings, topic, [(key_of(e), encoded(e)) for e in sent])
    no_relay = settings.model_copy(update={"outcome_relay_interval_seconds": 3600})
    async with running(no_relay):
        await wait_consumed(pg, settings, [topic])
        await asyncio.sleep(0.5)  # the service's relay took its one round before the rows came
    assert await pg.fetchval("SELECT count(*) FROM triage.outcome_outbox") == 3

    producer = make_producer(settings)
    await producer.start()
    relay = CrashBeforeDelete(settings, producer)
    try:
        with pytest.raises(ConnectionResetError):
            await relay.relay_once()  # produced, acknowledged, then "crashed"
        assert await pg.fetchval("SELECT count(*) FROM triage.outcome_outbox") == 3
        assert await relay.relay_once() == 3  # sent again, then deleted
    finally:
        await relay.close()
        await producer.stop()
    assert await pg.fetchval("SELECT count(*) FROM triage.outcome_outbox") == 0

    outcomes = await read_outcomes(settings, supplier, at_least=6)
    by_position: dict[tuple[int, int], list[SubmissionOutcome]] = {}
    for _, outcome in outcomes:
        by_position.setdefault((outcome.source_partition, outcome.source_offset), []).append(
            outcome
        )
    assert len(by_position) == 3
    assert all(len(seen) == 2 and seen[0] == seen[1] for seen in by_position.values())
