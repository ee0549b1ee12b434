"""The real ingestion service in this event loop, and waiting for it to catch up."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import time
from collections.abc import AsyncIterator, Callable, Sequence
from typing import Any

import asyncpg

from ingest.consumer.service import IngestService
from ingest.ops.metrics import IngestMetrics
from ingest.ops.process import serve
from ingest.settings import Settings
from tests.support.kafka import end_offsets


@contextlib.asynccontextmanager
async def running(
    settings: Settings, metrics: IngestMetrics | None = None, **kwargs: Any
) -> AsyncIterator[IngestService[IngestMetrics]]:
    """The consumer (``IngestService.run``) in a task; stopped gracefully on exit."""
    service = IngestService(settings, metrics or IngestMetrics(), **kwargs)
    task = asyncio.create_task(service.run())
    try:
        yield service
    finally:
        service.request_stop()
        await asyncio.wait_for(task, timeout=60)


@contextlib.asynccontextmanager
async def serving(
    settings: Settings, clock: Callable[[], dt.datetime] | None = None
) -> AsyncIterator[IngestService[IngestMetrics]]:
    """The whole process, ``serve()`` (consumer + HTTP + freshness refresher), in a task;
    stopped gracefully on exit."""
    metrics = IngestMetrics()
    service = (
        IngestService(settings, metrics, clock=clock) if clock else IngestService(settings, metrics)
    )
    task = asyncio.create_task(serve(settings, service))
    try:
        yield service
    finally:
        service.request_stop()
        await asyncio.wait_for(task, 60)


async def wait_consumed(
    pg: asyncpg.Connection,
    settings: Settings,
    topics: Sequence[str],
    timeout: float = 60.0,
    alive: Callable[[], None] | None = None,
) -> float:
    """Wait until the offsets stored in Postgres (the consumer group's) reach the end of every
    partition of the topics; returns the seconds it took. ``alive``, called at each poll,
    raises when the consumers have died (no point waiting)."""
    ends = await end_offsets(settings, topics)
    began = time.monotonic()
    while True:
        if alive is not None:
            alive()
        rows = await pg.fetch(
            "SELECT topic, partition, next_offset FROM triage.consumer_offsets WHERE group_id = $1",
            settings.consumer_group,
        )
        stored = {(r["topic"], r["partition"]): r["next_offset"] for r in rows}
        behind = {
            tp: (stored.get(tp, 0), end) for tp, end in ends.items() if stored.get(tp, 0) < end
        }
        if not behind:
            return time.monotonic() - began
        if time.monotonic() - began > timeout:
            raise AssertionError(
                f"stalled: stored offsets behind the end after {timeout} s (stored, end): {behind}"
            )
        await asyncio.sleep(0.1)


def sample(service: IngestService, name: str, **labels: str) -> float:
    """A metric's current value in the service's registry (0 when the series is absent)."""
    value = service.metrics.registry.get_sample_value(name, labels)
    return 0.0 if value is None else value
