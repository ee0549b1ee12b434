"""Helpers of the ops suite: a controllable clock, freshness statuses from the metrics, and
a TCP proxy to Postgres that a test can cut to simulate an outage."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
from collections.abc import Iterable
from typing import Any

import asyncpg

from ingest.contract.model import FreshnessStatus
from ingest.ops.metrics import IngestMetrics
from ingest.settings import Settings
from tests.events import event
from tests.support.polling import wait_until

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


def events_for(supplier: str, day: dt.date, practices: Iterable[str]) -> list[dict[str, Any]]:
    return [event(supplier, practice_code=p, activity_date=day) for p in practices]


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
