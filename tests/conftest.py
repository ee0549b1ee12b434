"""Shared fixtures of the whole suite.

Sections (add new fixtures to the section they belong to, or a new section at the end):

1. markers     -- tests under tests/unit are marked ``unit``, under tests/integration
                  ``integration`` (pytest_collection_modifyitems).
2. event loop  -- one asyncio loop for the whole session (pyproject: asyncio_mode=auto,
                  fixture and test loop scope = session), so session fixtures can hold
                  connections.
3. stack       -- ``stack``: the addresses of the real Kafka broker and Postgres server.
                  From INGEST_KAFKA_BOOTSTRAP + INGEST_DATABASE_URL when both are set (as
                  ``make test`` does), else ``ingest stack up`` once per session.
4. isolation   -- ``session_database``: a database of this pytest session (created on the
                  stack's server, migrated, dropped at the end) so concurrent runs against one
                  shared stack never see each other's rows; ``token``: unique lower-case id per
                  test; ``settings``: Settings isolated by that token; ``db_url``: the session
                  database's URL, emptied before the test; ``pg``: an asyncpg connection to it.
5. kafka       -- ``kafka_admin``: a session AIOKafkaAdminClient; ``create_topics``: creates
                  topics for one test (waits until they have leaders; deletes them after).
"""

from __future__ import annotations

import os
import secrets
from collections.abc import AsyncIterator
from pathlib import Path
from urllib.parse import urlsplit

import asyncpg
import pytest
import pytest_asyncio
from aiokafka.admin import AIOKafkaAdminClient

from ingest.db.migrate import migrate
from ingest.devstack import stack as local_stack
from ingest.devstack.apicurio import ensure_registry
from ingest.devstack.paths import StackPaths
from ingest.settings import Settings
from tests.support.databases import (
    TEST_DB_PREFIX,
    drop_stale_test_databases,
    new_database_name,
    with_database,
)
from tests.support.kafka import CreateTopics, create_kafka_topics
from tests.support.settings import isolated_settings
from tests.support.stack_state import local_state_dir

TESTS_DIR = Path(__file__).resolve().parent
REPO_ROOT = TESTS_DIR.parent

# ======================================================================================
# 1. markers
# ======================================================================================

