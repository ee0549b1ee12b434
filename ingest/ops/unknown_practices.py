"""The ``triage_unknown_practices`` gauge: distinct practice codes per supplier that are in
the feed but not in the loaded practice reference (view ``triage.unknown_practices``).

Label safety as in CONTRACT section 5: the ``supplier`` label only takes registered supplier
ids (every registered supplier gets a series, 0 when it has no unknown codes) or ``unknown``.
The service refreshes it on its timer::

    gauge = UnknownPracticesGauge(metrics.registry)
    ...
    await gauge.refresh(conn)
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import asyncpg
from prometheus_client import CollectorRegistry, Gauge

from ingest.db.queries import queries

METRIC_NAME = "triage_unknown_practices"
UNKNOWN = "unknown"
SQL = queries("ingest.ops")


def unknown_practice_counts(
    registered: Iterable[str], counts: Iterable[tuple[str | None, int]]
) -> dict[str, int]:
    """Label value -> distinct unknown practice codes (pure).

    ``counts`` are (supplier_id, codes) pairs from the view; ids that are not registered
    are folded into ``unknown``. Every registered supplier appears, 0 by default.
    """
    allowed = set(registered)
    result = dict.fromkeys(sorted(allowed), 0)
    for supplier, n in counts:
        label = supplier if supplier is not None and supplier in allowed else UNKNOWN
        result[label] = result.get(label, 0) + n
    return result


async def fetch_unknown_practice_counts(conn: asyncpg.Connection) -> dict[str, int]:
    """Read the registered suppliers and the view; return label value -> count."""
    registered = [r["supplier_id"] for r in await conn.fetch(SQL["registered_supplier_ids"])]
    rows = await conn.fetch(SQL["unknown_practice_counts"])
    return unknown_practice_counts(registered, ((r["supplier_id"], r["n"]) for r in rows))


class UnknownPracticesGauge:
    """The gauge, registered in the service's registry."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.gauge = Gauge(
            METRIC_NAME,
            "Distinct practice codes in the feed that are not in the loaded practice "
            "reference (0 while no reference is loaded).",
            ["supplier"],
            registry=registry,
        )

    def set_counts(self, counts: Mapping[str, int]) -> None:
        """Replace every series with ``counts`` (suppliers no longer registered disappear)."""
        self.gauge.clear()
        for label, n in counts.items():
            self.gauge.labels(label).set(n)

    async def refresh(self, conn: asyncpg.Connection) -> dict[str, int]:
        """Re-read the counts from Postgres and publish them; returns them."""
        counts = await fetch_unknown_practice_counts(conn)
        self.set_counts(counts)
        return counts
