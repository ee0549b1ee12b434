"""Making the revisions' monthly partitions before a batch's rows arrive.

Called by the store before each batch's transaction (never inside it: making a partition locks
the partitioned table, which another consumer's open batch holds). Once per month a process
meets, it calls ``triage.add_revision_partitions`` for that month and the next one; a batch of
days already seen costs one set difference. Should the partition not be made (a long query
holds the table past the function's lock timeout, or the role may not execute it), the rows
go to the default partition, which is correct, only slower, and the function moves them into
their month's partition when it runs again, at the first batch after ``RETRY_SECONDS``."""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Callable, Set

import asyncpg

from ingest.consumer.partition_months import MonthsCovered
from ingest.db.queries import queries

log = logging.getLogger(__name__)

RETRY_SECONDS = 300.0
_ADD_SQL = queries("ingest.consumer")["add_revision_partitions"]


class RevisionPartitions:
    """One consumer connection's knowledge of the partitions made."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._months = MonthsCovered()
        self._clock = clock
        self._retry_at = 0.0

    async def ensure(self, conn: asyncpg.Connection, days: Set[dt.date]) -> None:
        """Make sure the months of ``days`` (and the month after them) have their partitions."""
        wanted = self._months.to_cover(days)
        if wanted is None or self._clock() < self._retry_at:
            return
        try:
            await conn.fetchval(_ADD_SQL, *wanted)
        except (asyncpg.LockNotAvailableError, asyncpg.InsufficientPrivilegeError) as exc:
            self._retry_at = self._clock() + RETRY_SECONDS
            log.warning(
                "revision partitions for %s to %s not made (%s); their rows go to the default"
                " partition until the next try, in %.0f s",
                wanted[0].isoformat(),
                wanted[1].isoformat(),
                exc,
                RETRY_SECONDS,
            )
            return
        self._months.covered(*wanted)
