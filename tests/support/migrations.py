"""A database as an earlier release left it: the migrations below a version, applied and
recorded as ``ingest.db.migrate`` would have (for upgrade tests of a new migration)."""

from __future__ import annotations

import asyncpg

from ingest.db.migrate import discover


async def migrate_below(conn: asyncpg.Connection, version: int) -> list[int]:
    """Apply every migration numbered below ``version`` to an empty database; their versions."""
    await conn.execute(
        "CREATE SCHEMA triage; CREATE TABLE triage.schema_migrations (version integer"
        " PRIMARY KEY, name text NOT NULL, checksum text NOT NULL, applied_at"
        " timestamptz NOT NULL DEFAULT now())"
    )
    applied = []
    for m in discover():
        if m.version < version:
            await conn.execute(m.sql)
            await conn.execute(
                "INSERT INTO triage.schema_migrations (version, name, checksum)"
                " VALUES ($1, $2, $3)",
                m.version,
                m.name,
                m.checksum,
            )
            applied.append(m.version)
    return applied
