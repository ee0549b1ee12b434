"""``ingest push`` end to end: a file through the real CLI to the real broker, landed in
Postgres by the real consumer."""

from __future__ import annotations

import json
from pathlib import Path

import asyncpg
import pytest

from ingest.contract.model import topic_for
from ingest.settings import Settings
from tests.support.events import yesterday
from tests.support.kafka import CreateTopics, end_offsets
from tests.support.polling import wait_until
from tests.support.service import running
from tests.support.suppliers import register

from .conftest import cli_env, run_cli


async def rows(pg: asyncpg.Connection, supplier: str) -> list[asyncpg.Record]:
    found: list[asyncpg.Record] = await pg.fetch(
        "SELECT practice_code, activity_date, revision, total_requests, clinical_requests,"
        " admin_requests, other_requests, patient_submitted_requests, staff_submitted_requests"
        " FROM triage.daily_requests WHERE supplier_id = $1 ORDER BY practice_code, activity_date",
        supplier,
    )
    return found


async def test_a_csv_pushed_through_the_cli_lands_via_the_consumer(
    settings: Settings,
    token: str,
    pg: asyncpg.Connection,
    create_topics: CreateTopics,
    tmp_path: Path,
) -> None:
    supplier = f"{token}-acme"
    await register(pg, supplier)
    await create_topics(topic_for(supplier), settings.dlq_topic, partitions=3)
    feed = tmp_path / "feed.csv"
    feed.write_text(
        "practice_code,activity_date,total_requests,clinical_requests,admin_requests,"
        "other_requests,revision\n"
        f"A81001,{yesterday()},120,70,40,10,1\n"  # line 2
        f"A81002,{yesterday()},35,,,,\n"  # line 3: revision defaults to 1
        f"a81003,{yesterday()},12,,,,1\n"  # line 4: bad practice code
        f"A81004,{yesterday()},12,5,5,5,1\n"  # line 5: breakdown does not add up
        f"A81001,{yesterday()},120,70,40,10,1\n"  # line 6: repeat of line 2
        f"A81001,{yesterday(2)},99,,,,2\n"  # line 7: a revision 2 as the first one sent
    )

    result = await run_cli("push", "--supplier", supplier, str(feed), env=cli_env(settings))

    assert result.code == 1, result.output  # bad rows make the exit code non-zero
    assert "line 4: practice_code: invalid_practice_code" in result.stderr
    assert "line 5: clinical_requests+admin_requests+other_requests: inconsistent_breakdown" in (
        result.stderr
    )
    assert "sent, acknowledged by Kafka (acks=all)" in result.stdout
    assert (
        sum((await end_offsets(settings, [topic_for(supplier)])).values()) == 3
    )  # the repeat sent once

    async with running(settings):

        async def landed() -> bool:
            return len(await rows(pg, supplier)) == 3

        await wait_until(landed, what="3 rows in triage.daily_requests")

    found = [tuple(r) for r in await rows(pg, supplier)]
    day1 = yesterday()
    day2 = yesterday(2)
    assert found == [
        ("A81001", day2, 2, 99, None, None, None, None, None),
        ("A81001", day1, 1, 120, 70, 40, 10, None, None),
        ("A81002", day1, 1, 35, None, None, None, None, None),
    ]
    assert await pg.fetchval("SELECT count(*) FROM triage.rejected_events") == 0
    keys = await pg.fetch(
        "SELECT source_topic, source_partition FROM triage.daily_request_revisions"
        " WHERE supplier_id = $1",
        supplier,
    )
    assert {k["source_topic"] for k in keys} == {topic_for(supplier)}


async def test_a_clean_file_exits_0_and_pushing_it_again_changes_nothing(
    settings: Settings,
    token: str,
    pg: asyncpg.Connection,
    create_topics: CreateTopics,
    tmp_path: Path,
) -> None:
    supplier = f"{token}-beta"
    await register(pg, supplier)
    await create_topics(topic_for(supplier), settings.dlq_topic, partitions=3)
    feed = tmp_path / "feed.jsonl"
    feed.write_text(
        "\n".join(
            json.dumps(
                {
                    "practice_code": f"B8{n:04d}",
                    "activity_date": yesterday().isoformat(),
                    "total_requests": n,
                }
            )
            for n in range(1, 51)
        )
        + "\n"
    )
    env = cli_env(settings)
    first = await run_cli("push", "-s", supplier, str(feed), env=env)
    second = await run_cli("push", "-s", supplier, str(feed), env=env)
    assert (first.code, second.code) == (0, 0), first.output + second.output
    assert "ok: 50 rows" in first.stdout

    async with running(settings) as service:

        async def all_read() -> bool:
            done = await pg.fetchval(
                "SELECT coalesce(sum(next_offset), 0) FROM triage.consumer_offsets"
                " WHERE group_id = $1",
                settings.consumer_group,
            )
            return bool(done == 100)

        await wait_until(all_read, what="both pushes consumed")
        outcomes = {
            s.labels["outcome"]: s.value
            for metric in service.metrics.registry.collect()
            if metric.name == "triage_events"
            for s in metric.samples
            if s.name == "triage_events_total"
        }
    assert outcomes == {"accepted": 50.0, "duplicate": 50.0}
    assert len(await rows(pg, supplier)) == 50


async def test_dry_run_checks_but_sends_nothing(
    settings: Settings, token: str, create_topics: CreateTopics, tmp_path: Path
) -> None:
    supplier = f"{token}-gamma"
    await create_topics(topic_for(supplier), partitions=1)
    feed = tmp_path / "feed.csv"
    feed.write_text(f"practice_code,activity_date,total_requests\nA81001,{yesterday()},-1\n")
    result = await run_cli("push", "-s", supplier, "--dry-run", str(feed), env=cli_env(settings))
    assert result.code == 1
    assert "line 2: total_requests: negative_count: total_requests -1 is negative" in (
        result.stderr
    )
    assert sum((await end_offsets(settings, [topic_for(supplier)])).values()) == 0


@pytest.mark.security
async def test_a_missing_topic_is_a_clear_error_not_a_hang(
    settings: Settings, token: str, tmp_path: Path
) -> None:
    feed = tmp_path / "feed.csv"
    feed.write_text(f"practice_code,activity_date,total_requests\nA81001,{yesterday()},1\n")
    result = await run_cli("push", "-s", f"{token}-nobody", str(feed), env=cli_env(settings))
    assert result.code == 2
    assert f"topic triage.daily.{token}-nobody does not exist" in result.stderr
    assert "ingest suppliers add" in result.stderr
    assert "not found in cluster metadata" not in result.output  # no client warnings in the output
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr  # one line, no warnings
