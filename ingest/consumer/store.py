"""The Postgres edge of the ingestion path.

One batch = one transaction: lock the partitions' offset rows, drop records another consumer
already stored, read the stored revisions of the batch's keys, resolve (pure), COPY the new
revisions, upsert the current rows with the revision guard, COPY the rejections, advance the
offsets. The offset rows are the fence that makes the effect exactly-once whatever crashes or
rebalances happen.

Set-based and cheap per event (see docs/benchmarks.md): the batch's distinct keys go to
Postgres once (COPY into a temp table) for the stored-revisions read; the new revisions are
COPied straight into their table; current rows of keys that had no stored revision (nearly
all of a backfill) are COPied straight into ``daily_requests`` inside a savepoint, and only
keys already known (or, should that COPY meet a row it did not expect, all of them) go
through the staging table and the guarded upsert. Rows go in grouped by practice and the
keys are probed in key order, so index pages are touched in sequence rather than at random;
the revision rows are built while Postgres runs the stored-revisions query. Before the
transaction, the revisions' monthly partitions of a month the process has not met are made
(``revision_partitions``).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from operator import itemgetter

import asyncpg

from ingest.consumer.key_mismatch_counts import count_key_mismatches
from ingest.consumer.outbox import (
    OUTBOX_SETUP_SQL,
    note_partitions,
    outcome_rows,
    write_outcomes,
)
from ingest.consumer.pipeline import Triaged
from ingest.consumer.resolution import Resolution, resolve_batch
from ingest.consumer.revision_partitions import RevisionPartitions
from ingest.consumer.types import TopicPartitionKey
from ingest.contract.model import (
    COUNT_FIELDS,
    DailyEvent,
    EventKey,
    EventSummary,
    Figures,
    Outcome,
    Reason,
    Rejection,
)
from ingest.contract.outcomes import outcome_key
from ingest.db.queries import queries

log = logging.getLogger(__name__)

_EVENT_COLUMNS = (
    "supplier_id",
    "practice_code",
    "activity_date",
    "revision",
    *COUNT_FIELDS,
    "event_id",
    "generated_at",
)
# source_key: the record's key, for its outcome (read back from this row by the relay)
_REVISION_COLUMNS = (
    *_EVENT_COLUMNS,
    "source_topic",
    "source_partition",
    "source_offset",
    "source_key",
)
_N_EVENT_COLUMNS = len(_EVENT_COLUMNS)
# Rows are COPied grouped by practice (the indexes' second column; the sort is stable, so
# each practice's days stay in arrival order): consecutive inserts hit the same index pages.
# A full key sort costs 3x more Python for little more locality.
_BY_PRACTICE = itemgetter(1)
_REJECTION_COLUMNS = (
    "source_topic",
    "source_partition",
    "source_offset",
    "key",
    "value",
    "supplier_id",
    "reason",
    "detail",
    # the summary of a decoded body, for the rejection's outcome
    "event_id",
    "practice_code",
    "activity_date",
    "revision",
)

SQL = queries("ingest.consumer")
_SETUP_SQL = SQL["batch_tables"]

_INSERT_REJECTED_SQL = SQL["insert_rejected"].format(columns=", ".join(_REJECTION_COLUMNS))

_UPSERT_CURRENT_SQL = SQL["upsert_current"].format(
    columns=", ".join(_EVENT_COLUMNS),
    updates=", ".join(f"{c} = EXCLUDED.{c}" for c in _EVENT_COLUMNS[3:]),
)

_STORED_REVISIONS_SQL = SQL["stored_revisions"].format(
    figures=", ".join(f"r.{c}" for c in COUNT_FIELDS)
)

_ACTIVITY_SQL = SQL["record_activity"]


@dataclass
class BatchResult:
    """What a committed batch did, for metrics and the DLQ."""

    outcomes: Counter[tuple[str, Outcome]] = field(default_factory=Counter)
    reasons: Counter[tuple[str | None, Reason]] = field(default_factory=Counter)
    rejections: list[Rejection] = field(default_factory=list)
    skipped: int = 0  # records another consumer had already stored
    records: int = 0  # records of the batch (valid, rejected and skipped)
    store_seconds: float = 0.0  # the batch transaction, from its start to its commit
    # (supplier, generated_at) of every revision stored by the batch, for the delay histogram
    stored_revisions: list[tuple[str, dt.datetime]] = field(default_factory=list)
    # per supplier, stored records whose key disagreed with their body (keys are advisory)
    key_mismatches: Counter[str] = field(default_factory=Counter)


BeforeCommit = Callable[[Sequence[Rejection]], Awaitable[None]]


class Store:
    """Reads and writes of the consumer, on one connection."""

    def __init__(self, conn: asyncpg.Connection) -> None:
        self._conn = conn
        self._ready = False
        self._partitions = RevisionPartitions()

    @property
    def connection(self) -> asyncpg.Connection:
        return self._conn

    async def _setup(self) -> None:
        if not self._ready:
            await self._conn.execute(_SETUP_SQL)
            await self._conn.execute(OUTBOX_SETUP_SQL)
            self._ready = True

    async def registered_suppliers(self) -> set[str]:
        rows = await self._conn.fetch(SQL["active_suppliers"])
        return {r["supplier_id"] for r in rows}

    async def stored_offsets(
        self, group: str, partitions: Iterable[TopicPartitionKey]
    ) -> dict[TopicPartitionKey, int]:
        """Next offset to read per partition, for those the database knows."""
        wanted = list(partitions)
        rows = await self._conn.fetch(
            SQL["stored_offsets"],
            group,
            [t for t, _ in wanted],
            [p for _, p in wanted],
        )
        return {
            (r["topic"], r["partition"]): r["next_offset"] for r in rows if r["next_offset"] >= 0
        }

    async def write_batch(
        self,
        group: str,
        triaged: Triaged,
        next_offsets: Mapping[TopicPartitionKey, int],
        before_commit: BeforeCommit | None = None,
        now: dt.datetime | None = None,
        key_mismatched: Sequence[DailyEvent] = (),
    ) -> BatchResult:
        """Store one batch and its offsets atomically; the DLQ hook runs before the commit.
        ``key_mismatched``: the batch's valid events whose record key disagrees with the body,
        counted in ``triage.record_key_mismatches`` (those another consumer stored left out)."""
        await self._setup()
        started = time.perf_counter()
        await self._partitions.ensure(self._conn, {e.activity_date for e in triaged.valid})
        async with self._conn.transaction():
            fence = await self._lock_offsets(group, next_offsets)
            valid, rejected = _unfenced(triaged, fence)
            received = len(triaged.valid) + len(triaged.rejections)
            result = BatchResult(skipped=received - len(valid) - len(rejected), records=received)
            keys = [(e.supplier_id, e.practice_code, e.activity_date) for e in valid]
            query = await self._start_stored_revisions(keys)
            try:
                # While Postgres looks the keys up, build every event's revision row in
                # practice order (rows do not depend on the outcome; non-new ones unused).
                raw_of = triaged.raw_of
                rows = {id(e): _revision_row(e, raw_of(e)[0]) for e in valid}
                ordered = sorted(rows.values(), key=_BY_PRACTICE)
            finally:
                stored = await _stored_from(query)
            resolution = resolve_batch(valid, keys, stored)
            rejected.extend(_conflict_rejections(resolution, triaged))
            await self._write_events(resolution, stored, rows, ordered)
            await self._touch_activity(valid, resolution, now)
            if key_mismatched:
                kept = {id(e) for e in valid}
                mismatched = [e for e in key_mismatched if id(e) in kept]
                await count_key_mismatches(self._conn, mismatched, now)
                result.key_mismatches.update(e.supplier_id for e in mismatched)
            await self._write_rejections(rejected)
            await note_partitions(self._conn, triaged.first_offsets)
            await write_outcomes(self._conn, outcome_rows(triaged, valid, resolution.outcomes))
            await self._advance(group, next_offsets)
            _count(result, valid, resolution, rejected)
            if before_commit is not None and rejected:
                await before_commit(rejected)
        result.store_seconds = time.perf_counter() - started
        return result

    async def _lock_offsets(
        self, group: str, next_offsets: Mapping[TopicPartitionKey, int]
    ) -> dict[TopicPartitionKey, int]:
        keys = sorted(next_offsets)
        topics, parts = [t for t, _ in keys], [p for _, p in keys]
        await self._conn.execute(
            SQL["add_offsets"],
            group,
            topics,
            parts,
        )
        rows = await self._conn.fetch(
            SQL["lock_offsets"],
            group,
            topics,
            parts,
        )
        return {(r["topic"], r["partition"]): r["next_offset"] for r in rows}

    async def _start_stored_revisions(
        self, keys: Sequence[EventKey]
    ) -> asyncio.Future[list[asyncpg.Record]] | None:
        """COPY the batch's distinct keys, then send the query of their stored revisions and
        return while Postgres runs it (None when there is nothing to look up)."""
        if not keys:
            return None
        await self._conn.copy_records_to_table(
            "batch_keys",
            records=set(keys),
            columns=("supplier_id", "practice_code", "activity_date"),
        )
        query: asyncio.Future[list[asyncpg.Record]] = asyncio.ensure_future(
            self._conn.fetch(_STORED_REVISIONS_SQL)
        )
        try:
            await asyncio.sleep(0)  # let it go out on the wire before the caller's CPU work
        except BaseException:  # cancelled (a forced stop): leave no query behind
            query.cancel()
            raise
        return query

    async def _write_events(
        self,
        resolution: Resolution,
        stored: Mapping[EventKey, object],
        rows: Mapping[int, tuple[object, ...]],
        ordered: list[tuple[object, ...]],
    ) -> None:
        """``rows``: the revision row of each valid event by the event's ``id``; ``ordered``:
        the same rows grouped by practice. A revision row starts with the current row's columns
        (sliced for those)."""
        if resolution.new_revisions:
            if len(resolution.new_revisions) < len(ordered):
                new = {id(rows[id(e)]) for e in resolution.new_revisions}
                ordered = [row for row in ordered if id(row) in new]
            await self._conn.copy_records_to_table(
                "daily_request_revisions",
                schema_name="triage",
                columns=_REVISION_COLUMNS,
                records=ordered,
            )
        if not resolution.current:
            return

        def current_row(e: DailyEvent) -> tuple[object, ...]:
            row = rows.get(id(e))
            return row[:_N_EVENT_COLUMNS] if row is not None else _event_row(e)

        known = [e for k, e in resolution.current.items() if k in stored]
        fresh = [e for k, e in resolution.current.items() if k not in stored]
        if fresh:
            # No revision of these keys was stored, so neither is a current row: plain COPY.
            # Should one be there after all (a concurrent writer), the savepoint undoes the
            # COPY and the guarded upsert below decides, as for known keys.
            try:
                async with self._conn.transaction():
                    await self._conn.copy_records_to_table(
                        "daily_requests",
                        schema_name="triage",
                        columns=_EVENT_COLUMNS,
                        records=sorted((current_row(e) for e in fresh), key=_BY_PRACTICE),
                    )
            except asyncpg.UniqueViolationError:
                known.extend(fresh)
        if known:
            await self._conn.copy_records_to_table(
                "batch_current",
                columns=_EVENT_COLUMNS,
                records=[current_row(e) for e in known],
            )
            await self._conn.execute(_UPSERT_CURRENT_SQL)

    async def _touch_activity(
        self, valid: Sequence[DailyEvent], resolution: Resolution, now: dt.datetime | None
    ) -> None:
        """Freshness: every valid event (not a conflicting one) shows the supplier reports;
        ``now`` is the service's clock (injectable), else the database's."""
        latest: dict[str, dt.date] = {}
        for event, outcome in zip(valid, resolution.outcomes, strict=True):
            if outcome is None:
                continue
            current = latest.get(event.supplier_id)
            if current is None or event.activity_date > current:
                latest[event.supplier_id] = event.activity_date
        if latest:
            stamp = now or await self._conn.fetchval(SQL["now"])
            await self._conn.execute(_ACTIVITY_SQL, list(latest), list(latest.values()), stamp)

    async def _write_rejections(self, rejected: Sequence[Rejection]) -> None:
        if rejected:
            await self._conn.copy_records_to_table(
                "batch_rejected",
                columns=_REJECTION_COLUMNS,
                records=[_rejection_row(r) for r in rejected],
            )
            await self._conn.execute(_INSERT_REJECTED_SQL)

    async def _advance(self, group: str, next_offsets: Mapping[TopicPartitionKey, int]) -> None:
        keys = sorted(next_offsets)
        await self._conn.execute(
            SQL["advance_offsets"],
            group,
            [t for t, _ in keys],
            [p for _, p in keys],
            [next_offsets[k] for k in keys],
        )


async def _stored_from(
    query: asyncio.Future[list[asyncpg.Record]] | None,
) -> dict[EventKey, dict[int, Figures]]:
    stored: dict[EventKey, dict[int, Figures]] = {}
    if query is not None:
        for row in await query:
            key = (row[0], row[1], row[2])
            stored.setdefault(key, {})[row[3]] = tuple(row[4:])
    return stored


def _tp(item: DailyEvent | Rejection) -> TopicPartitionKey:
    return (item.source.topic, item.source.partition)


def _unfenced(
    triaged: Triaged, fence: Mapping[TopicPartitionKey, int]
) -> tuple[list[DailyEvent], list[Rejection]]:
    """The batch's records that no consumer stored yet (offset at or past the fence)."""
    first = triaged.first_offsets  # lowest offset per partition of the batch (or empty)
    if first and all(lowest >= fence[tp] for tp, lowest in first.items()):
        return list(triaged.valid), list(triaged.rejections)
    valid = [e for e in triaged.valid if e.source.offset >= fence[_tp(e)]]
    rejected = [r for r in triaged.rejections if r.source.offset >= fence[_tp(r)]]
    return valid, rejected


