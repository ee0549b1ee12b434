"""Helpers of the ops suite: a controllable clock, a running service, events to Kafka, and
a TCP proxy to Postgres that a test can cut to simulate an outage."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from typing import Any

import asyncpg

from ingest.consumer.service import IngestService, serve
from ingest.contract.model import FreshnessStatus, topic_for
from ingest.kafka import make_producer
from ingest.ops.metrics import IngestMetrics
from ingest.ops.suppliers import add_supplier
from ingest.settings import Settings
from tests.events import encoded, event, key_of

H = dt.timedelta(hours=1)


class FakeClock:
    """Real time plus an offset the test moves forward ("time passes")."""

    def __init__(self) -> None:
        self.offset = dt.timedelta(0)

    def __call__(self) -> dt.datetime:
        return dt.datetime.now(dt.UTC) + self.offset

    def advance(self, by: dt.timedelta) -> None:
        self.offset += by


def fast(settings: Settings, **changes: Any) -> Settings:
    """The test's settings with a quick freshness refresh."""
    return settings.model_copy(update={"freshness_refresh_seconds": 0.2, **changes})


async def register(
    pg: asyncpg.Connection, supplier: str, warn: str = "26h", error: str = "50h"
) -> None:
    from ingest.durations import parse_duration

    await add_supplier(pg, supplier, supplier.upper(), parse_duration(warn), parse_duration(error))


async def produce(settings: Settings, payloads: Iterable[dict[str, Any]], topic: str = "") -> None:
    """Send events to their supplier's topic (or ``topic``), waiting for the acks."""
    producer = make_producer(settings)
    await producer.start()
    try:
        for payload in payloads:
            await producer.send_and_wait(
                topic or topic_for(payload["supplier_id"]), encoded(payload), key=key_of(payload)
            )
    finally:
        await producer.stop()


async def produce_raw(settings: Settings, topic: str, values: Iterable[bytes]) -> None:
    producer = make_producer(settings)
    await producer.start()
    try:
        for value in values:
            await producer.send_and_wait(topic, value)
    finally:
        await producer.stop()


def events_for(supplier: str, day: dt.date, practices: Iterable[str]) -> list[dict[str, Any]]:
    return [event(supplier, practice_code=p, activity_date=day) for p in practices]


async def wait_until(
    check: Callable[[], Awaitable[bool]] | Callable[[], bool],
    within: float = 30.0,
    what: str = "condition",
) -> None:
    deadline = time.monotonic() + within
    while True:
        result = check()
        if asyncio.iscoroutine(result):
            result = await result
        if result:
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {within}s waiting for {what}")
        await asyncio.sleep(0.1)


def status_of(metrics: IngestMetrics, supplier: str) -> FreshnessStatus | None:
    """The status whose one-hot gauge is 1, or None when the supplier has no series."""
    get = metrics.registry.get_sample_value
    hot = [
        s
        for s in FreshnessStatus
        if get("triage_supplier_status", {"supplier": supplier, "status": s.value}) == 1.0
    ]
    assert len(hot) <= 1, hot
    return hot[0] if hot else None


async def wait_status(
    metrics: IngestMetrics, supplier: str, expected: FreshnessStatus, within: float = 30.0
) -> None:
    await wait_until(
        lambda: status_of(metrics, supplier) is expected,
        within,
        f"{supplier} to be {expected.value} (is {status_of(metrics, supplier)})",
    )


async def stored_events(pg: asyncpg.Connection, supplier: str) -> int:
    return int(
        await pg.fetchval(
            "SELECT count(*) FROM triage.daily_request_revisions WHERE supplier_id = $1", supplier
        )
    )


@contextlib.asynccontextmanager
async def running(
    settings: Settings, clock: Callable[[], dt.datetime] | None = None
) -> AsyncIterator[IngestService]:
    """``serve()`` (consumer + HTTP + freshness refresher) in a task, stopped afterwards."""
    service = IngestService(settings, clock=clock) if clock else IngestService(settings)
    task = asyncio.create_task(serve(settings, service))
    try:
        yield service
    finally:
        service.request_stop()
        await asyncio.wait_for(task, 60)


# --- a TCP proxy to Postgres that can be cut -------------------------------------------


class PostgresProxy:
    """127.0.0.1:<port> -> the real Postgres; ``cut()`` drops every connection and refuses
    new ones until ``restore()``."""

    def __init__(self, host: str, port: int) -> None:
        self._target = (host, port)
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        self.port = 0

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", self.port)
        self.port = self._server.sockets[0].getsockname()[1]

    async def cut(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None
        for writer in list(self._writers):
            writer.transport.abort()
        self._writers.clear()

    async def restore(self) -> None:
        await self.start()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            up_reader, up_writer = await asyncio.open_connection(*self._target)
        except OSError:
            writer.transport.abort()
            return
        self._writers.update((writer, up_writer))

        async def pipe(src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
            with contextlib.suppress(OSError, asyncio.IncompleteReadError):
                while data := await src.read(65536):
                    dst.write(data)
                    await dst.drain()
            dst.transport.abort()

        await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))
        self._writers.difference_update((writer, up_writer))
