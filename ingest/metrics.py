"""Prometheus metrics of CONTRACT section 5, with label safety.

The ``supplier`` label only ever takes a registered supplier id or ``unknown``: input never
creates new label values (a flood of events from random topics or ids adds no series).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping

from prometheus_client import CollectorRegistry, Counter, Gauge

from ingest.model import FreshnessStatus, Outcome, Reason

UNKNOWN = "unknown"


class IngestMetrics:
    """The contract's metrics, in a registry of their own (one per service instance)."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry()
        r = self.registry
        self.events = Counter(
            "triage_events_total", "Kafka records by outcome.", ["supplier", "outcome"], registry=r
        )
        self.rejected = Counter(
            "triage_rejected_events_total",
            "Rejected records by reason.",
            ["supplier", "reason"],
            registry=r,
        )
        self.last_event = Gauge(
            "triage_supplier_last_event_timestamp_seconds",
            "When the latest valid event of the supplier was ingested (unix seconds).",
            ["supplier"],
            registry=r,
        )
        self.latest_day = Gauge(
            "triage_supplier_latest_activity_date_seconds",
            "Midnight UTC of the latest activity_date reported by the supplier.",
            ["supplier"],
            registry=r,
        )
        self.status = Gauge(
            "triage_supplier_status",
            "1 for the supplier's current freshness status, 0 for the others.",
            ["supplier", "status"],
            registry=r,
        )
        self._registered: frozenset[str] = frozenset()

    def set_registered(self, suppliers: Collection[str]) -> None:
        """The supplier ids allowed as label values."""
        self._registered = frozenset(suppliers)

    def label(self, supplier: str | None) -> str:
        """A safe value for the supplier label."""
        if supplier is None or supplier not in self._registered:
            return UNKNOWN
        return supplier

    def observe(
        self,
        outcomes: Mapping[tuple[str, Outcome], int],
        reasons: Mapping[tuple[str | None, Reason], int],
    ) -> None:
        """Count a committed batch."""
        for (supplier, outcome), n in outcomes.items():
            self.events.labels(self.label(supplier), outcome.value).inc(n)
        for (maybe_supplier, reason), n in reasons.items():
            self.rejected.labels(self.label(maybe_supplier), reason.value).inc(n)

    def set_status(self, supplier: str, status: FreshnessStatus) -> None:
        """One-hot freshness status of a registered supplier."""
        label = self.label(supplier)
        for candidate in FreshnessStatus:
            self.status.labels(label, candidate.value).set(1 if candidate is status else 0)
