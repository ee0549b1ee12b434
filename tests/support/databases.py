"""Throw-away PostgreSQL databases on the test server (named so a killed session's are found
and dropped by the next one)."""

from __future__ import annotations

import contextlib
import secrets
import time
from collections.abc import AsyncIterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import asyncpg

REPO_ROOT = Path(__file__).resolve().parents[2]
TEST_DB_PREFIX = "triage_test_"
STALE_TEST_DB_SECONDS = 6 * 3600


def with_database(url: str, database: str) -> str:
    """The same server URL with another database name (path)."""
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{database}"))


def new_database_name() -> str:
    """A unique test database name carrying its creation time."""
    return f"{TEST_DB_PREFIX}{int(time.time())}_{secrets.token_hex(3)}"


async def drop_stale_test_databases(conn: asyncpg.Connection) -> None:
    """Databases left by killed sessions (name carries its creation time) are dropped."""
    rows = await conn.fetch(
        "SELECT datname FROM pg_database WHERE datname LIKE $1", TEST_DB_PREFIX + "%"
    )
    for row in rows:
        created = row["datname"][len(TEST_DB_PREFIX) :].split("_")[0]
        if created.isdigit() and time.time() - int(created) > STALE_TEST_DB_SECONDS:
            with contextlib.suppress(asyncpg.PostgresError):
                await conn.execute(f'DROP DATABASE IF EXISTS "{row["datname"]}" WITH (FORCE)')


@contextlib.asynccontextmanager
async def scratch_database(server_url: str) -> AsyncIterator[str]:
    """The URL of a new, empty database on the server of ``server_url``; dropped afterwards."""
    name = new_database_name()
    admin = await asyncpg.connect(server_url)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
        try:
            yield with_database(server_url, name)
        finally:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()
