"""The service's HTTP endpoints (aiohttp): /metrics, /healthz, /readyz and the status page /.

* ``/metrics``: Prometheus text format of the service's registry (CONTRACT section 5);
* ``/healthz``: 200 while the process lives;
* ``/readyz``: 200 once Kafka and Postgres are reachable and partitions are assigned, else 503;
  the body says ``ready``, ``not ready``, or ``degraded`` (200: ready, but the schema registry
  does not answer, so Confluent-framed records wait while the others flow);
* ``/``: the status page for people (ingest/ops/status_page.py), from a ``StatusSource`` (the
  freshness refresher); 503 with an explanation when the service runs without one.

Hardened against clients that hold connections or lie about their host: a connection that has
not sent a complete request ``INGEST_HTTP_IDLE_TIMEOUT_SECONDS`` after it opened or after its
last response is closed (slow headers, idle keep-alive); at most ``INGEST_HTTP_MAX_CONNECTIONS``
are open, further ones get a 503 and are closed; a ``Host`` header naming neither an IP
address, this machine nor a name of ``INGEST_HTTP_ALLOWED_HOSTS`` gets 421 (DNS rebinding:
a page of another site resolving its name to this address could otherwise read the status
page and metrics).
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from typing import Protocol

from aiohttp import web
from aiohttp.typedefs import Handler
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from ingest.ops.freshness import StatusSnapshot
from ingest.ops.metrics import IngestMetrics
from ingest.ops.status_page import render_status_page
from ingest.settings import Settings


class ReadinessView(Protocol):
    @property
    def ready(self) -> bool: ...
    @property
    def registry(self) -> bool: ...


class ServiceView(Protocol):
    """What the HTTP layer reads from the running service."""

    metrics: IngestMetrics

    @property
    def readiness(self) -> ReadinessView: ...


class StatusSource(Protocol):
    """Where the status page's data comes from (ingest.ops.refresher.FreshnessRefresher)."""

    async def snapshot(self) -> StatusSnapshot: ...


_HTML = "text/html"
# Every response: no sniffing of content types, and a page that may load nothing (its styles
# and the favicon are inline), run no script, be framed by nobody and post nowhere.
SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; "
        "form-action 'none'; frame-ancestors 'none'"
    ),
    "Referrer-Policy": "no-referrer",
}
DEGRADED = "degraded: the schema registry does not answer; Confluent-framed records wait\n"


_REFUSAL = (
    b"HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\nContent-Length: 20\r\n"
    b"Content-Type: text/plain\r\n\r\ntoo many connections"
)


class _Refused(asyncio.Protocol):
    """A connection above the cap: one 503, then closed."""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.WriteTransport)
        transport.write(_REFUSAL)
        transport.close()


class CappedSite(web.TCPSite):
    """A TCP site serving at most ``max_connections`` connections at once."""

    __slots__ = ("_max_connections",)

    def __init__(self, runner: web.BaseRunner, host: str, port: int, max_connections: int):
        super().__init__(runner, host, port)
        self._max_connections = max_connections

    async def start(self) -> None:
        await web.BaseSite.start(self)
        server = self._runner.server
        assert server is not None

        def accept() -> asyncio.BaseProtocol:
            if len(server.connections) >= self._max_connections:
                return _Refused()
            return server()

        self._server = await asyncio.get_running_loop().create_server(
            accept, self._host, self._port, backlog=self._backlog
        )


def allowed_host(host: str | None, names: frozenset[str]) -> bool:
    """Whether a request's Host (without port) is one this server answers to: any IP address
    (no DNS involved), or one of ``names`` (``*``: any)."""
    if "*" in names:
        return True
    if not host:
        return False
    bare = host.rsplit(":", 1)[0] if host.count(":") == 1 else host
    bare = bare.removeprefix("[").split("]")[0].rstrip(".").lower()
    try:
        ipaddress.ip_address(bare)
    except ValueError:
        return bare in names
    return True


def host_names(settings: Settings) -> frozenset[str]:
    """The names of INGEST_HTTP_ALLOWED_HOSTS and this machine's own name."""
    configured = {n.strip().rstrip(".").lower() for n in settings.http_allowed_hosts.split(",")}
    return frozenset({*configured, socket.gethostname().lower()} - {""})


def build_app(
    service: ServiceView,
    status: StatusSource | None = None,
    timezone: str = "Europe/London",
    hosts: frozenset[str] = frozenset({"*"}),
) -> web.Application:
    """``hosts``: the names the Host header may carry besides IP addresses (``*``: any)."""

    @web.middleware
    async def host_check(request: web.Request, handler: Handler) -> web.StreamResponse:
        if not allowed_host(request.host, hosts):
            return web.Response(text="misdirected request: unknown host\n", status=421)
        return await handler(request)

    app = web.Application(middlewares=[host_check])
    # triage_consumer_ready follows /readyz at every scrape.
    service.metrics.ready.set_function(lambda: 1.0 if service.readiness.ready else 0.0)

    async def metrics(_: web.Request) -> web.Response:
        body = generate_latest(service.metrics.registry)
        return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})

    async def healthz(_: web.Request) -> web.Response:
        return web.Response(text="ok\n")

    async def readyz(_: web.Request) -> web.Response:
        readiness = service.readiness
        if not readiness.ready:
            return web.Response(text="not ready\n", status=503)
        if not readiness.registry:
            return web.Response(text=DEGRADED)
        return web.Response(text="ready\n")

    async def status_page(_: web.Request) -> web.Response:
        if status is None:
            return web.Response(
                text="<!DOCTYPE html><title>No status</title><p>This process serves no"
                " status page (no freshness refresher).</p>",
                status=503,
                content_type=_HTML,
            )
        snapshot = await status.snapshot()
        return web.Response(
            text=render_status_page(snapshot, timezone),
            status=503 if snapshot.database_error else 200,
            content_type=_HTML,
            charset="utf-8",
            headers={"Cache-Control": "no-store"},
        )

    async def secure_headers(_: web.Request, response: web.StreamResponse) -> None:
        response.headers.update(SECURITY_HEADERS)

    app.on_response_prepare.append(secure_headers)
    app.router.add_get("/", status_page)
    app.router.add_get("/metrics", metrics)
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
    return app


async def start_http_server(
    settings: Settings, service: ServiceView, status: StatusSource | None = None
) -> web.AppRunner:
    """Start serving; the caller cleans the runner up (``runner.addresses`` has the port)."""
    app = build_app(service, status, settings.timezone, host_names(settings))
    runner = web.AppRunner(app, keepalive_timeout=settings.http_idle_timeout_seconds)
    await runner.setup()
    site = CappedSite(
        runner, settings.metrics_host, settings.metrics_port, settings.http_max_connections
    )
    await site.start()
    return runner
