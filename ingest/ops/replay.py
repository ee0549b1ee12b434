"""Re-submitting rejected events (``ingest dlq replay``).

Rejected records keep their raw key and value in ``triage.rejected_events``. After a fix
(a supplier registered, reference data corrected), replay re-produces them to their original
topic and records each one in ``triage.dlq_replays`` with where it landed; the view
``triage.dlq_replay_outcomes`` then tells what the consumer made of it.
"""

from __future__ import annotations

from dataclasses import dataclass

import asyncpg
from aiokafka import AIOKafkaProducer

from ingest.contract.model import Reason
from ingest.db.queries import queries


@dataclass(frozen=True)
class ReplayFilter:
    reason: Reason | None = None
    supplier: str | None = None
    include_replayed: bool = False
    limit: int | None = None


@dataclass(frozen=True)
class Replayed:
    rejected_id: int
    reason: str
    topic: str
    partition: int
    offset: int


SQL = queries("ingest.ops")


async def replay(
    conn: asyncpg.Connection, producer: AIOKafkaProducer, which: ReplayFilter
) -> list[Replayed]:
    """Re-submit the matching rejected events; each is recorded once acknowledged."""
    rows = await conn.fetch(
        SQL["rejections_to_replay"],
        which.reason.value if which.reason else None,
        which.supplier,
        which.include_replayed,
        which.limit,
    )
    done = []
    for row in rows:
        meta = await producer.send_and_wait(row["source_topic"], value=row["value"], key=row["key"])
        await conn.execute(
            SQL["record_replay"],
            row["rejected_id"],
            meta.topic,
            meta.partition,
            meta.offset,
        )
        done.append(
            Replayed(row["rejected_id"], row["reason"], meta.topic, meta.partition, meta.offset)
        )
    return done


async def replay_outcomes(conn: asyncpg.Connection, limit: int = 100) -> list[asyncpg.Record]:
    """The latest replays and what became of them."""
    rows: list[asyncpg.Record] = await conn.fetch(SQL["replay_outcomes"], limit)
    return rows


async def latest_rejections(
    conn: asyncpg.Connection, supplier: str | None, limit: int
) -> list[asyncpg.Record]:
    """The latest ``limit`` rejected events, newest first: of ``supplier`` (by its id, or by
    its topic, as an unregistered supplier's rejections are known and as ``replay`` finds
    them) or, with ``None``, of every supplier."""
    rows: list[asyncpg.Record] = await conn.fetch(SQL["latest_rejections"], supplier, limit)
    return rows
