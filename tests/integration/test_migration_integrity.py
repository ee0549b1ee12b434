"""Which migrations are applied cannot be forged with the service's credentials, and an
applied migration whose file changed stops migrate and the service (security review)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from urllib.parse import urlsplit

import asyncpg
import pytest
import pytest_asyncio

from ingest.db.migrate import MigrationChangedError, apply_migrations, discover, migrate
from ingest.devstack import stack as local_stack
from tests.support.cli import run_cli
from tests.support.databases import scratch_database, with_database

pytestmark = [pytest.mark.integration, pytest.mark.security]


@pytest_asyncio.fixture(loop_scope="session")
async def migrated(stack: local_stack.StackAddresses) -> AsyncIterator[tuple[str, str]]:
    """A new database migrated by its owner: (owner URL, service URL)."""
    async with scratch_database(stack.owner_database_url) as owner_url:
        await migrate(owner_url)
        yield owner_url, with_database(stack.database_url, urlsplit(owner_url).path[1:])


@pytest.mark.slow
async def test_the_service_role_cannot_forge_which_migrations_are_applied(
    migrated: tuple[str, str],
) -> None:
    """Reproduction: with the service's credentials, a row for a future migration was
    inserted into triage.schema_migrations (so `ingest migrate` would skip it) and an applied
    one deleted. Now the service role may only read that table."""
    _, service_url = migrated
    conn = await asyncpg.connect(service_url)
    try:
        future = max(m.version for m in discover()) + 1
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await conn.execute(
                "INSERT INTO triage.schema_migrations (version, name, checksum)"
                " VALUES ($1, 'skipped', 'x')",
                future,
            )
        for statement in (
            "DELETE FROM triage.schema_migrations WHERE version = 1",
            "UPDATE triage.schema_migrations SET checksum = 'x' WHERE version = 1",
            "TRUNCATE triage.schema_migrations",
        ):
            with pytest.raises(asyncpg.InsufficientPrivilegeError):
                await conn.execute(statement)
        assert await apply_migrations(conn) == []  # reading what is applied still works
    finally:
        await conn.close()


@pytest.mark.slow
async def test_an_applied_migration_whose_checksum_differs_stops_migrate_and_the_service(
    migrated: tuple[str, str],
) -> None:
    """Reproduction: the recorded checksum of an applied migration no longer matched its file
    (the file was edited after release, or the record altered); `ingest migrate` and the
    service carried on regardless. Now both refuse, in one line naming the migration."""
    owner_url, service_url = migrated
    first = discover()[0]
    owner = await asyncpg.connect(owner_url)
    try:
        await owner.execute(
            "UPDATE triage.schema_migrations SET checksum = 'edited' WHERE version = $1",
            first.version,
        )
    finally:
        await owner.close()

    result = await run_cli("migrate", env={"INGEST_DATABASE_URL": owner_url})
    assert result.code == 2, result.output
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert f"{first.version:04d}_{first.name}" in result.stderr
    assert "Traceback" not in result.output

    conn = await asyncpg.connect(service_url)
    try:
        with pytest.raises(MigrationChangedError, match=f"{first.version:04d}_{first.name}"):
            await apply_migrations(conn)  # what the service runs at start
    finally:
        await conn.close()
