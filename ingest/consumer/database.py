"""The consumer's Postgres connection: opened with migrations applied, reopened with back-off
while Postgres is away (never a rejection), and reflected in readiness.

A stop request ends the waiting: the batch in hand is then abandoned uncommitted
(:class:`BatchAbandonedError`) and read again by whoever consumes its partitions next.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import TypeVar

import asyncpg

from ingest.consumer.metrics import ConsumerMetrics
from ingest.consumer.readiness import Readiness
from ingest.consumer.retry import retry
from ingest.consumer.store import Store
from ingest.consumer.types import TopicPartitionKey
from ingest.db.connection import CONNECTION_LOST, WRITE_CONFLICTS, connect, is_connection_lost
from ingest.db.migrate import apply_migrations
from ingest.db.queries import queries
from ingest.errors import BatchAbandonedError, RetryStoppedError
from ingest.settings import Settings

log = logging.getLogger(__name__)

T = TypeVar("T")

# While idle, Postgres is checked this often so that /readyz does not report a database that
# went away (nothing else would touch it until the next record arrives).
DB_PROBE_SECONDS = 5.0


def _unreachable(error: BaseException) -> str:
    return f"Postgres unreachable ({error})"


class DatabaseSession:
    """One connection (and its :class:`Store`) kept open for the service's batches."""

    def __init__(
        self,
        settings: Settings,
        readiness: Readiness,
        metrics: ConsumerMetrics,
        stop: asyncio.Event,
    ) -> None:
        self._settings = settings
        self._readiness = readiness
        self._metrics = metrics
        self._stop = stop
        self._conn: asyncpg.Connection | None = None
        self._store: Store | None = None
        self._answered_at = 0.0  # event-loop time Postgres last answered

    @property
    def connected(self) -> bool:
        return self._store is not None

    def _lost(self, error: BaseException) -> None:
        self._readiness.database = False

    def _answered(self) -> None:
        self._readiness.database = True
        self._answered_at = asyncio.get_running_loop().time()

    async def connect(self) -> Store:
        """Connect and migrate, retrying while Postgres is unreachable.

        Raises :class:`RetryStoppedError` when a stop is requested before it succeeds."""
        if self._stop.is_set():
            raise RetryStoppedError("stopped before Postgres was reached")

        async def attempt() -> tuple[asyncpg.Connection, set[str]]:
            conn = await connect(self._settings.database())
            try:
                await apply_migrations(conn)
                registered = await Store(conn).registered_suppliers()
            except BaseException:
                conn.terminate()  # never leak a half-set-up connection
                raise
            return conn, registered

        conn, registered = await retry(
            attempt,
            retry_on=CONNECTION_LOST,
            cap=self._settings.db_retry_max_seconds,
            describe=_unreachable,
            on_failure=self._lost,
            stop=self._stop,
            logger=log,
        )
        self._conn, self._store = conn, Store(conn)
        self._answered()
        self._metrics.set_registered(registered)
        return self._store

    def _drop(self) -> None:
        if self._conn is not None and not self._conn.is_closed():
            self._conn.terminate()
        self._conn = self._store = None

    async def run(self, action: Callable[[Store], Awaitable[T]]) -> T:
        """Run ``action`` on the store: reconnecting with back-off while Postgres is down,
        redone after a write conflict. A stop request during the waits abandons it
        (:class:`BatchAbandonedError`)."""

        async def attempt() -> T:
            store = self._store or await self.connect()
            return await action(store)

        def failed(error: BaseException) -> None:
            if is_connection_lost(error):
                self._lost(error)
                self._drop()

        def describe(error: BaseException) -> str:
            if is_connection_lost(error):
                return _unreachable(error)
            return f"concurrent write detected ({type(error).__name__}: {error}); batch redone"

        try:
            result = await retry(
                attempt,
                retry_on=CONNECTION_LOST + WRITE_CONFLICTS,
                cap=self._settings.db_retry_max_seconds,
                describe=describe,
                on_failure=failed,
                stop=self._stop,
                logger=log,
            )
        except RetryStoppedError as exc:
            raise BatchAbandonedError(f"stopped while retrying: {exc}") from exc
        self._answered()
        return result

    def probe_due(self) -> bool:
        """Whether an idle consumer should check Postgres now."""
        return asyncio.get_running_loop().time() - self._answered_at > DB_PROBE_SECONDS

    async def probe(self) -> None:
        """Check Postgres; readiness drops while it is unreachable (and this waits for it,
        as with a batch in hand). Stopped meanwhile: returns, nothing was in hand."""
        try:
            await self.run(_ping)
        except BatchAbandonedError:
            return

    async def stored_offsets(
        self, group: str, keys: list[TopicPartitionKey]
    ) -> dict[TopicPartitionKey, int]:
        """Offsets from Postgres on a connection of their own (the batch's may be busy: a
        rebalance can run while a batch is being written); waits for Postgres, never stops."""

        async def attempt() -> dict[TopicPartitionKey, int]:
            conn = await connect(self._settings.database())
            try:
                return await Store(conn).stored_offsets(group, keys)
            finally:
                await conn.close()

        return await retry(
            attempt,
            retry_on=CONNECTION_LOST,
            cap=self._settings.db_retry_max_seconds,
            describe=_unreachable,
            on_failure=self._lost,
            logger=log,
        )

    async def close(self) -> None:
        if self._conn is not None and not self._conn.is_closed():
            await self._conn.close(timeout=5)
        self._conn = self._store = None


async def _ping(store: Store) -> None:
    await store.connection.fetchval(queries("ingest.consumer")["ping"], timeout=5)
