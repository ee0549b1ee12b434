"""The operations guide's commands, run as printed on the plain stack (the guide's supplier
``askmygp`` scoped to the test): a supplier's events rejected while it was unregistered are
stored after it is registered (its thresholds example) and they are replayed (the replay
example); ``ingest status`` then shows it."""

from __future__ import annotations

import json
from pathlib import Path

import asyncpg
import pytest

from ingest.contract.model import topic_for
from ingest.settings import Settings
from tests.support.cli import cli_env
from tests.support.doc_examples import ShellResult, commands, example, run_shell
from tests.support.events import event, yesterday
from tests.support.kafka import CreateTopics, produce_events
from tests.support.service import running, wait_consumed

pytestmark = pytest.mark.integration


async def run_example(
    name: str, supplier: str, settings: Settings, cwd: Path, *, first: int = 0, last: int = 99
) -> list[ShellResult]:
    """Commands first..last of the example, each as printed, for the test's supplier."""
    results = []
    for command in commands(example(name).text)[first : last + 1]:
        results.append(
            await run_shell(command.replace("askmygp", supplier), cli_env(settings), cwd)
        )
    return results


async def test_an_unregistered_supplier_s_events_are_stored_after_registration_and_replay(
    settings: Settings, token: str, pg: asyncpg.Connection, create_topics: CreateTopics,
    tmp_path: Path,
) -> None:  # fmt: skip
    supplier = f"{token}-askmygp"
    await create_topics(topic_for(supplier), settings.dlq_topic, partitions=3)
    days = [yesterday(n) for n in (3, 2, 1)]
    async with running(settings):
        await produce_events(settings, [event(supplier, "A81001", day) for day in days])
        await wait_consumed(pg, settings, [topic_for(supplier)])
        rejected = await pg.fetchval(
            "SELECT count(*) FROM triage.rejected_events WHERE reason = 'unknown_supplier'"
        )
        assert rejected == len(days)

        registered = await run_example("operations-thresholds", supplier, settings, tmp_path)
        listed, replayed = await run_example(
            "operations-replay", supplier, settings, tmp_path, last=1
        )
        await wait_consumed(pg, settings, [topic_for(supplier)])
        (outcomes,) = await run_example("operations-replay", supplier, settings, tmp_path, first=2)

    for result in [*registered, listed, replayed, outcomes]:
        assert result.code == 0, result.output
    assert "warn after 30h" in registered[1].stdout, registered[1].output
    assert listed.stdout.count("unknown_supplier") >= len(days), listed.output
    assert f"{len(days)} rejected events re-submitted" in replayed.stdout, replayed.output
    assert "stored" in outcomes.stdout, outcomes.output
    stored = await pg.fetch(
        "SELECT activity_date FROM triage.daily_requests WHERE supplier_id = $1"
        " ORDER BY activity_date",
        supplier,
    )
    assert [r["activity_date"] for r in stored] == days

    status, as_json, strict = await run_example("operations-status", supplier, settings, tmp_path)
    for result in (status, as_json, strict):
        assert result.code == 0, result.output  # the supplier is ok: it reported just now
        assert supplier in result.stdout, result.output
    (shown,) = json.loads(as_json.stdout)["suppliers"]
    assert (shown["supplier_id"], shown["status"]) == (supplier, "ok")
    assert shown["warn_after_seconds"] == 30 * 3600  # as the thresholds example set it
