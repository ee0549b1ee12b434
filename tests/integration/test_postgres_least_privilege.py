"""Least privilege: the local stack's PostgreSQL trusted every local connection and every
command connected as the superuser, so any local user could run a shell command through
``COPY ... TO PROGRAM``. Now: passwords only (SCRAM-SHA-256) kept in owner-only files, the
migrations run as an owner role, the service and commands as a role that may only read and
write the tables."""

from __future__ import annotations

import json
import os
import shutil
import stat
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path
from urllib.parse import urlsplit

import asyncpg
import pytest
import pytest_asyncio

from ingest.db.migrate import apply_migrations, migrate
from ingest.devstack import stack as local_stack
from ingest.devstack.paths import StackPaths
from ingest.devstack.postgres_roles import OWNER_ROLE, SERVICE_ROLE, role_url
from ingest.errors import MigrationPrivilegeError
from ingest.settings import Settings
from tests.conftest import REPO_ROOT
from tests.support.databases import scratch_database, with_database

pytestmark = pytest.mark.security


@pytest.fixture
def local(stack: local_stack.StackAddresses) -> LocalStack:
    """The local stack under test (its state folder and stack.env); skips on another stack."""
    folder = Settings().state_dir
    if "INGEST_STATE_DIR" not in os.environ:
        folder = REPO_ROOT / folder
    addresses = local_stack.read_addresses(folder)
    if addresses is None or addresses.database_url != stack.database_url:
        pytest.skip(f"the stack under test is not the local one of {folder}")
    return LocalStack(StackPaths.of(folder), addresses)


class LocalStack:
    """The local stack's files and the addresses in its stack.env."""

    def __init__(self, paths: StackPaths, addresses: local_stack.StackAddresses) -> None:
        self.paths = paths
        self.addresses = addresses

    @property
    def port(self) -> int:
        port = urlsplit(self.addresses.database_url).port
        assert port is not None
        return port

    def url(self, user: str, password: str | None, database: str = "triage") -> str:
        who = f"{user}:{password}" if password is not None else user
        return f"postgresql://{who}@127.0.0.1:{self.port}/{database}"


@pytest_asyncio.fixture(loop_scope="session")
async def as_service(local: LocalStack) -> AsyncIterator[asyncpg.Connection]:
    """A connection with the URL the service and commands get from stack.env."""
    conn = await asyncpg.connect(local.addresses.database_url)
    try:
        yield conn
    finally:
        await conn.close()


@pytest.mark.parametrize("password", [None, "", "wrong"])
async def test_no_role_logs_in_without_its_password(
    local: LocalStack, password: str | None
) -> None:
    for user in ("postgres", OWNER_ROLE, SERVICE_ROLE):
        with pytest.raises(asyncpg.InvalidPasswordError):
            await asyncpg.connect(local.url(user, password, "postgres"))


def test_passwords_are_kept_in_files_only_their_owner_reads(local: LocalStack) -> None:
    secrets_dir = local.paths.secrets
    assert stat.S_IMODE(secrets_dir.stat().st_mode) == 0o700
    files = sorted(p.name for p in secrets_dir.glob("postgres-*.password"))
    assert files == [
        "postgres-owner.password",
        "postgres-service.password",
        "postgres-superuser.password",
    ]
    for name in [*files, "../stack.env"]:
        assert stat.S_IMODE((secrets_dir / name).stat().st_mode) == 0o600, name
    hba = (local.paths.pg_data / "pg_hba.conf").read_text()
    methods = {line.split()[-1] for line in hba.splitlines() if line and line[0] != "#"}
    assert methods == {"scram-sha-256"}


def test_commands_use_the_service_role_and_migrations_the_owner(local: LocalStack) -> None:
    settings = Settings(state_dir=local.paths.root)
    assert urlsplit(settings.database()).username == SERVICE_ROLE
    assert urlsplit(settings.migration_database()).username == OWNER_ROLE
    for line in local.addresses.shown_lines():  # what `ingest stack up` prints
        assert "password" not in line
        assert (urlsplit(line.split("=", 1)[1]).password or "***") == "***"


