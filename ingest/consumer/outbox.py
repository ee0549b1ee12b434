"""What a batch writes, in its transaction, so that each of its records' outcome can be sent
after the commit (migrations 0041, 0120): an outcome exists only once the database holds it
and is never lost to a crash.

Most outcomes need no row of their own: an accepted or superseded record is a revision row,
a rejected one a rejection row, each with its source position and what its outcome says. The
batch adds only what those rows do not say: ``triage.outcome_outbox_rows`` for duplicates (no
row at all) and superseded records (whose revision row reads like an accepted one), and a
mark in ``triage.outcome_progress`` for each source partition it is the first to reach. The
relay (:mod:`ingest.consumer.outcome_relay`) reads each partition from its mark.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import asyncpg

from ingest.consumer.pipeline import Triaged
from ingest.consumer.types import TopicPartitionKey
from ingest.contract.model import DailyEvent, Outcome
from ingest.contract.outcomes import outcome_key
from ingest.db.queries import queries

OUTCOME_COLUMNS = (
    "supplier_id",
    "source_topic",
    "source_partition",
    "source_offset",
    "key",
    "event_id",
    "practice_code",
    "activity_date",
    "revision",
    "outcome",
    "reason",
    "detail",
)

OUTBOX_SETUP_SQL = queries("ingest.consumer")["outbox_tables"]
_INSERT_SQL = queries("ingest.consumer")["insert_outcomes"].format(
    columns=", ".join(OUTCOME_COLUMNS)
)
_NOTE_PARTITIONS_SQL = queries("ingest.consumer")["note_outcome_partitions"]

OutboxRow = tuple[object, ...]


def outcome_rows(
    triaged: Triaged, valid: Sequence[DailyEvent], outcomes: Sequence[Outcome | None]
) -> list[OutboxRow]:
    """The outbox rows of the batch: its ``valid`` events whose ``outcomes`` no other row
    records (duplicates leave no row, a superseded record's revision row reads like an
    accepted one). Accepted records are read back from their revision rows and rejected ones
    from their rejection rows. A key longer than OUTCOME_KEY_MAX_BYTES is left out (the
    outcome goes unkeyed)."""
    return [
        (
            e.supplier_id,
            e.source.topic,
            e.source.partition,
            e.source.offset,
            outcome_key(triaged.raw_of(e)[0]),
            e.event_id,
            e.practice_code,
            e.activity_date,
            e.revision,
            outcome.value,
            None,
            None,
        )
        for e, outcome in zip(valid, outcomes, strict=True)
        if outcome is Outcome.DUPLICATE or outcome is Outcome.SUPERSEDED
    ]


async def note_partitions(
    conn: asyncpg.Connection, first_offsets: Mapping[TopicPartitionKey, int]
) -> None:
    """Give each source partition of the batch its outcome mark (``triage.outcome_progress``)
    when it has none yet: the batch's lowest offset there, the first whose outcome is to be
    sent (inside the caller's transaction)."""
    if first_offsets:
        parts = sorted(first_offsets)
        await conn.execute(
            _NOTE_PARTITIONS_SQL,
            [t for t, _ in parts],
            [p for _, p in parts],
            [first_offsets[k] for k in parts],
        )


async def write_outcomes(conn: asyncpg.Connection, rows: Sequence[OutboxRow]) -> None:
    """Insert the rows (inside the caller's transaction; the temp table is set up)."""
    if rows:
        await conn.copy_records_to_table("batch_outcomes", columns=OUTCOME_COLUMNS, records=rows)
        await conn.execute(_INSERT_SQL)
