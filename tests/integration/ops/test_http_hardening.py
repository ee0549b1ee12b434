"""The HTTP server cannot be held open, exhausted or reached through a rebound name
(security review: 200 idle and 200 slow-header connections were held for 120 s; with a low
open-files limit they starved the consumer of Postgres connections; any Host was answered).
Real sockets against the server as the service starts it."""

from __future__ import annotations

import asyncio
import contextlib
import os
import resource
import subprocess
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from aiohttp import web

from ingest.ops.http_server import start_http_server
from ingest.ops.limits import OPEN_FILES_WANTED
from ingest.ops.metrics import IngestMetrics
from ingest.settings import Settings
from tests.support.cli import INGEST, cli_env
from tests.support.polling import wait_until

pytestmark = [pytest.mark.integration, pytest.mark.security]


@dataclass
class _Ready:
    ready: bool = True
    registry: bool = True


@dataclass
class _Service:
    metrics: IngestMetrics
    readiness: _Ready


@contextlib.asynccontextmanager
async def serving(**overrides: object) -> AsyncIterator[int]:
    """The service's HTTP server on a free port of 127.0.0.1 with these settings; its port."""
    cfg = Settings(metrics_host="127.0.0.1", metrics_port=0, **overrides)  # type: ignore[arg-type]
    runner: web.AppRunner = await start_http_server(cfg, _Service(IngestMetrics(), _Ready()))
    try:
        yield runner.addresses[0][1]
    finally:
        await runner.cleanup()


async def closed_within(reader: asyncio.StreamReader, seconds: float) -> bool:
    """Whether the server closes the connection within ``seconds`` (EOF or reset)."""
    try:
        async with asyncio.timeout(seconds):
            while await reader.read(1024):
                pass
    except TimeoutError:
        return False
    except ConnectionError:
        return True
    return True


async def request(port: int, host: str, path: str = "/healthz") -> bytes:
    """One raw HTTP/1.1 GET with this Host header; the status line."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(f"GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n".encode())
    await writer.drain()
    status = await reader.readline()
    writer.close()
    return status


@pytest.mark.slow
async def test_idle_and_slow_header_connections_are_closed_after_the_idle_timeout() -> None:
    """Reproduction: connections that send nothing, or send a request line and then one header
    byte at a time, were held for two minutes and more. Now both are closed once the idle
    timeout (1 s here) passes without a complete request."""
    async with serving(http_idle_timeout_seconds=1.0) as port:
        idle_reader, idle_writer = await asyncio.open_connection("127.0.0.1", port)
        slow_reader, slow_writer = await asyncio.open_connection("127.0.0.1", port)
        slow_writer.write(b"GET /metrics HTTP/1.1\r\nHost: localhost\r\nX-Slow: ")
        await slow_writer.drain()

        async def drip() -> None:
            with contextlib.suppress(ConnectionError):
                for _ in range(20):
                    await asyncio.sleep(0.25)
                    slow_writer.write(b"a")
                    await slow_writer.drain()

        dripping = asyncio.create_task(drip())
        assert await closed_within(idle_reader, 4.0)
        assert await closed_within(slow_reader, 4.0)
        dripping.cancel()
        for writer in (idle_writer, slow_writer):
            writer.close()


async def test_connections_above_the_cap_are_refused_and_the_served_ones_still_answer() -> None:
    """Reproduction: hundreds of connections were all accepted and held. Now, with a cap of 5,
    a sixth connection gets a 503 and is closed, and a connection freed makes room again."""
    async with serving(http_max_connections=5, http_idle_timeout_seconds=60.0) as port:
        held = [await asyncio.open_connection("127.0.0.1", port) for _ in range(5)]
        await asyncio.sleep(0.2)  # the server has taken them all
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        assert (await reader.readline()).startswith(b"HTTP/1.1 503")
        assert await closed_within(reader, 2.0)
        writer.close()
        for _, w in held:
            w.close()
        await asyncio.sleep(0.3)
        assert (await request(port, "localhost")).startswith(b"HTTP/1.1 200")


@pytest.mark.parametrize(
    ("host", "status"),
    [
        ("localhost:9108", b"200"),
        ("127.0.0.1:9108", b"200"),
        ("[::1]:9108", b"200"),
        ("10.1.2.3", b"200"),  # an address: no name to rebind
        ("prometheus-target.internal", b"200"),  # configured
        ("attacker.example", b"421"),
        ("localhost.attacker.example", b"421"),
    ],
)
async def test_only_allowed_host_names_are_answered(host: str, status: bytes) -> None:
    """Reproduction: a page of attacker.example whose name is made to resolve to this machine
    (DNS rebinding) could read /metrics and the status page: any Host header was answered.
    Now a name outside INGEST_HTTP_ALLOWED_HOSTS (and not this machine's) gets 421."""
    allowed = "localhost,prometheus-target.internal"
    async with serving(http_allowed_hosts=allowed) as port:
        for path, served in (("/metrics", b"200"), ("/", b"503")):  # no status source here
            line = await request(port, host, path)
            assert line.split()[1] == (status if status == b"421" else served), line


@pytest.mark.slow
async def test_the_service_raises_a_low_open_files_soft_limit_at_start(settings: Settings) -> None:
    """Reproduction: under a soft limit of 256 open files, 150 idle HTTP connections left the
    consumer unable to open Postgres connections ("Too many open files"). The service now
    raises the soft limit towards the hard limit when it starts: `ingest run` started with a
    soft limit of 256 runs with the raised one (read from /proc)."""
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and hard <= 256:
        pytest.skip(f"hard open-files limit {hard}: nothing to raise to")
    expected = OPEN_FILES_WANTED if hard == resource.RLIM_INFINITY else min(OPEN_FILES_WANTED, hard)
    env = {**os.environ, **cli_env(settings), "INGEST_METRICS_PORT": "0"}
    proc = subprocess.Popen(
        [INGEST, "run"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        preexec_fn=lambda: resource.setrlimit(resource.RLIMIT_NOFILE, (256, hard)),  # noqa: PLW1509
    )
    try:
        await wait_until(
            lambda: _soft_open_files(proc.pid) == expected,
            within=20,
            what=f"ingest run's soft open-files limit raised to {expected}",
        )
    finally:
        proc.terminate()
        proc.wait(timeout=40)


def _soft_open_files(pid: int) -> int | None:
    """The soft 'Max open files' of a running process, from /proc (None once it ended)."""
    try:
        limits = Path(f"/proc/{pid}/limits").read_text()
    except OSError:
        return None
    for line in limits.splitlines():
        if line.startswith("Max open files"):
            return int(line.split()[3])
    return None
