"""Submission outcomes survive a SIGKILL of the outcome relay itself (at least once, from the
outbox): the service (``ingest run``, a real process) killed while its relay is producing a backlog
of outcomes loses none and invents none.

A mixed backlog on three suppliers' topics is stored first by a consumer whose relay is idle
(``INGEST_OUTCOME_RELAY_INTERVAL_SECONDS=3600``), so the outbox holds one row per record --
about 19,000, several relay rounds. Then:

1. ``ingest run`` starts while the test holds ``LOCK TABLE triage.outcome_outbox IN SHARE
   MODE``: the relay takes a round (FOR UPDATE: not blocked), produces it, has it
   acknowledged, and waits on its DELETE. It is SIGKILLed there: a whole round is on the
   feedback topics and still in the outbox (it must be sent again, identical).
2. ``ingest run`` again, SIGKILLed as soon as the feedback topics grow (mid-round or between
   rounds; the outbox is not empty yet).
3. ``ingest run`` a third time, until the outbox is empty; SIGTERM, exit 0.

Then every record of the suppliers' topics has its outcome on the feedback topic, by
(source_partition, source_offset); copies of one (re-deliveries) are identical (key and every
field); no outcome is for a record that does not exist; every revision and rejection row has
its outcome with the same content (accepted/superseded: event id, practice, date, revision;
rejected: reason); a duplicate has no row.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter, defaultdict
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass

import asyncpg
import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition

from ingest.consumer.outcome_relay import OUTBOX_ROUND
from ingest.contract.model import supplier_of_topic
from ingest.contract.outcomes import SubmissionOutcome, feedback_topic
from ingest.kafka import client_options
from ingest.settings import Settings
from tests.faults.driver import INGEST_RUN, produce, read_all
from tests.faults.scenario import Scenario
from tests.support.outcomes import read_outcomes, wait_outbox_empty
from tests.support.service import wait_consumed

pytestmark = [pytest.mark.faults, pytest.mark.integration, pytest.mark.slow]

SEED = 1331
Position = tuple[str, int, int]
Delivered = tuple[bytes | None, SubmissionOutcome]
StoredRevision = tuple[str, str, object, int]  # event_id, practice_code, activity_date, revision

RELAY_WAITING_ON_DELETE_SQL = """
SELECT count(*) FROM pg_stat_activity
WHERE datname = current_database() AND wait_event_type = 'Lock'
  AND query LIKE 'DELETE FROM triage.outcome_outbox%'
