"""The schema reference ``ingest/db/schema.sql``: what the migrations build in an empty
database, as ``pg_dump --schema-only`` prints it, normalised (no session settings, owners or
per-run tokens), so a diff shows exactly what a migration changed.

Regenerate it (with the local stack up, or INGEST_DATABASE_URL naming a server where the role
may create databases) and commit the result::

    .venv/bin/python -m tests.support.schema_snapshot
"""

from __future__ import annotations

import asyncio
import re
import subprocess
import sys

from ingest.db.migrate import migrate
from ingest.devstack.postgres_server import client_tool
from ingest.settings import Settings
from tests.support.databases import REPO_ROOT, scratch_database

SNAPSHOT = REPO_ROOT / "ingest" / "db" / "schema.sql"
REGENERATE = ".venv/bin/python -m tests.support.schema_snapshot"
HEADER = (
    "-- The schema the migrations in ingest/db/migrations/ build in an empty database\n"
    "-- (pg_dump --schema-only --no-owner, normalised). Generated: do not edit; after adding a\n"
    f"-- migration, regenerate with `{REGENERATE}` and commit.\n"
)
_DROPPED = re.compile(
    r"^(\\restrict |\\unrestrict |SET |SELECT pg_catalog\.set_config\(|-- Dumped (from|by) )"
)


def pg_dump(database_url: str, *options: str) -> str:
    """``pg_dump`` of the stack's PostgreSQL (the server's version) on a database."""
    done = subprocess.run(
        [str(client_tool("pg_dump")), *options, database_url],
        check=False,
        capture_output=True,
        text=True,
        timeout=120,
    )
    if done.returncode != 0:
        raise RuntimeError(f"pg_dump failed: {done.stderr.strip()}")
    return done.stdout


def normalise(dump: str) -> str:
    """The dump without session settings or per-run lines; one blank line between objects."""
    kept = [line.rstrip() for line in dump.splitlines() if not _DROPPED.match(line)]
    text = "\n".join(kept)
    text = text.replace("--\n-- PostgreSQL database dump\n--\n", "")
    text = text.replace("--\n-- PostgreSQL database dump complete\n--\n", "")
    text = re.sub(r"\n{3,}", "\n\n", text).strip()
    # default privileges name the role that ran the migrations (the stack's owner role or not)
    text = re.sub(r"(DEFAULT PRIVILEGES FOR ROLE )\S+ ", r"\1<migrator> ", text)
    return HEADER + "\n" + text + "\n"


# The monthly partitions of triage.daily_request_revisions (and, in an upgraded database, the
# partition holding the rows stored before partitioning) depend on the dates stored and on the
# day the database was upgraded, not on the migrations: they are left out of the schema (the
# partitioned table, its indexes and its default partition are in it).
DATED_PARTITIONS = (
    "triage.daily_request_revisions_[0-9]*",
    "triage.daily_request_revisions_before_*",
)


def schema_of(database_url: str) -> str:
    """The normalised schema of a database, its dated partitions left out."""
    excluded = [f"--exclude-table={pattern}" for pattern in DATED_PARTITIONS]
    return normalise(pg_dump(database_url, "--schema-only", "--no-owner", *excluded))


async def migrated_schema(server_url: str) -> str:
    """The normalised schema the migrations build in a new, empty database of this server."""
    async with scratch_database(server_url) as url:
        await migrate(url)
        return await asyncio.to_thread(schema_of, url)


def main() -> None:
    schema = asyncio.run(migrated_schema(Settings().migration_database()))
    SNAPSHOT.write_text(schema)
    print(f"wrote {SNAPSHOT.relative_to(REPO_ROOT)} ({len(schema.splitlines())} lines)")


if __name__ == "__main__":
    sys.exit(main())
