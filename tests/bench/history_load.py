"""Loading the synthetic history (tests/bench/history.py) into a migrated database by COPY.

The two big tables are loaded the way a bulk load is done: their primary key, unique and other
indexes are dropped, the rows copied in (binary COPY, three connections at once), and the very
same definitions (read from the catalogue before) built again, then VACUUM ANALYZE. The schema
after the load is the migrated one, which ``load_history`` checks. The revisions' monthly
partitions (migration 0122) are made for the history's months first, as a bulk load must
(rows of a month without one would land in the default partition).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import time
from dataclasses import dataclass

import asyncpg

from tests.bench.history import (
    CURRENT_COLUMNS,
    REJECTION_COLUMNS,
    REVISION_COLUMNS,
    HistorySpec,
    history_chunks,
    last_activity,
    reference_rows,
)

BULK_TABLES = ("daily_requests", "daily_request_revisions")

_CONSTRAINTS = """
SELECT t.relname AS table_name, c.conname AS name, pg_get_constraintdef(c.oid) AS definition
FROM pg_constraint c
JOIN pg_class t ON t.oid = c.conrelid
JOIN pg_namespace n ON n.oid = t.relnamespace
WHERE n.nspname = 'triage' AND t.relname = ANY($1::text[]) AND c.contype IN ('p', 'u')
ORDER BY 1, 2
"""
_INDEXES = """
SELECT tablename AS table_name, indexname AS name, indexdef AS definition
FROM pg_indexes
WHERE schemaname = 'triage' AND tablename = ANY($1::text[])
ORDER BY 1, 2
"""


@dataclass
class HistoryLoad:
    """What the load wrote and how long each part took (seconds)."""

    current_rows: int = 0
    revision_rows: int = 0
    rejection_rows: int = 0
    copy_seconds: float = 0.0
    index_seconds: float = 0.0
    vacuum_seconds: float = 0.0
    database_mb: float = 0.0

    @property
    def seconds(self) -> float:
        return self.copy_seconds + self.index_seconds + self.vacuum_seconds


async def load_reference(conn: asyncpg.Connection, spec: HistorySpec) -> None:
    """Current reference loads of every kind the publication reads (practices, memberships,
    sub-ICBs, list sizes, PCNs, participation), of a real file's size and shape."""
    rows = reference_rows(spec)
    targets = {
        "practices": (
            "ref_practices",
            (
                "practice_code",
                "name",
                "commissioner_code",
                "open_date",
                "status_code",
                "close_date",
                "prescribing_setting",
                "country",
                "setting",
            ),
        ),
        "memberships": (
            "ref_memberships",
            ("practice_code", "commissioner_code", "effective_from", "effective_to"),
        ),
        "sub_icbs": (
            "ref_sub_icbs",
            ("sub_icb_code", "sub_icb_name", "icb_code", "icb_name", "effective_from"),
        ),
        "list_sizes": ("ref_list_sizes", ("practice_code", "extract_date", "registered_patients")),
        "pcns": (
            "ref_pcns",
            ("practice_code", "extract_date", "pcn_code", "pcn_name", "region_code", "region_name"),
        ),
        "participation": (
            "ref_participation",
            ("practice_code", "participating_from", "participating_to"),
        ),
    }
    async with conn.transaction():
        for kind, (table, columns) in targets.items():
            load_id = await conn.fetchval(
                "INSERT INTO triage.reference_loads (kind, source_name, content_sha256, row_count)"
                " VALUES ($1, 'bench-scale synthetic', $2, $3) RETURNING load_id",
                kind,
                f"synthetic-{kind}-{spec.practices}",
                len(rows[kind]),
            )
            await conn.copy_records_to_table(
                table,
                schema_name="triage",
                columns=("load_id", *columns),
                records=[(load_id, *row) for row in rows[kind]],
            )


