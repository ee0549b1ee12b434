"""Versioned SQL migrations: files ``ingest/db/migrations/NNNN_name.sql`` applied in order.

Each applied file is recorded in ``triage.schema_migrations``; a session advisory lock makes
concurrent runs (two consumers starting together) safe: the second waits, then finds nothing
left to do.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from pathlib import Path

import asyncpg

from ingest.db.queries import queries
from ingest.db.reworded import released_as
from ingest.errors import IngestError, MigrationPrivilegeError

log = logging.getLogger(__name__)

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
_LOCK_ID = 0x7472_6961_6765  # "triage"
SQL = queries("ingest.db")


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    sql: str

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.sql.encode()).hexdigest()


def discover(directory: Path = MIGRATIONS_DIR) -> list[Migration]:
    """The migration files, sorted by version."""
    found = []
    for path in sorted(directory.glob("*.sql")):
        number, _, name = path.stem.partition("_")
        found.append(Migration(int(number), name, path.read_text()))
    versions = [m.version for m in found]
    if len(set(versions)) != len(versions):
        raise ValueError(f"duplicate migration versions in {directory}: {versions}")
    return found


class MigrationChangedError(IngestError):
    """An applied migration's file differs from the one that was applied."""


async def pending_migrations(conn: asyncpg.Connection) -> list[int]:
    """Versions not applied yet, read without DDL (a role without CREATE rights may ask).
    An applied migration whose file changed since is a :class:`MigrationChangedError`."""
    table = await conn.fetchval(SQL["migrations_table"])
    done: dict[int, str] = {}
    if table is not None:
        rows = await conn.fetch(SQL["applied_migrations"])
        done = {r["version"]: r["checksum"] for r in rows}
    files = discover()
    check_checksums(done, files)
    return [m.version for m in files if m.version not in done]


def check_checksums(applied: dict[int, str], files: list[Migration]) -> None:
    """Refuse, in one line, when the file of an applied migration is not the one applied
    (someone edited it, or the recorded checksum was changed): its effect on this database
    is unknown, and a migration is never edited once released (a fix is a new one). A file
    whose comments alone were reworded since its release (ingest.db.reworded) is the same."""
    changed = [
        m
        for m in files
        if m.version in applied
        and applied[m.version] != m.checksum
        and not released_as(m.version, applied[m.version], m.sql)
    ]
    if changed:
        names = ", ".join(f"{m.version:04d}_{m.name}" for m in changed)
        raise MigrationChangedError(
            f"applied migration {names} differs from the file now shipped (checksum recorded in"
            " triage.schema_migrations); refusing to start: restore the released file (a fix"
            " is a new migration), or have the schema's owner look into who changed what"
        )


async def apply_migrations(conn: asyncpg.Connection) -> list[int]:
    """Apply the pending migrations; returns the versions applied by this call.

    Nothing pending: returns at once, without DDL, so the service may run as a role that reads
    and writes but may not change the schema. Pending but the role may not apply them: a
    :class:`MigrationPrivilegeError` that says to run ``ingest migrate`` as the owner."""
    pending = await pending_migrations(conn)
    if not pending:
        return []
    try:
        return await _apply_locked(conn)
    except asyncpg.InsufficientPrivilegeError as exc:
        user = await conn.fetchval(SQL["current_role"])
        raise MigrationPrivilegeError(
            f"migrations {', '.join(f'{v:04d}' for v in pending)} are pending and role {user} "
            f"may not apply them ({exc}); run `ingest migrate` as the schema's owner "
            "(INGEST_MIGRATION_DATABASE_URL), then start this again"
        ) from None


async def _apply_locked(conn: asyncpg.Connection) -> list[int]:
    await conn.execute(SQL["lock_migrations"], _LOCK_ID)
    try:
        await conn.execute(SQL["create_migrations_table"])
        rows = await conn.fetch(SQL["applied_migrations"])
        done = {r["version"]: r["checksum"] for r in rows}
        check_checksums(done, discover())
        applied = []
        for migration in discover():
            if migration.version in done:
                continue
            async with conn.transaction():
                await conn.execute(migration.sql)
                await conn.execute(
                    SQL["record_migration"],
                    migration.version,
                    migration.name,
                    migration.checksum,
                )
            log.info("applied migration %04d_%s", migration.version, migration.name)
            applied.append(migration.version)
        return applied
    finally:
        await conn.execute(SQL["unlock_migrations"], _LOCK_ID)


async def migrate(database_url: str) -> list[int]:
    """Connect, apply pending migrations, disconnect."""
    conn = await asyncpg.connect(database_url)
    try:
        return await apply_migrations(conn)
    finally:
        await conn.close()
