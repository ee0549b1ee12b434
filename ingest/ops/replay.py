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


_SELECT = """
SELECT e.rejected_id, e.source_topic, e.key, e.value, e.reason
FROM triage.rejected_events e
WHERE ($1::text IS NULL OR e.reason = $1)
  AND ($2::text IS NULL OR e.supplier_id = $2 OR e.source_topic = 'triage.daily.' || $2)
  AND e.bytes_purged_at IS NULL
  AND ($3 OR NOT EXISTS (SELECT 1 FROM triage.dlq_replays p WHERE p.rejected_id = e.rejected_id))
ORDER BY e.rejected_id
LIMIT $4
"""


async def replay(
    conn: asyncpg.Connection, producer: AIOKafkaProducer, which: ReplayFilter
) -> list[Replayed]:
    """Re-submit the matching rejected events; each is recorded once acknowledged."""
    rows = await conn.fetch(
        _SELECT,
        which.reason.value if which.reason else None,
        which.supplier,
        which.include_replayed,
        which.limit,
    )
    done = []
    for row in rows:
        meta = await producer.send_and_wait(row["source_topic"], value=row["value"], key=row["key"])
        await conn.execute(
            "INSERT INTO triage.dlq_replays (rejected_id, target_topic, target_partition,"
            " target_offset) VALUES ($1, $2, $3, $4)",
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
    rows: list[asyncpg.Record] = await conn.fetch(
        "SELECT * FROM triage.dlq_replay_outcomes ORDER BY replay_id DESC LIMIT $1", limit
    )
    return rows
