"""The service's HTTP endpoints (aiohttp): /metrics, /healthz, /readyz and the status page /.

* ``/metrics``: Prometheus text format of the service's registry (CONTRACT section 5);
* ``/healthz``: 200 while the process lives;
* ``/readyz``: 200 once Kafka and Postgres are reachable and partitions are assigned, else 503;
  the body says ``ready``, ``not ready``, or ``degraded`` (200: ready, but the schema registry
  does not answer, so Confluent-framed records wait while the others flow);
* ``/``: the status page for people (ingest/ops/status_page.py), from a ``StatusSource`` (the
  freshness refresher); 503 with an explanation when the service runs without one.
"""

from __future__ import annotations

from typing import Protocol

from aiohttp import web
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


def build_app(
    service: ServiceView, status: StatusSource | None = None, timezone: str = "Europe/London"
) -> web.Application:
    app = web.Application()
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
    runner = web.AppRunner(build_app(service, status, settings.timezone))
    await runner.setup()
    site = web.TCPSite(runner, settings.metrics_host, settings.metrics_port)
    await site.start()
    return runner
