"""Where the relay finds the outcomes still to be sent, and how it records them as sent
(migrations 0041, 0110, 0120).

Most outcomes are read back from the rows that record them: past each source partition's
mark in ``triage.outcome_progress``, a revision row is an accepted record, a rejection row of
a registered supplier a rejected one, and ``triage.outcome_outbox_rows`` says what those rows
cannot (duplicates, superseded records). A round reads each partition in offset order from its
mark, up to that partition's fence (the greatest offset the consumers stored: everything below
it is committed), and once the broker acknowledged what it read, moves the mark: one UPDATE
per partition and round, where the outbox took an INSERT and a DELETE per outcome.

Outbox rows outside any partition's reading (written before migration 0120, or queued by
hand) are carried as before: taken oldest first, deleted once acknowledged.

All of a round happens in the caller's transaction: the partitions read are locked (``FOR
UPDATE SKIP LOCKED``, so the relays of several processes share the partitions), and a crash
before the commit leaves every mark and row as it was: the same outcomes are sent again.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import asyncpg

from ingest.consumer.outbox import OUTCOME_COLUMNS
from ingest.contract.model import supplier_of_topic, topic_for
from ingest.contract.outcomes import (
    DETAIL_MAX_CHARS,
    OUTCOME_KEY_MAX_BYTES,
    OutcomeEncoder,
)
from ingest.db.queries import queries

_SQL = queries("ingest.consumer")
_BOUNDS = {"key_max_bytes": OUTCOME_KEY_MAX_BYTES, "detail_max_chars": DETAIL_MAX_CHARS}
_CARRIED_WAITING_SQL = _SQL["outcomes_waiting"]
_TAKE_CARRIED_SQL = _SQL["take_outcomes"].format(**_BOUNDS)
_BEHIND_SQL = _SQL["outcome_partitions_behind"]
_PASS_SQL = _SQL["pass_outcome_partitions"]
_TAKE_PARTITIONS_SQL = _SQL["take_outcome_partitions"]
_FROM_MARK_SQL = _SQL["outcomes_from_mark"].format(**_BOUNDS)
_DELETE_SQL = _SQL["delete_outcomes"]
_MOVE_MARKS_SQL = _SQL["move_outcome_marks"]
_PARK_SQL = _SQL["park_outcomes"]
_PARK_READ_SQL = _SQL["park_read_outcomes"]
# the columns of a row read, beyond its position and key, that a parked copy keeps
_PARKED_FIELDS = (*OUTCOME_COLUMNS[OUTCOME_COLUMNS.index("key") + 1 :], "processed_at")


@dataclass(slots=True)  # not frozen: a frozen dataclass's __init__ costs twice as much
class Pending:
    """One outcome of a round: where it goes, its record's key and value, what records it
    (``outbox_id``: an outbox row; None: read from a revision or rejection row) and the row
    it was read from."""

    supplier_id: str
    source_topic: str
    source_partition: int
    source_offset: int
    key: bytes | None
    value: bytes
    outbox_id: int | None
    row: Mapping[str, Any]


@dataclass
class Reading:
    """One partition read from its mark up to at most its fence: the last offset read, and
    whether the read reached the fence (where the mark can go once all it read is done)."""

    topic: str
    partition: int
    mark: int
    fence: int
    last: int = -1  # the greatest offset read (parked rows included: never sent, passed over)
    reached_fence: bool = False  # fewer rows than asked: nothing more below the fence

    @property
    def complete_to(self) -> int:
        """The mark once everything read is done."""
        return self.fence if self.reached_fence else self.last + 1


@dataclass
class Round:
    """What a round took: outcomes in sending order, and the partitions they came from."""

    outcomes: list[Pending] = field(default_factory=list)
    readings: list[Reading] = field(default_factory=list)

    def suppliers(self) -> set[str]:
        return {p.supplier_id for p in self.outcomes}


def _pending(
    encoder: OutcomeEncoder,
    row: asyncpg.Record,
    supplier_id: str,
    topic: str,
    partition: int,
) -> Pending:
    offset = row["source_offset"]
    value = encoder.encode(
        partition,
        offset,
        row["event_id"],
        row["practice_code"],
        row["activity_date"],
        row["revision"],
        row["outcome"],
        row["reason"],
        row["detail"],
        row["processed_at"],
    )
    return Pending(supplier_id, topic, partition, offset, row["key"], value, row["outbox_id"], row)


async def waiting_suppliers(conn: asyncpg.Connection, sitting_out: Sequence[str]) -> list[str]:
    """The suppliers with outcomes waiting (carried outbox rows, or partitions behind their
    fence with an outcome to send), leaving out ``sitting_out``; sorted. Reads only: a round
    writes nothing before its outcomes are acknowledged."""
    carried = [r["supplier_id"] for r in await conn.fetch(_CARRIED_WAITING_SQL, sitting_out)]
    behind = await conn.fetch(_BEHIND_SQL, [topic_for(s) for s in sitting_out])
    found = set(carried)
    for row in behind:
        supplier = supplier_of_topic(row["source_topic"])
        if supplier is not None and supplier not in sitting_out:
            found.add(supplier)
    return sorted(found)


async def take_round(
    conn: asyncpg.Connection,
    suppliers: Sequence[str],
    shares: Sequence[int],
    encoder: OutcomeEncoder | None = None,
) -> Round:
    """Up to each supplier's share of its waiting outcomes: its carried outbox rows first
    (oldest first), then its partitions in order, each from its mark, encoded (``encoder``:
    one kept across rounds keeps what repeats encoded). Locks what it takes."""
    encoder = encoder or OutcomeEncoder()
    taken = Round()
    share_of = dict(zip(suppliers, shares, strict=True))
    carried = await conn.fetch(_TAKE_CARRIED_SQL, list(suppliers), list(shares))
    for row in carried:
        supplier = row["supplier_id"]
        share_of[supplier] -= 1
        taken.outcomes.append(
            _pending(encoder, row, supplier, row["source_topic"], row["source_partition"])
        )
    partitions = await conn.fetch(_TAKE_PARTITIONS_SQL, [topic_for(s) for s in suppliers])
    for part in partitions:
        supplier = supplier_of_topic(part["source_topic"])
        if supplier is None or share_of.get(supplier, 0) <= 0:
            continue
        reading = Reading(
            part["source_topic"], part["source_partition"], part["next_offset"], part["fence"]
        )
        asked = share_of[supplier]
        rows = await conn.fetch(
            _FROM_MARK_SQL, reading.topic, reading.partition, reading.mark, reading.fence, asked
        )
        for row in rows:
            reading.last = row["source_offset"]
            if row["parked_at"] is None:  # a parked row is passed over, never sent
                taken.outcomes.append(
                    _pending(encoder, row, supplier, reading.topic, reading.partition)
                )
        share_of[supplier] = asked - len(rows)
        reading.reached_fence = len(rows) < asked
        taken.readings.append(reading)
    return taken


async def acknowledge(
    conn: asyncpg.Connection, taken: Round, done: Iterable[Pending], parked: Iterable[Pending]
) -> None:
    """Record as sent what the broker acknowledged (``done``), and as parked what it refused
    as too large (``parked``): outbox rows are deleted or parked; each partition's mark moves
    past every offset of it read this round up to its first outcome neither done nor parked;
    partitions behind with nothing to send (records of no registered supplier) move to their
    fence. The DELETE comes first, whatever it deletes."""
    finished = {id(p) for p in done}
    refused = list(parked)
    finished_or_parked = finished | {id(p) for p in refused}
    sent_rows = [p.outbox_id for p in taken.outcomes if id(p) in finished]
    await conn.execute(_DELETE_SQL, [i for i in sent_rows if i is not None])
    if refused:
        rows = [p for p in refused if p.outbox_id is not None]
        if rows:
            await conn.execute(_PARK_SQL, [p.outbox_id for p in rows], "too_large")
        read = [p for p in refused if p.outbox_id is None]
        if read:
            await _park_read(conn, read)
    moves = marks_after(taken, finished_or_parked)
    if moves:
        await conn.execute(
            _MOVE_MARKS_SQL,
            [t for t, _, _ in moves],
            [p for _, p, _ in moves],
            [n for _, _, n in moves],
        )
    await conn.execute(_PASS_SQL)  # partitions behind with nothing to send: marks to fences


def marks_after(taken: Round, finished: set[int]) -> list[tuple[str, int, int]]:
    """Where each partition read this round moves its mark, given the outcomes ``finished``
    (by ``id``: acknowledged or parked): to its first unfinished offset if any, else past all
    it read (to its fence when it read everything below it); only forward."""
    open_at: dict[tuple[str, int], int] = {}
    for p in taken.outcomes:
        if id(p) not in finished:
            where = (p.source_topic, p.source_partition)
            offset = p.source_offset
            open_at[where] = min(open_at.get(where, offset), offset)
    moves = []
    for reading in taken.readings:
        first_open = open_at.get((reading.topic, reading.partition))
        to = reading.complete_to if first_open is None else first_open
        if to > reading.mark:
            moves.append((reading.topic, reading.partition, to))
    return moves


async def _park_read(conn: asyncpg.Connection, refused: Sequence[Pending]) -> None:
    """Park outcomes read from revision or rejection rows: an outbox row of each, parked (the
    mark then moves past them; an operator can clear ``parked_at`` to send them again)."""
    await conn.executemany(
        _PARK_READ_SQL,
        [
            (
                p.supplier_id,
                p.source_topic,
                p.source_partition,
                p.source_offset,
                p.key,
                *(p.row[f] for f in _PARKED_FIELDS),
            )
            for p in refused
        ],
    )
