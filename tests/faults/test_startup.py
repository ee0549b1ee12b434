"""Start-up faults: the consumer process starts into a broken world and waits it out.

* Postgres down at start: the process stays up, ``/healthz`` 200, ``/readyz`` 503; once the
  server is back it migrates, joins, becomes ready and stores the backlog (= the oracle).
* Kafka down at start: the same, with the broker.
* Migrations already applied by another process: no error, nothing applied twice; and three
  processes starting together on an empty database (they race to migrate it) all come up,
  each migration applied exactly once.
* Postgres going away while the consumer is idle: ``/readyz`` drops to 503 within seconds
  (the idle probe), and comes back.
"""

from __future__ import annotations

import re

import asyncpg
import pytest

from ingest.db.migrate import discover, migrate
from tests.faults.conftest import (
    ARTIFACTS,
    PrivateStack,
    create_database,
    drop_database,
    settings_for,
)
from tests.faults.driver import (
    ConsumerProcess,
    Fleet,
    consumer_env,
    create_topics,
    http_status,
    produce,
    wait_ready,
    watch_readiness,
)
from tests.faults.scenario import Scenario
from tests.faults.traffic import Outgoing
from tests.support.service import wait_consumed

pytestmark = [pytest.mark.faults, pytest.mark.integration]

DOWN_SECONDS = 6.0


async def _backlog(scenario: Scenario, seed: int) -> list[Outgoing]:
    """Suppliers registered, topics created, a small backlog of mixed traffic produced."""
    traffic = await scenario.prepare(seed, partitions=3)
    records = traffic.mixed(practice_days=300, bad_events=150)
    await produce(scenario.settings, records)
    return records


async def _stores_the_backlog(scenario: Scenario, records: list[Outgoing], fleet: Fleet) -> None:
    pg = await scenario.reconnect()  # the server may have been restarted since
    await wait_consumed(
        pg, scenario.settings, scenario.traffic.topics, timeout=60, alive=fleet.assert_alive
    )
    (await scenario.verify(await scenario.history(records))).assert_clean()


async def _waits_not_ready(proc: ConsumerProcess) -> None:
    """Alive, healthy, not ready, for DOWN_SECONDS."""
    seen = (await watch_readiness([proc], DOWN_SECONDS))[proc.name]
    assert proc.alive, proc.log()[-3000:]
    assert seen[503] > 0 and set(seen) <= {503, None}, seen
    assert await http_status(f"http://127.0.0.1:{proc.port}/healthz") == 200


async def test_postgres_down_at_start_waits_not_ready_then_recovers(
    scenario: Scenario,
) -> None:
    private_stack, fleet = scenario.stack, scenario.fleet()
    records = await _backlog(scenario, seed=101)
    await private_stack.stop_postgres()
    try:
        proc = await fleet.spawn(wait_joined=False)
        await _waits_not_ready(proc)
        assert "Postgres unreachable" in proc.log()
    finally:
        await private_stack.start_postgres()
    await wait_ready([proc], 60)
    await _stores_the_backlog(scenario, records, fleet)
    assert await proc.terminate() == 0


async def test_kafka_down_at_start_waits_not_ready_then_recovers(
    scenario: Scenario,
) -> None:
    private_stack, fleet = scenario.stack, scenario.fleet()
    records = await _backlog(scenario, seed=102)
    await private_stack.stop_kafka()
    try:
        proc = await fleet.spawn(wait_joined=False)
        await _waits_not_ready(proc)
        assert "Kafka unreachable" in proc.log()
    finally:
        await private_stack.start_kafka()
    await wait_ready([proc], 90)
    await _stores_the_backlog(scenario, records, fleet)
    assert await proc.terminate() == 0


async def test_postgres_gone_while_idle_is_reported_not_ready(
    scenario: Scenario,
) -> None:
    private_stack, fleet = scenario.stack, scenario.fleet()
    records = await _backlog(scenario, seed=103)
    proc = await fleet.spawn()
    await wait_ready([proc], 60)
    await _stores_the_backlog(scenario, records, fleet)
    await private_stack.stop_postgres()
    try:
        seen = (await watch_readiness([proc], 12))[proc.name]
        assert seen[503] > 0, f"still ready with Postgres gone: {seen}"
    finally:
        await private_stack.start_postgres()
    await wait_ready([proc], 30)
    assert await proc.terminate() == 0


_APPLIED_RE = re.compile(r"applied migration (\d+)_")


async def test_migrations_applied_by_another_process_are_no_error(
    fault_token: str, private_stack: PrivateStack
) -> None:
    versions = [m.version for m in discover()]
    # (a) another process migrated the database already
    name_a = f"faults_{fault_token}_a"
    url_a = await create_database(private_stack, name_a, migrated=False)
    # (b) an empty database that three consumers start on at the same moment
    name_b = f"faults_{fault_token}_b"
    url_b = await create_database(private_stack, name_b, migrated=False)
    fleets: list[Fleet] = []
    try:
        assert await migrate(url_a) == versions  # "another process"
        for url, token, consumers in ((url_a, f"{fault_token}a", 1), (url_b, f"{fault_token}b", 3)):
            settings = settings_for(private_stack, url, token)
            await create_topics(settings, {f"triage.daily.{token}-solo": 3})
            fleet = Fleet(
                settings, consumer_env(settings), ARTIFACTS / token, private_stack.postgres_port
            )
            fleets.append(fleet)
            procs = [await fleet.spawn(wait_joined=False) for _ in range(consumers)]
            await wait_ready(procs, 60)
            logs = [p.log() for p in procs]
            assert not any("Traceback" in log or "ERROR consumers" in log for log in logs), logs
            applied = [int(v) for log in logs for v in _APPLIED_RE.findall(log)]
            assert sorted(applied) == ([] if url == url_a else versions)
            conn = await asyncpg.connect(url)
            try:
                rows = await conn.fetch("SELECT version FROM triage.schema_migrations ORDER BY 1")
            finally:
                await conn.close()
            assert [r[0] for r in rows] == versions
            assert set((await fleet.stop_all()).values()) == {0}
    finally:
        for fleet in fleets:
            await fleet.close()
        await drop_database(private_stack, name_a)
        await drop_database(private_stack, name_b)
