"""Databases of the last releases (tests/fixtures/upgrade/), restored for upgrade tests, and
what they hold, table by table."""

from __future__ import annotations

import asyncio
import contextlib
import subprocess
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import asyncpg

from ingest.devstack.postgres_server import client_tool
from tests.support.databases import REPO_ROOT, scratch_database

# The releases whose dumps are kept, oldest first; the last is the previous release.
RELEASES = ("5050dcc", "cf7528c")
PREVIOUS_RELEASE = RELEASES[-1]
RELEASE_DUMPS = REPO_ROOT / "tests" / "fixtures" / "upgrade"

Rows = list[tuple[Any, ...]]


def release_dump(release: str) -> Path:
    """The dump a release made of a database it filled (README.md beside it)."""
    return RELEASE_DUMPS / f"release-{release}.sql"


def _restore(database_url: str, dump: Path) -> None:
    done = subprocess.run(
        [
            str(client_tool("psql")),
            "--quiet",
            "--no-psqlrc",
            "--set=ON_ERROR_STOP=1",
            f"--file={dump}",
            database_url,
        ],
        check=False,
        capture_output=True,
        text=True,
        timeout=120,
    )
    if done.returncode != 0:
        raise AssertionError(f"restoring {dump.name} failed: {done.stderr.strip()}")


@contextlib.asynccontextmanager
async def release_database(server_url: str, release: str) -> AsyncIterator[str]:
    """A new database holding a release's dump; dropped afterwards. The server must already
    have the cluster-wide roles the dump grants to (triage_reader)."""
    async with scratch_database(server_url) as url:
        await asyncio.to_thread(_restore, url, release_dump(release))
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
