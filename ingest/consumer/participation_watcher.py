"""The participation list the consumer applies, re-read when a new list is loaded.

The current load id of kind ``participation`` is checked at most every
``participation_check_seconds`` (at most a minute: the contract's bound), on the batch's own
connection, and the list is read again only when that id changed. No list loaded = None:
nothing is rejected for participation.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

import asyncpg

from ingest.contract.participation import ParticipationList, ParticipationPeriod
from ingest.db.queries import queries

log = logging.getLogger(__name__)

SQL = queries("ingest.consumer")
_CURRENT_LOAD_SQL = SQL["current_participation_load"]
_PERIODS_SQL = SQL["participation_periods"]


async def read_participation(
    conn: asyncpg.Connection, load_id: int | None = None
) -> ParticipationList | None:
    """The participation list of ``load_id`` (default: the current load), or None."""
    if load_id is None:
        load_id = await conn.fetchval(_CURRENT_LOAD_SQL)
        if load_id is None:
            return None
    rows = await conn.fetch(_PERIODS_SQL, load_id)
    return ParticipationList.of(
        load_id,
        (
            ParticipationPeriod(r["practice_code"], r["participating_from"], r["participating_to"])
            for r in rows
        ),
    )


class ParticipationWatcher:
    """Keeps the current participation list, checking for a new load now and then."""

    def __init__(
        self, check_seconds: float, monotonic: Callable[[], float] = time.monotonic
    ) -> None:
        self._check_seconds = check_seconds
        self._monotonic = monotonic
        self._checked_at: float | None = None
        self.current: ParticipationList | None = None

    async def refresh(self, conn: asyncpg.Connection) -> ParticipationList | None:
        """The list to apply now: re-read when the check is due and the load changed."""
        now = self._monotonic()
        if self._checked_at is not None and now - self._checked_at < self._check_seconds:
            return self.current
        load_id: int | None = await conn.fetchval(_CURRENT_LOAD_SQL)
        known = None if self.current is None else self.current.load_id
        if load_id != known:
            self.current = None if load_id is None else await read_participation(conn, load_id)
            if self.current is None:
                log.info("no participation list loaded: no event rejected for participation")
            else:
                log.info(
                    "participation list load %d applied (%d practices)",
                    self.current.load_id,
                    self.current.practices,
                )
        self._checked_at = now
        return self.current
