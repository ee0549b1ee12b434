"""What landed in Postgres for a set of suppliers, as ``ingest demo`` reports it (Postgres
edge): how far a consumer group has read, rows stored, rejections by reason, freshness."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

import asyncpg

from ingest.contract.model import topic_for
from ingest.db.queries import queries

SQL = queries("ingest.ops")


@dataclass(frozen=True)
class Landed:
    """Per supplier: current rows, revisions, current rows with the v2 fields; the
    rejections by reason (``reason``, ``n``, ``example``, ``suppliers``: a ", "-joined
    list), most frequent first; the freshness of each supplier, by supplier id."""

    current: dict[str, int]
    revisions: dict[str, int]
    with_breakdown: dict[str, int]
    rejections: list[asyncpg.Record]
    freshness: list[asyncpg.Record]


async def consumer_positions(conn: asyncpg.Connection, group: str) -> dict[tuple[str, int], int]:
    """(topic, partition) -> the next offset consumer group ``group`` will read."""
    rows = await conn.fetch(SQL["consumer_positions"], group)
    return {(r["topic"], r["partition"]): r["next_offset"] for r in rows}


async def freshness_status(conn: asyncpg.Connection, supplier_id: str) -> str | None:
    """The supplier's freshness status now; None when it is not an active supplier."""
    status: str | None = await conn.fetchval(SQL["freshness_status"], supplier_id)
    return status


async def _counts(conn: asyncpg.Connection, query: str, ids: list[str]) -> dict[str, int]:
    return {r[0]: r[1] for r in await conn.fetch(SQL[query], ids)}


async def landed(conn: asyncpg.Connection, suppliers: Sequence[str], since: dt.datetime) -> Landed:
    """What is stored for ``suppliers``, and what of theirs was rejected since ``since``
    (by supplier id, or by their topic for records that named no registered supplier)."""
    ids = list(suppliers)
    return Landed(
        current=await _counts(conn, "current_rows", ids),
        revisions=await _counts(conn, "revision_rows", ids),
        with_breakdown=await _counts(conn, "current_rows_with_breakdown", ids),
        rejections=await conn.fetch(
            SQL["rejections_by_reason_since"], since, ids, [topic_for(i) for i in ids]
        ),
        freshness=await conn.fetch(SQL["freshness_of"], ids),
    )
