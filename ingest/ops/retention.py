"""Purging the bytes of ``practice_not_participating`` rejections after their retention period
(contract v1.1 section 6): key and value become NULL, ``bytes_purged_at`` is set; the row, its
reason and detail stay. A purged rejection can no longer be replayed.

Run by the service every ``purge_interval_seconds`` (:class:`PurgeSchedule`) and by
``ingest dlq purge``.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging

import asyncpg

from ingest.contract.model import Reason
from ingest.db.connection import CONNECTION_LOST, connect
from ingest.settings import Settings

log = logging.getLogger(__name__)

_PURGE_SQL = """
UPDATE triage.rejected_events
SET key = NULL, value = NULL, bytes_purged_at = clock_timestamp()
WHERE reason = $1 AND bytes_purged_at IS NULL AND received_at < clock_timestamp() - $2::interval
"""


async def purge_not_participating(conn: asyncpg.Connection, retention: dt.timedelta) -> int:
    """Purge the bytes of practice_not_participating rejections received more than
    ``retention`` ago; returns how many were purged."""
    status: str = await conn.execute(_PURGE_SQL, Reason.PRACTICE_NOT_PARTICIPATING.value, retention)
    return int(status.rsplit(" ", 1)[-1])


class PurgeSchedule:
    """The service's purge timer (first run at start-up, then every interval)."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
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

    async def run_once(self) -> int:
        retention = dt.timedelta(days=self._settings.not_participating_retention_days)
        conn = await connect(self._settings.database())
        try:
            purged = await purge_not_participating(conn, retention)
        finally:
            await conn.close()
        if purged:
            log.info(
                "purged the bytes of %d practice_not_participating rejections older than %s",
                purged,
                retention,
            )
        self.runs += 1
        return purged

    async def _run(self) -> None:
        while True:
            try:
                await self.run_once()
            except (*CONNECTION_LOST, asyncpg.PostgresError) as exc:
                log.warning("purge of rejection bytes failed (%s); next try in one interval", exc)
            await asyncio.sleep(self._settings.purge_interval_seconds)
