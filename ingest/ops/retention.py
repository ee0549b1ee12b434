"""Purging the bytes of rejections after their retention period: ``practice_not_participating``
ones after ``not_participating_retention_days`` (contract v1.1 section 6, default 30), every
other reason after ``rejection_bytes_retention_days`` (default 90: rejections must not
grow without bound). Key and value become NULL, ``bytes_purged_at`` is set; the row, its reason
and detail stay. A purged rejection can no longer be replayed.

Run by the service every ``purge_interval_seconds`` (:class:`PurgeSchedule`) and by
``ingest dlq purge``.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass

import asyncpg

from ingest.contract.model import Reason
from ingest.db.connection import CONNECTION_LOST, connect
from ingest.db.queries import queries
from ingest.settings import Settings

log = logging.getLogger(__name__)

SQL = queries("ingest.ops")

NOT_PARTICIPATING = Reason.PRACTICE_NOT_PARTICIPATING.value


@dataclass(frozen=True)
class Purged:
    """How many rejections lost their bytes in one purge."""

    not_participating: int
    other: int

    @property
    def total(self) -> int:
        return self.not_participating + self.other


async def _purge(conn: asyncpg.Connection, not_participating: bool, retention: dt.timedelta) -> int:
    """Purge the bytes of the practice_not_participating rejections (or of all the others)
    received more than ``retention`` ago; returns how many were purged."""
    status: str = await conn.execute(
        SQL["purge_rejection_bytes"], NOT_PARTICIPATING, not_participating, retention
    )
    return int(status.rsplit(" ", 1)[-1])


async def purge_rejection_bytes(
    conn: asyncpg.Connection, not_participating: dt.timedelta, other: dt.timedelta
) -> Purged:
    """Both purges, each past its own retention."""
    return Purged(
        await _purge(conn, True, not_participating),
        await _purge(conn, False, other),
    )


class PurgeSchedule:
    """The service's purge timer (first run at start-up, then every interval)."""

    def __init__(
        self, settings: Settings, on_purged: Callable[[Purged], None] | None = None
    ) -> None:
        self._settings = settings
        self._on_purged = on_purged  # e.g. the metrics' triage_rejection_bytes_purged_total
        self._task: asyncio.Task[None] | None = None
        self.runs = 0  # successful runs so far

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="rejection-bytes-purge")

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.wait([self._task])
            self._task = None

    async def run_once(self) -> Purged:
        cfg = self._settings
        not_participating = dt.timedelta(days=cfg.not_participating_retention_days)
        other = dt.timedelta(days=cfg.rejection_bytes_retention_days)
        conn = await connect(cfg.database())
        try:
            purged = await purge_rejection_bytes(conn, not_participating, other)
        finally:
            await conn.close()
        if purged.total:
            log.info(
                "purged the bytes of %d practice_not_participating rejections older than %s"
                " and of %d other rejections older than %s",
                purged.not_participating,
                not_participating,
                purged.other,
                other,
            )
        if self._on_purged is not None:
            self._on_purged(purged)
        self.runs += 1
        return purged

    async def _run(self) -> None:
        while True:
            try:
                await self.run_once()
            except (*CONNECTION_LOST, asyncpg.PostgresError) as exc:
                log.warning("purge of rejection bytes failed (%s); next try in one interval", exc)
            await asyncio.sleep(self._settings.purge_interval_seconds)
