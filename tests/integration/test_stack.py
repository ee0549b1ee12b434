"""The local stack (``ingest stack``) and the migrations (``ingest migrate``), for real."""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import asyncpg
import pytest
import pytest_asyncio
from aiokafka.admin import AIOKafkaAdminClient

from ingest.db.migrate import discover, migrate
from ingest.devstack import stack as local_stack
from ingest.settings import Settings
from tests.conftest import REPO_ROOT
from tests.support.cli import INGEST, run_cli
from tests.support.databases import scratch_database

ALL_VERSIONS = [m.version for m in discover()]


@pytest.fixture
def state_dir(stack: local_stack.StackAddresses) -> Path:
    """The local stack's state folder; skips when the suite runs against another stack."""
    folder = Settings().state_dir
    if "INGEST_STATE_DIR" not in os.environ:
        folder = REPO_ROOT / folder
    if local_stack.read_addresses(folder) != stack:
        pytest.skip(f"the stack under test is not the local one of {folder}")
    return folder


def _state_env(state_dir: Path) -> dict[str, str]:
    return {"INGEST_STATE_DIR": str(state_dir)}


# --------------------------------------------------------------------------------------
# ingest stack
# --------------------------------------------------------------------------------------


async def test_status_sees_both_components_ready(state_dir: Path) -> None:
    components = {c.name: c for c in await local_stack.status(state_dir)}
    assert set(components) - {"registry"} == {"kafka", "postgres"}
    assert all(c.ready and c.pid for c in components.values()), components

    result = await run_cli("stack", "status", env=_state_env(state_dir), within=180)
    assert result.code == 0
    assert "ready" in result.stdout and str(components["kafka"].address) in result.stdout


async def test_up_again_reuses_the_running_stack(
    state_dir: Path, stack: local_stack.StackAddresses
) -> None:
    pids = {c.name: c.pid for c in await local_stack.status(state_dir)}
    began = time.monotonic()
    result = await run_cli("stack", "up", env=_state_env(state_dir), within=180)
    elapsed = time.monotonic() - began

    assert result.code == 0, result.stderr
    assert elapsed < 30
    assert result.stdout.splitlines() == stack.shown_lines()  # passwords masked
    assert "already running" in result.stderr
    assert (state_dir / "stack.env").read_text().splitlines() == stack.env_lines()
    assert {c.name: c.pid for c in await local_stack.status(state_dir)} == pids


async def test_the_schema_registry_serves_the_confluent_api_and_is_listed(
    state_dir: Path, schema_registry_url: str
) -> None:
    assert schema_registry_url.endswith("/apis/ccompat/v7")
    components = {c.name: c for c in await local_stack.status(state_dir)}
    assert components["registry"].ready
    assert components["registry"].address == schema_registry_url
    url = f"{schema_registry_url}/schemas/ids/987654"
    async with aiohttp.ClientSession() as session, session.get(url) as response:
        assert response.status == 404
        assert (await response.json())["error_code"] == 40403


async def test_broker_does_not_create_topics_on_demand(
    kafka_admin: AIOKafkaAdminClient, token: str
) -> None:
    missing = f"triage.daily.{token}-never-created"
    for _ in range(2):  # metadata requests would auto-create it if that were enabled
        (topic,) = await kafka_admin.describe_topics([missing])
        assert topic["error_code"] == 3  # UNKNOWN_TOPIC_OR_PARTITION
        await asyncio.sleep(0.5)


async def test_a_taken_port_ends_in_one_clear_line(
    state_dir: Path, stack: local_stack.StackAddresses, tmp_path: Path
) -> None:
    taken = stack.kafka_bootstrap.rpartition(":")[2]
    result = await run_cli(
        "stack",
        "up",
        env={"INGEST_STATE_DIR": str(tmp_path / "state"), "INGEST_STACK_POSTGRES_PORT": taken},
        within=180,
    )
    assert result.code != 0 and result.stdout == ""
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith(f"error: port {taken} on 127.0.0.1 (INGEST_STACK_POSTGRES_PORT)")
    assert "Traceback" not in result.stderr


async def test_no_java_ends_in_one_clear_line(tmp_path: Path) -> None:
    state = tmp_path / "state"
    env = {"INGEST_STATE_DIR": str(state), "PATH": str(Path(INGEST).parent), "JAVA_HOME": ""}
    try:
        result = await run_cli("stack", "up", env=env, within=180)
    finally:
        await local_stack.down(state)  # Postgres may have started before Kafka failed
    assert result.code != 0 and result.stdout == ""
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert errors == [errors[0]] and "java not found on PATH" in errors[0]
    assert "Traceback" not in result.stderr


# --------------------------------------------------------------------------------------
# migrations
# --------------------------------------------------------------------------------------


async def test_every_migration_is_recorded_once(pg: asyncpg.Connection, db_url: str) -> None:
    rows = await pg.fetch("SELECT version, checksum FROM triage.schema_migrations ORDER BY 1")
    assert [r["version"] for r in rows] == ALL_VERSIONS
    assert {r["version"]: r["checksum"] for r in rows} == {
        m.version: m.checksum for m in discover()
    }
    assert await migrate(db_url) == []

    result = await run_cli("migrate", env={"INGEST_DATABASE_URL": db_url}, within=180)
    assert result.code == 0, result.stderr
    assert "nothing applied" in result.stdout


@pytest_asyncio.fixture(loop_scope="session")
async def empty_database(stack: local_stack.StackAddresses) -> AsyncIterator[str]:
    """A brand-new database on the stack's server, dropped after the test."""
    async with scratch_database(stack.owner_database_url) as url:
        yield url


async def test_concurrent_migrations_do_not_race(empty_database: str) -> None:
    in_process = await asyncio.gather(*(migrate(empty_database) for _ in range(3)))
    applied = sorted(v for batch in in_process for v in batch)
    assert applied == ALL_VERSIONS  # each version applied by exactly one caller

    conn = await asyncpg.connect(empty_database)
    try:
        versions = await conn.fetch("SELECT version FROM triage.schema_migrations ORDER BY 1")
        assert [r["version"] for r in versions] == ALL_VERSIONS
    finally:
        await conn.close()


async def test_two_migrate_processes_on_a_new_database(empty_database: str) -> None:
    env = {"INGEST_DATABASE_URL": empty_database, "INGEST_MIGRATION_DATABASE_URL": empty_database}
    results = await asyncio.gather(
        run_cli("migrate", env=env, within=180), run_cli("migrate", env=env, within=180)
    )
    assert [r.code for r in results] == [0, 0], results
    applied = sorted(
        int(line.split()[1].split("_")[0])
        for r in results
        for line in r.stdout.splitlines()
        if line.startswith("applied ")
    )
    assert applied == ALL_VERSIONS