def _event_row(e: DailyEvent) -> tuple[object, ...]:
    return (
        e.supplier_id,
        e.practice_code,
        e.activity_date,
        e.revision,
        *e.figures,
        e.event_id,
        e.generated_at,
    )


def _revision_row(e: DailyEvent, key: bytes | None) -> tuple[object, ...]:
    s = e.source
    return (
        e.supplier_id,
        e.practice_code,
        e.activity_date,
        e.revision,
        *e.figures,
        e.event_id,
        e.generated_at,
        s.topic,
        s.partition,
        s.offset,
        outcome_key(key),
    )


def _rejection_row(r: Rejection) -> tuple[object, ...]:
    s, summary = r.source, r.summary
    row = (s.topic, s.partition, s.offset, r.key, r.value, r.supplier_id, r.reason.value, r.detail)
    if summary is None:
        return (*row, None, None, None, None)
    return (*row, summary.event_id, summary.practice_code, summary.activity_date, summary.revision)


def _conflict_rejections(resolution: Resolution, triaged: Triaged) -> list[Rejection]:
    return [
        Rejection(
            c.event.source,
            *triaged.raw_of(c.event),
            c.event.supplier_id,
            Reason.CONFLICTING_REVISION,
            c.detail,
            EventSummary(
                c.event.event_id, c.event.practice_code, c.event.activity_date, c.event.revision
            ),
        )
        for c in resolution.conflicts
    ]


def _count(
    result: BatchResult,
    valid: Sequence[DailyEvent],
    resolution: Resolution,
    rejected: Sequence[Rejection],
) -> None:
    suppliers = [e.supplier_id for e in valid]
    result.outcomes.update(
        (s, o) for s, o in zip(suppliers, resolution.outcomes, strict=True) if o is not None
    )
    result.stored_revisions = [(e.supplier_id, e.generated_at) for e in resolution.new_revisions]
    for r in rejected:
        result.outcomes[(r.supplier_id or "unknown", Outcome.REJECTED)] += 1
        result.reasons[(r.supplier_id, r.reason)] += 1
    result.rejections = list(rejected)
