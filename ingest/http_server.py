"""The service's HTTP endpoints (aiohttp): /metrics, /healthz, /readyz."""

from __future__ import annotations

from typing import Protocol

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from ingest.metrics import IngestMetrics
from ingest.settings import Settings


class ReadinessView(Protocol):
    @property
    def ready(self) -> bool: ...


class ServiceView(Protocol):
    """What the HTTP layer reads from the running service."""

    metrics: IngestMetrics

    @property
    def readiness(self) -> ReadinessView: ...


def build_app(service: ServiceView) -> web.Application:
    app = web.Application()

    async def metrics(_: web.Request) -> web.Response:
        body = generate_latest(service.metrics.registry)
        return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})

    async def healthz(_: web.Request) -> web.Response:
        return web.Response(text="ok\n")

    async def readyz(_: web.Request) -> web.Response:
        ready = service.readiness.ready
        return web.Response(
            text=f"{'ready' if ready else 'not ready'}\n", status=200 if ready else 503
        )

    app.router.add_get("/metrics", metrics)
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
    return app


async def start_http_server(settings: Settings, service: ServiceView) -> web.AppRunner:
    """Start serving; the caller cleans the runner up."""
    runner = web.AppRunner(build_app(service))
    await runner.setup()
    site = web.TCPSite(runner, settings.metrics_host, settings.metrics_port)
    await site.start()
    return runner