async def _definitions(conn: asyncpg.Connection) -> tuple[list[asyncpg.Record], ...]:
    constraints = await conn.fetch(_CONSTRAINTS, list(BULK_TABLES))
    indexes = await conn.fetch(_INDEXES, list(BULK_TABLES))
    owned = {c["name"] for c in constraints}
    return constraints, [i for i in indexes if i["name"] not in owned]


async def load_history(database_url: str, spec: HistorySpec) -> HistoryLoad:
    """Reference data and ``spec``'s history into the (migrated, suppliers registered) db."""
    out = HistoryLoad()
    conns = [await asyncpg.connect(database_url) for _ in range(3)]
    main = conns[0]
    try:
        await load_reference(main, spec)
        await main.fetchval(
            "SELECT triage.add_revision_partitions($1, $2)",
            spec.first_day,
            spec.end - dt.timedelta(days=1),
        )
        constraints, indexes = await _definitions(main)
        for c in constraints:
            await main.execute(
                f'ALTER TABLE triage.{c["table_name"]} DROP CONSTRAINT "{c["name"]}"'
            )
        for i in indexes:
            await main.execute(f'DROP INDEX triage."{i["name"]}"')

        started = time.perf_counter()
        for chunk in history_chunks(spec):
            await asyncio.gather(
                conns[0].copy_records_to_table(
                    "daily_requests", schema_name="triage", columns=CURRENT_COLUMNS,
                    records=chunk.current,
                ),
                conns[1].copy_records_to_table(
                    "daily_request_revisions", schema_name="triage", columns=REVISION_COLUMNS,
                    records=chunk.revisions,
                ),
                conns[2].copy_records_to_table(
                    "rejected_events", schema_name="triage", columns=REJECTION_COLUMNS,
                    records=chunk.rejections,
                ),
            )  # fmt: skip
            out.current_rows += len(chunk.current)
            out.revision_rows += len(chunk.revisions)
            out.rejection_rows += len(chunk.rejections)
        out.copy_seconds = time.perf_counter() - started

        started = time.perf_counter()
        statements = [
            f'ALTER TABLE triage.{c["table_name"]} ADD CONSTRAINT "{c["name"]}" {c["definition"]}'
            for c in constraints
        ] + [_recursive(i["definition"]) for i in indexes]
        await _run_on(conns[:2], statements)
        out.index_seconds = time.perf_counter() - started
        if await _definitions(main) != (constraints, indexes):
            raise RuntimeError("the bulk tables' keys and indexes differ from the migrated ones")

        await main.executemany(
            "INSERT INTO triage.supplier_activity (supplier_id, last_event_at,"
            " latest_activity_date) VALUES ($1, $2, $3) ON CONFLICT (supplier_id) DO UPDATE SET"
            " last_event_at = excluded.last_event_at,"
            " latest_activity_date = excluded.latest_activity_date",
            last_activity(spec),
        )
        started = time.perf_counter()
        for table in (*BULK_TABLES, "rejected_events"):
            await main.execute(f"VACUUM (ANALYZE) triage.{table}")
        out.vacuum_seconds = time.perf_counter() - started
        size = await main.fetchval("SELECT pg_database_size(current_database())")
        out.database_mb = size / 2**20
    finally:
        for conn in conns:
            await conn.close()
    return out


def _recursive(definition: str) -> str:
    """An index definition built on every partition: the catalogue prints a partitioned
    table's index ``ON ONLY`` the table (as pg_dump restores it, attaching each partition's
    index after), which alone would build none."""
    return definition.replace(" ON ONLY ", " ON ", 1)


async def _run_on(conns: list[asyncpg.Connection], statements: list[str]) -> None:
    """The statements spread over the connections (index builds in parallel)."""
    queue = list(statements)

    async def worker(conn: asyncpg.Connection) -> None:
        await conn.execute("SET maintenance_work_mem = '512MB'")
        while queue:
            await conn.execute(queue.pop(0))

    await asyncio.gather(*(worker(c) for c in conns))