async def test_the_service_role_cannot_run_a_program_or_write_a_server_file(
    as_service: asyncpg.Connection,
) -> None:
    role = await as_service.fetchrow(
        "SELECT rolsuper, rolcreaterole, rolcreatedb FROM pg_roles WHERE rolname = current_user"
    )
    assert role is not None and not any(role.values())
    with pytest.raises(asyncpg.InsufficientPrivilegeError, match="external program"):
        await as_service.execute("COPY (SELECT 1) TO PROGRAM 'touch /tmp/pwned'")
    with pytest.raises(asyncpg.InsufficientPrivilegeError, match="to a file"):
        await as_service.execute(f"COPY (SELECT 1) TO '{tempfile.gettempdir()}/pwned'")


async def test_the_service_role_reads_and_writes_but_cannot_change_the_schema(
    as_service: asyncpg.Connection,
) -> None:
    transaction = as_service.transaction()
    await transaction.start()
    try:  # rolled back: the stack's database keeps nothing of this
        await as_service.execute(
            "INSERT INTO triage.suppliers (supplier_id, name) VALUES ('lp-probe', 'probe')"
        )
        assert await as_service.fetchval("SELECT count(*) FROM triage.suppliers") >= 1
        await as_service.execute(
            "UPDATE triage.suppliers SET name = 'x' WHERE supplier_id = 'lp-probe'"
        )
        await as_service.execute("DELETE FROM triage.suppliers WHERE supplier_id = 'lp-probe'")
    finally:
        await transaction.rollback()
    with pytest.raises(asyncpg.InsufficientPrivilegeError):
        await as_service.execute("CREATE TABLE triage.probe (a int)")
    with pytest.raises(asyncpg.InsufficientPrivilegeError):
        await as_service.execute("DROP TABLE triage.rejected_events")


async def test_the_owner_role_owns_every_object_of_the_schema(local: LocalStack) -> None:
    conn = await asyncpg.connect(local.addresses.owner_database_url)
    try:
        owners = await conn.fetch(
            "SELECT DISTINCT pg_get_userbyid(c.relowner) AS owner FROM pg_class c "
            "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'triage' "
            "UNION SELECT pg_get_userbyid(nspowner) FROM pg_namespace WHERE nspname = 'triage'"
        )
        superuser = await conn.fetchval(
            "SELECT rolsuper FROM pg_roles WHERE rolname = $1", OWNER_ROLE
        )
    finally:
        await conn.close()
    assert [r["owner"] for r in owners] == [OWNER_ROLE]
    assert superuser is False


async def test_the_service_role_needs_no_ddl_when_nothing_is_pending_and_says_so_otherwise(
    local: LocalStack,
) -> None:
    async with scratch_database(local.addresses.owner_database_url) as owner_url:
        service_url = with_database(local.addresses.database_url, urlsplit(owner_url).path[1:])
        conn = await asyncpg.connect(service_url)
        try:
            with pytest.raises(MigrationPrivilegeError, match="ingest migrate"):
                await apply_migrations(conn)  # empty database: every migration pending
            await migrate(owner_url)
            assert await apply_migrations(conn) == []
        finally:
            await conn.close()


@pytest.mark.slow
async def test_a_new_server_starts_with_passwords_kept_out_of_process_arguments() -> None:
    state = Path(tempfile.mkdtemp(prefix="triage-pg-"))
    try:
        assert await local_stack.postgres_up(state)
        paths = StackPaths.of(state)
        ports = json.loads(paths.ports.read_text())
        superuser = (paths.secrets / "postgres-superuser.password").read_text().strip()
        assert superuser not in paths.pg_ctl_log.read_text()  # every command run is logged
        assert not list(paths.pg.glob("*pwfile*"))
        conn = await asyncpg.connect(role_url(paths, ports["postgres"], SERVICE_ROLE))
        await conn.close()
        with pytest.raises(asyncpg.InvalidPasswordError):
            await asyncpg.connect(f"postgresql://postgres@127.0.0.1:{ports['postgres']}/postgres")
    finally:
        await local_stack.postgres_down(state)
        shutil.rmtree(state, ignore_errors=True)
