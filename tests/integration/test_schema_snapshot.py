"""ingest/db/schema.sql is what the migrations build: a migration added without regenerating
it fails here, with the command that regenerates it."""

from __future__ import annotations

import difflib

from ingest.devstack import stack as local_stack
from tests.support.schema_snapshot import REGENERATE, SNAPSHOT, migrated_schema


async def test_the_migrations_build_the_schema_snapshot(
    stack: local_stack.StackAddresses,
) -> None:
    built = await migrated_schema(stack.owner_database_url)
    committed = SNAPSHOT.read_text()

    if built != committed:
        diff = difflib.unified_diff(
            committed.splitlines(), built.splitlines(), "schema.sql", "migrations", lineterm=""
        )
        shown = "\n".join(list(diff)[:120])
        raise AssertionError(
            f"the migrations no longer build {SNAPSHOT.name}: with the stack up, run\n"
            f"    {REGENERATE}\n"
            f"and commit ingest/db/schema.sql (review the diff: it is the schema change).\n"
            f"{shown}"
        )
