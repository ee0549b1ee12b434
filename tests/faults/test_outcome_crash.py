"""Submission outcomes survive SIGKILL (one outcome per record, none invented): consumers killed
inside their batch transactions lose no outcome and invent none.

A mixed backlog (valid events, restatements, re-sends, invalid records) on three suppliers'
topics; consumer A is SIGKILLed while it holds a batch transaction open, then B while its
transaction waits (idle, e.g. for the DLQ acknowledgements), then C consumes the rest. Every
record of a registered supplier's topic must have its outcome on that supplier's feedback
topic -- re-deliveries allowed, always with the same position and outcome -- and each outcome
must match the database: accepted/superseded = the revision row of that very record,
rejected = its rejected_events row with the same reason, duplicate = neither.
"""

from __future__ import annotations

import time
from collections import defaultdict

import pytest

from ingest.contract.model import supplier_of_topic
from ingest.contract.outcomes import SubmissionOutcome
from tests.faults.driver import produce, read_all
from tests.faults.scenario import Scenario
from tests.support.outcomes import read_outcomes, wait_outbox_empty
from tests.support.service import wait_consumed

pytestmark = [pytest.mark.faults, pytest.mark.integration]

SEED = 1313
Position = tuple[str, int, int]


def outcome_problems(
    positions: set[Position],
    outcomes: dict[Position, list[SubmissionOutcome]],
    stored: set[Position],
    rejected: dict[Position, str],
) -> list[str]:
    problems = []
    for position in sorted(positions - set(outcomes)):
        problems.append(f"{position}: no outcome")
    for position in sorted(set(outcomes) - positions):
        problems.append(f"{position}: an outcome for a record that does not exist")
    for position, seen in sorted(outcomes.items()):
        first = seen[0]
        if any(
            (o.outcome, o.reason, o.event_id) != (first.outcome, first.reason, first.event_id)
            for o in seen[1:]
        ):
            problems.append(f"{position}: re-delivered with a different outcome: {seen}")
        kind = first.outcome.value
        if kind in ("accepted", "superseded") and position not in stored:
            problems.append(f"{position}: {kind} but no revision row of that record")
        if kind == "rejected" and rejected.get(position) != (first.reason and first.reason.value):
            problems.append(
                f"{position}: rejected {first.reason}, database {rejected.get(position)}"
            )
        if kind == "duplicate" and (position in stored or position in rejected):
            problems.append(f"{position}: duplicate but the database holds a row of it")
    return problems


async def test_sigkilled_consumers_lose_no_outcome_and_invent_none(
    scenario: Scenario, capsys: pytest.CaptureFixture[str]
) -> None:
    began = time.monotonic()
    settings, pg = scenario.settings, scenario.pg
    traffic = await scenario.prepare(SEED, partitions=3)
    records = traffic.mixed(practice_days=6000, bad_events=2000)
    await produce(settings, records, chunk=2000)
    fleet = scenario.fleet(INGEST_BATCH_MAX_RECORDS="3000")
    a = await fleet.spawn()
    await fleet.kill_in_transaction(a, pg)
    b = await fleet.spawn()
    await fleet.kill_in_transaction(b, pg, waiting=True)
    await fleet.spawn()
    await wait_consumed(pg, settings, traffic.topics, timeout=120, alive=fleet.assert_alive)
    await wait_outbox_empty(pg, within=60)
    codes = await fleet.stop_all()
    assert set(codes.values()) == {0}, codes

    broker = await read_all(settings, traffic.feed_topics)
    positions = {(t, p, m.offset) for (t, p), msgs in broker.items() for m in msgs}
    outcomes: dict[Position, list[SubmissionOutcome]] = defaultdict(list)
    received = 0
    for supplier in traffic.suppliers:
        topic = f"triage.daily.{supplier}"
        mine = sum(1 for t, _, _ in positions if t == topic)
        for _, outcome in await read_outcomes(settings, supplier, at_least=mine, within=60):
            position = (topic, outcome.source_partition, outcome.source_offset)
            outcomes[position].append(outcome)
            received += 1
    stored = {
        (r[0], r[1], r[2])
        for r in await pg.fetch(
            "SELECT source_topic, source_partition, source_offset"
            " FROM triage.daily_request_revisions"
        )
    }
    rejected = {
        (r[0], r[1], r[2]): r[3]
        for r in await pg.fetch(
            "SELECT source_topic, source_partition, source_offset, reason"
            " FROM triage.rejected_events"
        )
        if supplier_of_topic(r[0]) in traffic.registered
    }
    problems = outcome_problems(positions, outcomes, stored, rejected)
    with capsys.disabled():
        kinds = defaultdict(int)
        for seen in outcomes.values():
            kinds[seen[0].outcome.value] += 1
        print(
            f"\noutcomes after 2 SIGKILLs in batch transactions: {len(positions)} records,"
            f" {len(outcomes)} with an outcome, {received - len(outcomes)} re-delivered,"
            f" {dict(kinds)}, {len(problems)} problems ({time.monotonic() - began:.0f} s)"
        )
    assert problems == [], "\n".join(problems[:50])
    await pg.close()
