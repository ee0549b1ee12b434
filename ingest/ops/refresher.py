"""The freshness refresher: derives the ops gauges from Postgres on start-up and on a timer.

Freshness lives in Postgres (``triage.supplier_activity``), so a restarted process, or a
second consumer process, publishes the same statuses as soon as its first refresh is done:
a restart never makes a silent supplier look fine. The refresher uses a pool of its own
(never the consumer's connection), evaluates ``triage.supplier_freshness_at(clock())`` so that
tests can inject time, and survives Postgres outages: a failed refresh keeps the last values,
counts ``triage_freshness_refresh_failures_total`` and is retried with a short backoff (the
stale ``triage_freshness_refresh_timestamp_seconds`` tells alerting).

It also serves the status page's snapshots (ingest/ops/status_page.py) from the same pool.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
from collections.abc import Awaitable, Callable, Iterable, Mapping
from typing import Protocol

import asyncpg

from ingest.clock import Clock, local_today, system_clock
from ingest.contract.model import supplier_of_topic
from ingest.ops.freshness import StatusSnapshot, SupplierFreshness, coverage_days
from ingest.ops.freshness_store import (
    fetch_freshness,
    fetch_missing_counts,
    fetch_outbox_parked,
    fetch_outbox_pending,
    fetch_status_snapshot,
    fetch_volume,
)
from ingest.ops.metrics import IngestMetrics
from ingest.ops.unknown_practices import fetch_unknown_practice_counts
from ingest.settings import Settings

log = logging.getLogger(__name__)

# What a refresh survives: Postgres unreachable, restarting, or not migrated yet.
DATABASE_ERRORS: tuple[type[BaseException], ...] = (
    OSError,  # includes TimeoutError and refused connections
    asyncpg.PostgresError,
    asyncpg.InterfaceError,
)

LagSource = Callable[[], Awaitable[Mapping[str | None, int]]]


class FreshnessRefresher:
    """Background task publishing freshness, missing practices, unknown practices and lag."""

    def __init__(
        self,
        settings: Settings,
        metrics: IngestMetrics,
        clock: Clock = system_clock,
        lag_source: LagSource | None = None,
    ) -> None:
        self.settings = settings
        self.metrics = metrics
        self.clock = clock
        self.refreshes = 0  # successful refreshes so far
        self._lag_source = lag_source
        self._pool: asyncpg.Pool | None = None
        self._stop = asyncio.Event()
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._last_rows: tuple[SupplierFreshness, ...] = ()
        self._refreshed = asyncio.Condition()
        self._volume_at: float | None = None  # loop time of the last volume reading

    # --- lifecycle -----------------------------------------------------------------
    def start(self) -> None:
        """Start the timer task (the first refresh runs at once)."""
        if self._task is None:
            self._task = asyncio.create_task(self.run(), name="freshness-refresher")

    async def close(self) -> None:
        """Stop the timer and close the pool."""
        self._stop.set()
        if self._task is not None:
            self._task.cancel()  # a refresh waiting on an unreachable Postgres ends now
            await asyncio.wait([self._task])  # never re-raises the task's cancellation
            self._task = None
        if self._pool is not None:
            pool, self._pool = self._pool, None
            try:
                await asyncio.wait_for(pool.close(), 5)
            except DATABASE_ERRORS as exc:  # TimeoutError is an OSError
                log.info("freshness pool did not close cleanly (%s); terminating", exc)
                pool.terminate()

    def refresh_soon(self) -> None:
        """Run the next refresh now instead of at the end of the interval."""
        self._wake.set()

    async def run(self) -> None:
        """Refresh until closed; backoff after a failure is capped by the interval."""
        interval = self.settings.freshness_refresh_seconds
        delay_after_failure = min(0.5, interval)
        while not self._stop.is_set():
            ok = await self.refresh_once()
            await self._refresh_lag()
            if ok:
                delay_after_failure = min(0.5, interval)
                delay = interval
            else:
                delay = delay_after_failure
                delay_after_failure = min(delay_after_failure * 2, interval)
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=delay)

    async def wait_for_refresh(self, after: int) -> None:
        """Wait until more than ``after`` refreshes succeeded (wrap in asyncio.timeout)."""
        async with self._refreshed:
            await self._refreshed.wait_for(lambda: self.refreshes > after)

    # --- one refresh ---------------------------------------------------------------
    async def refresh_once(self) -> bool:
        """Derive the gauges from Postgres now; False (old values kept) when it failed."""
        now = self.clock()
        try:
            pool = await self._get_pool()
            async with pool.acquire(timeout=10) as conn:
                async with conn.transaction(readonly=True, isolation="repeatable_read"):
                    rows = await fetch_freshness(conn, now)
                    missing = await fetch_missing_counts(conn)
                await self._publish(rows, missing, now)
                await self._refresh_unknown_practices(conn)
                await self._refresh_volume(conn)
                await self._refresh_outbox(conn)
        except DATABASE_ERRORS as exc:
            self.metrics.refresh_failures.inc()
            log.warning(
                "freshness refresh failed (%s: %s); keeping the last values",
                type(exc).__name__,
                exc,
            )
            return False
        return True

    async def _publish(
        self, rows: list[SupplierFreshness], missing: Mapping[str, int], now: dt.datetime
    ) -> None:
        self.metrics.publish_freshness(rows, missing, now.timestamp())
        self._last_rows = tuple(rows)
        async with self._refreshed:
            self.refreshes += 1
            self._refreshed.notify_all()

    async def _refresh_unknown_practices(self, conn: asyncpg.Connection) -> None:
        """The analytics gauge ``triage_unknown_practices`` (ingest/ops/unknown_practices.py);
        its failure never holds the freshness gauges back."""
        try:
            counts = await fetch_unknown_practice_counts(conn)
        except DATABASE_ERRORS as exc:  # e.g. analytics views not migrated yet
            log.info("triage_unknown_practices not refreshed: %s", exc)
            return
        # Label safety: only the active suppliers of this refresh (a deactivated supplier's
        # codes fold into `unknown`, and its series disappears).
        active: dict[str, int] = {}
        for supplier, n in counts.items():
            label = self.metrics.label(supplier)
            active[label] = active.get(label, 0) + n
        self.metrics.unknown_practices.set_counts(active)

    async def _refresh_volume(self, conn: asyncpg.Connection) -> None:
        """The volume-anomaly gauges, every ``volume_refresh_seconds`` (heavier than the
        freshness read); a failure never holds the freshness gauges back."""
        now = asyncio.get_running_loop().time()
        if self._volume_at is not None and now - self._volume_at < (
            self.settings.volume_refresh_seconds
        ):
            return
        try:
            assessments = await fetch_volume(conn)
        except DATABASE_ERRORS as exc:
            log.info("volume anomaly gauges not refreshed: %s", exc)
            return
        self._volume_at = now
        self.metrics.publish_volume(assessments)

    async def _refresh_outbox(self, conn: asyncpg.Connection) -> None:
        """The outcome outbox backlog; its failure never holds the freshness gauges back."""
        try:
            pending = await fetch_outbox_pending(conn)
            parked = await fetch_outbox_parked(conn)
        except DATABASE_ERRORS as exc:
            log.info("outbox gauge not refreshed: %s", exc)
            return
        self.metrics.outbox_pending.set(pending)
        self.metrics.publish_parked(parked)

    async def _refresh_lag(self) -> None:
        if self._lag_source is None:
            return
        self.metrics.publish_lag(await self._lag_source())

    # --- status page ---------------------------------------------------------------
    async def snapshot(self) -> StatusSnapshot:
        """The status page's data at ``clock()``; with Postgres unreachable, the last
        refreshed freshness re-evaluated at now, flagged with the error."""
        now = self.clock()
        try:
            pool = await self._get_pool()
            async with pool.acquire(timeout=10) as conn:
                return await fetch_status_snapshot(conn, now, self.settings.timezone)
        except DATABASE_ERRORS as exc:
            log.warning("status page: Postgres unreachable (%s)", exc)
            return stale_snapshot(self._last_rows, now, self.settings.timezone, str(exc))

    async def _get_pool(self) -> asyncpg.Pool:
        if self._pool is None:
            self._pool = await asyncpg.create_pool(
                self.settings.database(),
                min_size=0,
                max_size=2,
                timeout=10,
                command_timeout=30,
            )
        return self._pool


def stale_snapshot(
    rows: Iterable[SupplierFreshness], now: dt.datetime, timezone: str, error: str
) -> StatusSnapshot:
    """What the page can still say without Postgres: the last known rows, at ``now``."""
    today = local_today(now, timezone)
    return StatusSnapshot(
        now=now,
        today=today,
        suppliers=tuple(row.at(now) for row in rows),
        missing={},
        activity={},
        coverage={},
        days=tuple(coverage_days(today)),
        database_error=error,
    )


class LagConsumer(Protocol):
    """The part of AIOKafkaConsumer the lag reading uses."""

    def assignment(self) -> Iterable[object]: ...

    def highwater(self, partition: object) -> int | None: ...

    async def position(self, partition: object) -> int: ...


async def kafka_lag(
    consumer: LagConsumer | None, per_partition: float = 1.0
) -> dict[str | None, int]:
    """Records behind on this process's assigned partitions, by the topic's supplier.

    Partitions whose high watermark is not known yet (nothing fetched) are left out; an
    error reading one partition (revoked meanwhile) leaves that partition out.
    """
    if consumer is None:
        return {}
    from aiokafka.errors import KafkaError

    try:
        highs = [(tp, consumer.highwater(tp)) for tp in list(consumer.assignment())]
    except (AssertionError, KafkaError):  # assignment changed under us
        return {}
    lag: dict[str | None, int] = {}
    for tp, high in highs:
        if high is None:
            continue
        try:
            position = await asyncio.wait_for(consumer.position(tp), per_partition)
        except (KafkaError, TimeoutError):
            continue
        supplier = supplier_of_topic(str(getattr(tp, "topic", "")))
        lag[supplier] = lag.get(supplier, 0) + max(high - position, 0)
    return lag
