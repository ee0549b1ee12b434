"""The service process: the consumer (:mod:`ingest.consumer.service`) with what operations need
around it: the HTTP endpoints (/metrics, /readyz, the status page), the freshness refresher,
the purge schedule of expired rejection bytes, and SIGTERM/SIGINT handling.

Run it with ``ingest run`` or ``python -m ingest.ops.process`` (``consumers/daily_requests.py``
is the same process).
"""

from __future__ import annotations

import asyncio
import logging
import signal
import sys

from ingest.consumer.service import IngestService
from ingest.errors import ConfigurationError, IngestError
from ingest.ops.http_server import start_http_server
from ingest.ops.limits import raise_open_files_limit
from ingest.ops.metrics import IngestMetrics
from ingest.ops.refresher import FreshnessRefresher, kafka_lag
from ingest.ops.retention import PurgeSchedule
from ingest.settings import Settings, load_settings


async def serve(settings: Settings, service: IngestService[IngestMetrics] | None = None) -> int:
    """Run the service with its HTTP endpoints until SIGTERM/SIGINT; returns the exit code.

    Beside the consumer: the purge of expired rejection bytes (ingest/ops/retention.py)
    every ``purge_interval_seconds``, and a freshness refresher (ingest/ops/refresher.py)
    deriving the freshness, missing-practice, unknown-practice and lag gauges from Postgres
    at start-up and every ``freshness_refresh_seconds``, on a pool of its own, feeding the
    status page ``/``.
    """
    service = service or IngestService(settings, IngestMetrics())
    loop = asyncio.get_running_loop()
    refresher = FreshnessRefresher(
        settings,
        service.metrics,
        service.clock,
        lag_source=lambda: kafka_lag(service.kafka_consumer),
    )
    purge = PurgeSchedule(settings, on_purged=service.metrics.count_purged)
    try:
        http = await start_http_server(settings, service, refresher)
    except OSError as exc:
        raise ConfigurationError(
            f"cannot serve /metrics and /readyz on {settings.metrics_host}:"
            f"{settings.metrics_port}: {exc.strerror or exc}; set INGEST_METRICS_PORT to a free"
            " port (or stop the process listening there)"
        ) from None
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, service.request_stop)
    refresher.start()
    purge.start()
    try:
        await service.run()
    except asyncio.CancelledError:
        if not service.forced_stop:
            raise
    finally:
        await http.cleanup()
        await refresher.close()
        await purge.close()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.remove_signal_handler(sig)
    return 1 if service.forced_stop else 0


def main() -> None:
    """Run the service; a start-up failure (bad settings, port taken) is one line, exit 2."""
    try:
        settings = load_settings()
        logging.basicConfig(
            level=settings.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
        )
        raise_open_files_limit()
        try:
            import uvloop

            uvloop.install()
        except ImportError:
            pass
        code = asyncio.run(serve(settings))
    except IngestError as exc:
        print(f"error: {exc}", file=sys.stderr)
        raise SystemExit(2) from None
    raise SystemExit(code)


if __name__ == "__main__":
    main()
