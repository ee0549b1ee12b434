"""The CPU work of the next batch, done while the previous batch is written to Postgres.

With ``INGEST_OVERLAP_BATCHES`` the service triages batch N+1 (decode, validate, the key check)
while batch N's transaction runs. Both share the event loop: the triage runs in chunks and
yields between them, so the write resumes within one chunk of Postgres answering. (A worker
thread was measured to fight the write for the GIL: the triage took twice as long and the
overlap gained nothing.) Splitting changes nothing: records are triaged one by one, and the
chunks' results, joined in order, are the whole batch's (:func:`join`).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Collection, Coroutine, Mapping, Sequence
from typing import Any

from ingest.clock import Clock
from ingest.consumer.batch import TriagedOnce, limits_now, triage_basis
from ingest.consumer.decoding import Decoder
from ingest.consumer.key_check import mismatched_keys
from ingest.consumer.pipeline import Triaged, triage
from ingest.consumer.schema_registry.released import RegistrySchema
from ingest.consumer.types import RecordLike
from ingest.contract.model import DailyEvent
from ingest.contract.participation import ParticipationList
from ingest.contract.validation import Limits
from ingest.settings import Settings

# ~5 ms of triage on this project's benchmark machine: the longest a ready write waits
TRIAGE_CHUNK_RECORDS = 1000


def join(into: Triaged, part: Triaged) -> None:
    """Append ``part`` (the records after those of ``into``) to ``into``."""
    into.valid.extend(part.valid)
    into.rejections.extend(part.rejections)
    into.valid_records.extend(part.valid_records)
    for tp, low in part.first_offsets.items():
        if low < into.first_offsets.get(tp, low + 1):
            into.first_offsets[tp] = low


async def triage_in_chunks(
    records: Sequence[RecordLike],
    decoder: Decoder,
    registered: Collection[str],
    limits: Limits,
    schemas: Mapping[int, RegistrySchema],
    chunk: int = TRIAGE_CHUNK_RECORDS,
) -> tuple[Triaged, list[DailyEvent]]:
    """``triage`` and ``mismatched_keys`` of ``records``, ``chunk`` records at a time, yielding
    to the event loop after each chunk."""
    whole = Triaged()
    mismatched: list[DailyEvent] = []
    for start in range(0, len(records), chunk):
        part = triage(records[start : start + chunk], decoder, registered, limits, schemas)
        mismatched.extend(mismatched_keys(part.valid, part.valid_records))
        join(whole, part)
        await asyncio.sleep(0)
    return whole, mismatched


async def triage_ahead(
    records: Sequence[RecordLike],
    decoder: Decoder,
    inputs: tuple[set[str], ParticipationList | None] | None,
    settings: Settings,
    clock: Clock,
    schemas: Mapping[int, RegistrySchema],
) -> TriagedOnce:
    """A batch's triage against ``inputs`` (the registered suppliers and the participation
    list the last write read), kept with its basis so that its write reuses it if they are
    unchanged; none yet: nothing computed."""
    once = TriagedOnce()
    if inputs is None:
        return once
    registered, participation = inputs
    limits = limits_now(settings, clock, participation)
    triaged, mismatched = await triage_in_chunks(records, decoder, registered, limits, schemas)
    once.keep(triage_basis(registered, limits), triaged, mismatched)
    return once


class WriteInFlight:
    """At most one batch write running as a task while the loop fetches and triages the next.

    A write holds the assignment lock from its batch's admission until its transaction ends
    (so an assignment waits for it, as for the serial loop's batch). A batch is admitted only
    once the previous write has ended, so batches are stored in order."""

    def __init__(self, lock: asyncio.Lock) -> None:
        self._lock = lock
        self._holding = False
        self._task: asyncio.Task[None] | None = None

    async def start(
        self,
        admit: Callable[[], Awaitable[bool]],
        write: Callable[[Callable[[], None]], Coroutine[Any, Any, None]],
    ) -> None:
        """Take the lock and, if ``admit()`` says so, run ``write(release)`` as the write in
        flight; it calls ``release`` once its transaction is over. The previous write must
        have ended (:meth:`drain`): a batch is written only after the one before it."""
        if self._task is not None:
            raise RuntimeError("a batch write is still in flight")
        await self._lock.acquire()
        self._holding = True
        try:
            if await admit():
                self._task = asyncio.create_task(write(self.release))
        finally:
            if self._task is None:
                self.release()

    @property
    def running(self) -> bool:
        """Whether a write is in flight and not over yet."""
        return self._task is not None and not self._task.done()

    def release(self) -> None:
        """Release the assignment lock taken for the write (once)."""
        if self._holding:
            self._holding = False
            self._lock.release()

    async def drain(self) -> None:
        """Wait for the write in flight (if any) to end; its errors are raised here."""
        task, self._task = self._task, None
        if task is not None:
            await task

    async def abandon(self) -> None:
        """On a forced stop or a failure: cancel the write in flight (its transaction is not
        committed, its batch is read again) and wait for it to end."""
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            await asyncio.wait([task])
            if not task.cancelled():
                task.exception()  # seen (a failure is already being handled)
        self.release()  # a write cancelled before it began did not release it
