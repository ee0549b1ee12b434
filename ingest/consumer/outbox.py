"""The outcome outbox rows of a batch (``triage.outcome_outbox``, migration 0041), written in
the batch's transaction: one per record of a registered supplier's topic that the batch
resolved (accepted, superseded, duplicate or rejected). The relay
(:mod:`ingest.consumer.outcome_relay`) sends them to the suppliers' feedback topics after the
commit, so an outcome exists only once the database holds it and is never lost to a crash.
"""

from __future__ import annotations

from collections.abc import Sequence

import asyncpg

from ingest.consumer.pipeline import Triaged
from ingest.contract.model import DailyEvent, Outcome, Rejection
from ingest.contract.outcomes import DETAIL_MAX_CHARS, outcome_key
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

OutboxRow = tuple[object, ...]


def outcome_rows(
    triaged: Triaged,
    valid: Sequence[DailyEvent],
    outcomes: Sequence[Outcome | None],
    rejected: Sequence[Rejection],
) -> list[OutboxRow]:
    """The outbox rows of the batch's records: ``valid`` with their ``outcomes`` (None =
    conflicting, then among ``rejected``), and the rejections of registered suppliers' topics
    (a topic of no registered supplier has no feedback topic). A key longer than
    OUTCOME_KEY_MAX_BYTES is left out of the row (the outcome goes unkeyed)."""
    rows: list[OutboxRow] = [
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
        if outcome is not None
    ]
    rows.extend(_rejection_row(r) for r in rejected if r.supplier_id is not None)
    return rows


def _rejection_row(r: Rejection) -> OutboxRow:
    s, summary = r.source, r.summary
    return (
        r.supplier_id,
        s.topic,
        s.partition,
        s.offset,
        outcome_key(r.key),
        None if summary is None else summary.event_id,
        None if summary is None else summary.practice_code,
        None if summary is None else summary.activity_date,
        None if summary is None else summary.revision,
        Outcome.REJECTED.value,
        r.reason.value,
        r.detail[:DETAIL_MAX_CHARS],
    )


async def write_outcomes(conn: asyncpg.Connection, rows: Sequence[OutboxRow]) -> None:
    """Insert the rows (inside the caller's transaction; the temp table is set up)."""
    if rows:
        await conn.copy_records_to_table("batch_outcomes", columns=OUTCOME_COLUMNS, records=rows)
        await conn.execute(_INSERT_SQL)