"""


class FeedbackEnds:
    """How many outcomes the feedback topics hold (the sum of their end offsets; topics not
    created yet hold none)."""

    def __init__(self, settings: Settings, topics: Sequence[str]) -> None:
        self._consumer = AIOKafkaConsumer(**client_options(settings), enable_auto_commit=False)
        self._topics = topics
        self._partitions: list[TopicPartition] = []

    async def __aenter__(self) -> FeedbackEnds:
        await self._consumer.start()
        return self

    async def __aexit__(self, *_: object) -> None:
        await self._consumer.stop()

    async def total(self) -> int:
        if len({tp.topic for tp in self._partitions}) < len(self._topics):
            await self._consumer._client.force_metadata_update()  # as read_all does
            self._partitions = [
                TopicPartition(t, p)
                for t in self._topics
                for p in sorted(self._consumer.partitions_for_topic(t) or ())
            ]
        if not self._partitions:
            return 0
        return sum((await self._consumer.end_offsets(self._partitions)).values())


async def wait_for(condition: str, check: Callable[[], Awaitable[bool]], within: float) -> None:
    """Poll ``check`` every 10 ms for ``within`` s."""
    deadline = time.monotonic() + within
    while not await check():
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {within} s: {condition}")
        await asyncio.sleep(0.01)


def relay_problems(
    records: Mapping[Position, bytes | None],
    delivered: Mapping[Position, Sequence[Delivered]],
    revisions: Mapping[Position, StoredRevision],
    rejections: Mapping[Position, str],
) -> list[str]:
    """What breaks 'every outcome exactly once in content, none lost, none invented'
    (``records``: the source records' keys by position)."""
    problems = []
    for position in sorted(set(records) - set(delivered)):
        problems.append(f"{position}: no outcome")
    for position in sorted(set(delivered) - set(records)):
        problems.append(f"{position}: an outcome for a record that does not exist")
    for position in sorted(set(revisions) - set(delivered)):
        problems.append(f"{position}: a revision row without an outcome")
    for position in sorted(set(rejections) - set(delivered)):
        problems.append(f"{position}: a rejection row without an outcome")
    for position, copies in sorted(delivered.items()):
        if any(copy != copies[0] for copy in copies[1:]):
            problems.append(f"{position}: copies differ: {copies}")
        key, outcome = copies[0]
        if position in records and key != records[position]:
            problems.append(f"{position}: keyed {key!r}, the record {records[position]!r}")
        kind = outcome.outcome.value
        stored = revisions.get(position)
        if kind in ("accepted", "superseded"):
            told = (outcome.event_id, outcome.practice_code, outcome.activity_date)
            told_revision = (*told, outcome.revision)
            if stored is None:
                problems.append(f"{position}: {kind} but no revision row of that record")
            elif told_revision != stored:
                problems.append(f"{position}: {kind} {told_revision}, database {stored}")
            if position in rejections:
                problems.append(f"{position}: {kind} but rejected in the database")
        elif kind == "rejected":
            reason = outcome.reason and outcome.reason.value
            if rejections.get(position) != reason or stored is not None:
                problems.append(
                    f"{position}: rejected {reason}, database {rejections.get(position)}"
                    f" (revision row: {stored is not None})"
                )
        elif kind == "duplicate" and (stored is not None or position in rejections):
            problems.append(f"{position}: duplicate but the database holds a row of it")
    return problems


async def stored_rows(
    pg: asyncpg.Connection, registered: Sequence[str]
) -> tuple[dict[Position, StoredRevision], dict[Position, str]]:
    revisions = {
        (r[0], r[1], r[2]): (r[3], r[4], r[5], r[6])
        for r in await pg.fetch(
            "SELECT source_topic, source_partition, source_offset, event_id::text,"
            " practice_code, activity_date, revision FROM triage.daily_request_revisions"
        )
    }
    rejections = {
        (r[0], r[1], r[2]): r[3]
        for r in await pg.fetch(
            "SELECT source_topic, source_partition, source_offset, reason"
            " FROM triage.rejected_events"
        )
        if supplier_of_topic(r[0]) in registered
    }
    return revisions, rejections


@dataclass
class Kills:
    """What the kills left: figures for the report."""

    backlog: int = 0  # outbox rows before the first kill
    acknowledged: int = 0  # outcomes on the topics, still in the outbox, at kill 1
    at_second: int = 0  # outcomes written (copies included) at kill 2
    left: int = 0  # outbox rows after kill 2
    written: int = 0  # outcomes on the feedback topics in the end (copies included)


async def kill_the_relay_twice(scenario: Scenario, suppliers: Sequence[str]) -> Kills:
    """Steps 1-3 of the module's docstring, once the backlog is in the outbox."""
    settings, pg, fleet = scenario.settings, scenario.pg, scenario.fleet()
    kills = Kills(backlog=await pg.fetchval("SELECT count(*) FROM triage.outcome_outbox"))
    assert kills.backlog > 3 * OUTBOX_ROUND, kills.backlog
    async with FeedbackEnds(settings, [feedback_topic(s) for s in suppliers]) as ends:
        before = await ends.total()  # the idle relay's one look at start, if it found any

        # 1. Killed with a whole round acknowledged but not deleted.
        blocker = await asyncpg.connect(settings.database())
        lock = blocker.transaction()
        await lock.start()
        await blocker.execute("LOCK TABLE triage.outcome_outbox IN SHARE MODE")
        first = await fleet.spawn(argv=INGEST_RUN)

        async def waiting_on_delete() -> bool:
            fleet.assert_alive()
            return bool(await pg.fetchval(RELAY_WAITING_ON_DELETE_SQL))

        await wait_for("the relay waits on its DELETE", waiting_on_delete, within=60)
        kills.acknowledged = await ends.total() - before
        await fleet.sigkill(first, "relay_acknowledged_not_deleted")
        await lock.rollback()
        await blocker.close()
        assert kills.acknowledged == OUTBOX_ROUND, kills.acknowledged
        assert await pg.fetchval("SELECT count(*) FROM triage.outcome_outbox") == kills.backlog

        # 2. Killed as soon as the feedback topics grow again (some outcomes sent, not all).
        level = await ends.total()
        second = await fleet.spawn(wait_joined=False, argv=INGEST_RUN)  # its relay starts first

        async def grown() -> bool:
            fleet.assert_alive()
            return await ends.total() > level

        await wait_for("the relay sends again", grown, within=60)
        await fleet.sigkill(second, "relay_mid_send")
        kills.at_second = await ends.total() - before
        kills.left = await pg.fetchval("SELECT count(*) FROM triage.outcome_outbox")
        assert kills.left > 0, "the relay sent the whole backlog before the kill"

        # 3. The rest.
        await fleet.spawn(argv=INGEST_RUN)
        await wait_outbox_empty(pg, within=120)
        codes = await fleet.stop_all()
        assert set(codes.values()) == {0}, codes
        kills.written = await ends.total()
    return kills


async def test_relay_sigkilled_mid_send_loses_no_outcome_and_invents_none(
    scenario: Scenario, capsys: pytest.CaptureFixture[str]
) -> None:
    began = time.monotonic()
    settings, pg = scenario.settings, scenario.pg
    traffic = await scenario.prepare(SEED, partitions=3)
    await produce(settings, traffic.mixed(practice_days=9000, bad_events=3000), chunk=2000)

    # The backlog stored with the relay idle: every outcome waits in the outbox.
    fleet = scenario.fleet()
    storing = await fleet.spawn(INGEST_OUTCOME_RELAY_INTERVAL_SECONDS="3600")
    await wait_consumed(pg, settings, traffic.topics, timeout=180, alive=fleet.assert_alive)
    assert await fleet.stop_all() == {storing.name: 0}
    kills = await kill_the_relay_twice(scenario, traffic.suppliers)

    broker = await read_all(settings, traffic.feed_topics)
    records = {(t, p, m.offset): m.key for (t, p), msgs in broker.items() for m in msgs}
    delivered: dict[Position, list[Delivered]] = defaultdict(list)
    for supplier in traffic.suppliers:
        topic = f"triage.daily.{supplier}"
        mine = sum(1 for t, _, _ in records if t == topic)
        for key, outcome in await read_outcomes(settings, supplier, at_least=mine, within=60):
            delivered[(topic, outcome.source_partition, outcome.source_offset)].append(
                (key, outcome)
            )
    revisions, rejections = await stored_rows(pg, traffic.registered)
    problems = relay_problems(records, delivered, revisions, rejections)
    copies = sum(len(c) for c in delivered.values())
    with capsys.disabled():
        kinds = Counter(c[0][1].outcome.value for c in delivered.values())
        print(
            f"\nrelay SIGKILLed twice mid-send: {len(records)} records, outbox {kills.backlog};"
            f" kill 1 with {kills.acknowledged} acknowledged, not deleted; kill 2 with"
            f" {kills.at_second} written, {kills.left} left in the outbox; {kills.written}"
            f" written in all, {copies} read, {len(delivered)} positions,"
            f" {copies - len(delivered)} re-delivered; {dict(kinds)}; {len(problems)} problems"
            f" ({time.monotonic() - began:.0f} s)"
        )
    assert problems == [], "\n".join(problems[:50])
    assert copies == kills.written
    assert copies - len(delivered) >= kills.acknowledged  # kill 1's round, sent again
