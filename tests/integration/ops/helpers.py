"""Helpers of the ops suite: a controllable clock and freshness statuses from the metrics."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

import asyncpg

from ingest.contract.model import FreshnessStatus
from ingest.ops.metrics import IngestMetrics
from ingest.settings import Settings
from tests.support.events import event
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
