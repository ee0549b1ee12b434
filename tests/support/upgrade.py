"""A database of the previous release (tests/fixtures/upgrade/), restored for upgrade tests,
and what it holds, table by table."""

from __future__ import annotations

import asyncio
import contextlib
import subprocess
from collections.abc import AsyncIterator
from typing import Any

import asyncpg

from ingest.devstack.postgres_server import client_tool
from tests.support.databases import REPO_ROOT, scratch_database

PREVIOUS_RELEASE = "5050dcc"
RELEASE_DUMP = REPO_ROOT / "tests" / "fixtures" / "upgrade" / f"release-{PREVIOUS_RELEASE}.sql"

Rows = list[tuple[Any, ...]]


def _restore(database_url: str) -> None:
    done = subprocess.run(
        [
            str(client_tool("psql")),
            "--quiet",
            "--no-psqlrc",
            "--set=ON_ERROR_STOP=1",
            f"--file={RELEASE_DUMP}",
            database_url,
        ],
        check=False,
        capture_output=True,
        text=True,
        timeout=120,
    )
    if done.returncode != 0:
        raise AssertionError(f"restoring {RELEASE_DUMP.name} failed: {done.stderr.strip()}")


@contextlib.asynccontextmanager
async def previous_release_database(server_url: str) -> AsyncIterator[str]:
    """A new database holding the previous release's dump; dropped afterwards. The server
    must already have the cluster-wide roles the dump grants to (triage_reader)."""
    async with scratch_database(server_url) as url:
        await asyncio.to_thread(_restore, url)
        yield url


async def relations(conn: asyncpg.Connection, kind: str) -> dict[str, list[str]]:
    """Tables ('r') or views ('v') of schema triage, each with its column names in order."""
    found = await conn.fetch(
        "SELECT c.relname, array_agg(a.attname ORDER BY a.attnum) AS columns"
        " FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
        " JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped"
        " WHERE n.nspname = 'triage' AND c.relkind::text = $1 GROUP BY c.relname",
        kind,
    )
    return {row["relname"]: list(row["columns"]) for row in found}


async def rows_of(conn: asyncpg.Connection, relation: str, columns: list[str]) -> Rows:
    """Every row of a relation, these columns only, in a stable order."""
    listed = ", ".join(f'"{c}"' for c in columns)
    found = await conn.fetch(f'SELECT {listed} FROM triage."{relation}"')
    return sorted((tuple(row) for row in found), key=repr)
