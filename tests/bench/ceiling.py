"""The ceiling reference: asyncpg ``copy_records_to_table`` of the rows the backlog produces
(one row per distinct (key, revision), already decoded, in memory) into an empty table with
the revisions table's columns and indexes. No Kafka, no decoding, no resolution: how fast
Postgres on this machine takes these rows at all."""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass

import asyncpg

from ingest.contract.model import COUNT_FIELDS
from tests.bench.data import DataSet, generated_at

COLUMNS = (
    "supplier_id",
    "practice_code",
    "activity_date",
    "revision",
    *COUNT_FIELDS,
    "event_id",
    "generated_at",
    "source_topic",
    "source_partition",
    "source_offset",
)
Row = tuple[object, ...]


@dataclass
class CeilingResult:
    rows: int
    seconds: float

    @property
    def rate(self) -> float:
        return self.rows / self.seconds if self.seconds else 0.0


def ceiling_rows(data: DataSet) -> list[Row]:
    """The revisions rows of the backlog: the first valid record of each (key, revision)."""
    offsets: dict[tuple[str, int], int] = {}
    seen: set[tuple[str, str, dt.date, int]] = set()
    rows: list[Row] = []
    for item in data.items:
        tp = (item.supplier, item.partition)
        offset = offsets.get(tp, 0)
        offsets[tp] = offset + 1
        if item.event_key is None:
            continue
        ident = (*item.event_key, item.revision)
        if ident in seen:
            continue
        seen.add(ident)
        rows.append(
            (
                *item.event_key,
                item.revision,
                *item.figures,
                item.event_id,
                generated_at(item),
                f"triage.daily.{item.supplier}",
                item.partition,
                offset,
            )
        )
    return rows


async def run_ceiling(database_url: str, rows: list[Row]) -> CeilingResult:
    """COPY every row, in one stream, into a fresh copy of the revisions table."""
    conn = await asyncpg.connect(database_url)
    try:
        await conn.execute(
            "DROP TABLE IF EXISTS public.bench_ceiling;"
            " CREATE TABLE public.bench_ceiling"
            " (LIKE triage.daily_request_revisions INCLUDING ALL)"
        )
        started = time.perf_counter()
        await conn.copy_records_to_table(
            "bench_ceiling", schema_name="public", columns=COLUMNS, records=rows
        )
        seconds = time.perf_counter() - started
        stored = await conn.fetchval("SELECT count(*) FROM public.bench_ceiling")
        if stored != len(rows):
            raise RuntimeError(f"ceiling table holds {stored} rows, not {len(rows)}")
    finally:
        await conn.close()
    return CeilingResult(len(rows), seconds)
