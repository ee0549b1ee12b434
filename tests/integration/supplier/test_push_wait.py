"""``ingest push --wait`` and the producer API's ``await_outcomes``: after
sending, the supplier reads its own outcomes and sees, per file line, what became of each row."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from aiokafka import AIOKafkaConsumer

from ingest.contract.model import Outcome, Reason
from ingest.contract.outcomes import SubmissionOutcome, encode_outcome, feedback_topic
from ingest.contract.participation import ParticipationPeriod
from ingest.reference.records import ReferenceKind
from ingest.reference.store import load_records
from ingest.settings import Settings
from ingest.supplier.counts import DailyCounts
from ingest.supplier.outcome_waiter import await_outcomes, now_ms
from ingest.supplier.producer import SupplierProducer
from tests.support.events import yesterday
from tests.support.kafka import produce
from tests.support.service import running

from .conftest import cli_env, run_cli

HEADER = "practice_code,activity_date,total_requests,revision\n"


async def add_supplier(settings: Settings, supplier: str) -> None:
    """``ingest suppliers add``: the feed topic and the feedback topic."""
    added = await run_cli("suppliers", "add", supplier, "--name", "Acme", env=cli_env(settings))
    assert added.code == 0, added.output


async def participating(pg: asyncpg.Connection, *codes: str) -> None:
    await load_records(
        pg,
        ReferenceKind.PARTICIPATION,
        [ParticipationPeriod(c, yesterday(400), None) for c in codes],
        "participation.csv",
    )


async def test_push_wait_prints_each_line_s_fate_and_exits_1_on_a_rejection(
    settings: Settings, token: str, pg: asyncpg.Connection, tmp_path: Path
) -> None:
    supplier = f"{token}-acme"
    await add_supplier(settings, supplier)
    await participating(pg, "A81001", "A81002", "A81003", "A81004")
    day = yesterday()
    first = tmp_path / "first.csv"
    first.write_text(f"{HEADER}A81003,{day},5,1\n")
    feed = tmp_path / "feed.csv"
    feed.write_text(
        HEADER
        + f"A81001,{day},5,1\n"  # line 2: accepted
        + f"A81002,{day},-3,1\n"  # line 3: bad here, not sent
        + f"F86001,{day},4,1\n"  # line 4: not on the participation list
        + f"A81001,{day},5,1\n"  # line 5: repeat of line 2
        + f"A81003,{day},6,1\n"  # line 6: revision 1 stored with 5 by the first push
        + f"A81004,{day},7,1\n"  # line 7: accepted
    )
    async with running(settings):
        before = await run_cli(
            "push", "--supplier", supplier, str(first), "--wait", env=cli_env(settings)
        )
        result = await run_cli(
            "push", "--supplier", supplier, str(feed), "--wait", "--wait-timeout", "60",
            env=cli_env(settings),
        )  # fmt: skip
        again = await run_cli(
            "push", "--supplier", supplier, str(first), "--wait", env=cli_env(settings)
        )
    assert before.code == 0, before.output
    assert "line 2: accepted" in before.stdout

    assert result.code == 1, result.output
    fates = [line for line in result.stdout.splitlines() if line.startswith("line ")]
    assert fates[0] == "line 2: accepted"
    assert fates[1].startswith(
        "line 4: rejected: practice_not_participating: practice F86001 was not participating"
    )
    assert fates[2] == "line 5: same row as line 2: accepted"
    assert fates[3].startswith("line 6: rejected: conflicting_revision: revision 1 of A81003")
    assert fates[4] == "line 7: accepted"
    assert len(fates) == 5
    assert "line 3: total_requests: negative_count" in result.stderr  # found before sending

    assert again.code == 0, again.output  # a re-send is stored already: duplicate
    assert "line 2: duplicate" in again.stdout


async def test_push_wait_without_a_consumer_says_none_picked_the_rows_up_and_exits_1(
    settings: Settings, token: str, tmp_path: Path
) -> None:
    supplier = f"{token}-acme"
    await add_supplier(settings, supplier)
    feed = tmp_path / "feed.csv"
    feed.write_text(f"{HEADER}A81001,{yesterday()},5,1\n")
    # no consumer is running: no outcome comes
    result = await run_cli(
        "push", "--supplier", supplier, str(feed), "--wait", "--wait-timeout", "2",
        env=cli_env(settings),
    )  # fmt: skip
    assert result.code == 1, result.output
    assert "no outcome within 2 s for the 1 row(s) sent: no consumer" in result.stdout
    assert "`ingest run`" in result.stdout
    assert "line 2: no outcome" not in result.stdout


async def test_the_producer_api_awaits_the_outcomes_of_what_it_sent(
    settings: Settings, token: str, pg: asyncpg.Connection
) -> None:
    supplier = f"{token}-acme"
    await add_supplier(settings, supplier)
    day = yesterday()
    # One practice-day, so one key: both records go to one partition and are read in the order
    # sent (the contract's per-key order), so the first is accepted and the second conflicts.
    counts = [DailyCounts("A81001", day, 5), DailyCounts("A81001", day, 6)]
    async with running(settings), SupplierProducer(supplier, settings) as producer:
        deliveries = await producer.send_many(counts)
        outcomes = await producer.await_outcomes(deliveries, within=60)
    assert [o and (o.outcome, o.reason) for o in outcomes] == [
        (Outcome.ACCEPTED, None),
        (Outcome.REJECTED, Reason.CONFLICTING_REVISION),
    ]
    assert [o and o.source_offset for o in outcomes] == [d.offset for d in deliveries]


async def test_an_outcome_written_during_the_start_lookup_is_not_skipped(
    settings: Settings, token: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The race behind outcomes that never arrived: the feedback topic holds nothing recent
    when the waiter looks up where to start, and the service writes the outcome just after.
    The waiter must still read it (it used to seek to the end found after the write)."""
    supplier = f"{token}-acme"
    await add_supplier(settings, supplier)
    outcome = SubmissionOutcome(
        source_partition=0, source_offset=0, event_id=None, practice_code="A81001",
        activity_date=yesterday(), revision=1, outcome=Outcome.ACCEPTED, reason=None,
        detail=None, processed_at=dt.datetime.now(dt.UTC).replace(microsecond=0),
    )  # fmt: skip
    lookup = AIOKafkaConsumer.offsets_for_times

    async def lookup_then_service_writes(self: AIOKafkaConsumer, *args: Any) -> Any:
        found = await lookup(self, *args)
        await produce(settings, feedback_topic(supplier), [(b"A81001", encode_outcome(outcome))])
        return found

    monkeypatch.setattr(AIOKafkaConsumer, "offsets_for_times", lookup_then_service_writes)
    found = await await_outcomes(settings, supplier, [(0, 0)], now_ms(), within=10)
    assert found == {(0, 0): outcome}