_FOLDER_MARKERS = {"unit": pytest.mark.unit, "integration": pytest.mark.integration}


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark each test by the folder it lives in (tests/unit -> unit, tests/integration ->
    integration), so ``-m unit`` / ``-m "not integration"`` select without decorators."""
    for item in items:
        try:
            relative = item.path.resolve().relative_to(TESTS_DIR)
        except ValueError:
            continue
        marker = _FOLDER_MARKERS.get(relative.parts[0]) if len(relative.parts) > 1 else None
        if marker is not None:
            item.add_marker(marker)


# ======================================================================================
# 2. event loop: configured in pyproject.toml (one loop per session); nothing to do here.
# ======================================================================================

# ======================================================================================
# 3. stack
# ======================================================================================


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def stack() -> local_stack.StackAddresses:
    """Addresses of the real broker and database, the same for the whole session."""
    bootstrap = os.environ.get("INGEST_KAFKA_BOOTSTRAP")
    database_url = os.environ.get("INGEST_DATABASE_URL")
    if bootstrap and database_url:
        registry = os.environ.get("INGEST_SCHEMA_REGISTRY_URL") or None
        owner = os.environ.get("INGEST_MIGRATION_DATABASE_URL") or None
        return local_stack.StackAddresses(bootstrap, database_url, registry, owner)
    # idempotent: reuses a running stack; tests migrate their own session database
    result = await local_stack.up(local_state_dir(), apply_migrations=False)
    return result.addresses


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def schema_registry_url(stack: local_stack.StackAddresses) -> str:
    """The Confluent-compatible URL of a real schema registry (Apicurio Registry): the
    stack's (``ingest stack up --registry``), else the local stack's, started now."""
    if stack.schema_registry_url:
        return stack.schema_registry_url
    return await ensure_registry(StackPaths.of(local_state_dir()))


# ======================================================================================
# 4. isolation: one token per test, a clean database per test
# ======================================================================================


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def session_database(stack: local_stack.StackAddresses) -> AsyncIterator[str]:
    """URL of a fresh, migrated database private to this pytest session, as the owner role
    (which may create databases and migrate). Falls back to the stack's own database when the
    role may not CREATE DATABASE."""
    name = new_database_name()
    admin = await asyncpg.connect(stack.owner_database_url)
    try:
        await drop_stale_test_databases(admin)
        await admin.execute(f'CREATE DATABASE "{name}"')
    except asyncpg.InsufficientPrivilegeError:
        await admin.close()
        await migrate(stack.owner_database_url)
        yield stack.owner_database_url
        return
    url = with_database(stack.owner_database_url, name)
    try:
        await migrate(url)
        yield url
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


@pytest.fixture
def token() -> str:
    """A unique lower-case id for this test: 't' + 8 hex digits (valid in supplier ids,
    topic names and group ids). Name suppliers f"{token}-xyz"."""
    return "t" + secrets.token_hex(4)


@pytest_asyncio.fixture(loop_scope="session")
async def db_url(session_database: str) -> str:
    """The session database's URL, every ``triage`` table but schema_migrations emptied.

    Transactions another test left open (a killed or leaked consumer) would block the
    TRUNCATE: in the session's private database they are terminated first."""
    conn = await asyncpg.connect(session_database)
    try:
        if urlsplit(session_database).path.startswith(f"/{TEST_DB_PREFIX}"):
            await conn.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid() "
                "AND state LIKE 'idle in transaction%'"
            )
        await conn.execute("SET lock_timeout = '30s'")
        tables = await conn.fetch(
            "SELECT format('%I.%I', schemaname, tablename) AS name FROM pg_tables "
            "WHERE schemaname = 'triage' AND tablename <> 'schema_migrations'"
        )
        if tables:
            names = ", ".join(row["name"] for row in tables)
            await conn.execute(f"TRUNCATE {names} RESTART IDENTITY CASCADE")
    finally:
        await conn.close()
    return session_database


@pytest_asyncio.fixture(loop_scope="session")
async def pg(db_url: str) -> AsyncIterator[asyncpg.Connection]:
    """An asyncpg connection to the (clean) database, closed after the test."""
    conn = await asyncpg.connect(db_url)
    try:
        yield conn
    finally:
        await conn.close()


@pytest.fixture
def settings(stack: local_stack.StackAddresses, db_url: str, token: str) -> Settings:
    """Settings isolated to this test: its own topics (triage.daily.<token>-*), DLQ topic,
    consumer group; metrics on an ephemeral port; clean database."""
    return isolated_settings(stack.kafka_bootstrap, db_url, token)


# ======================================================================================
# 5. kafka
# ======================================================================================


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def kafka_admin(stack: local_stack.StackAddresses) -> AsyncIterator[AIOKafkaAdminClient]:
    """An admin client on the real broker, shared by the session."""
    admin = AIOKafkaAdminClient(bootstrap_servers=stack.kafka_bootstrap)
    await admin.start()
    try:
        yield admin
    finally:
        await admin.close()


@pytest_asyncio.fixture(loop_scope="session")
async def create_topics(kafka_admin: AIOKafkaAdminClient) -> AsyncIterator[CreateTopics]:
    """``await create_topics(name, ..., partitions=1)`` -> names; deleted after the test."""
    created: list[str] = []

    async def _create(*names: str, partitions: int = 1) -> list[str]:
        done = await create_kafka_topics(kafka_admin, dict.fromkeys(names, partitions))
        created.extend(done)
        return done

    yield _create
    if created:
        await kafka_admin.delete_topics(created)
