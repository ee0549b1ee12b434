"""Prometheus metrics of CONTRACT section 5, with label safety, plus the ops metrics of
docs/operations.md.

The ``supplier`` label only ever takes a registered supplier id or ``unknown``: input never
creates new label values (a flood of events from random topics or ids adds no series). The
freshness gauges are derived from Postgres by the refresher (ingest/ops/refresher.py) and carry
only the active suppliers of the latest refresh: a deactivated supplier's series disappear.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Iterable, Mapping
from typing import Protocol

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from ingest.consumer.metrics import StoredBatch
from ingest.contract.model import FreshnessStatus, Outcome, Reason
from ingest.ops.freshness import SupplierFreshness, midnight_utc_seconds
from ingest.ops.unknown_practices import UnknownPracticesGauge
from ingest.ops.volume import VolumeAssessment

UNKNOWN = "unknown"

# CONTRACT section 5, exactly.
EVENTS_TOTAL = "triage_events_total"
REJECTED_EVENTS_TOTAL = "triage_rejected_events_total"
LAST_EVENT_TIMESTAMP = "triage_supplier_last_event_timestamp_seconds"
LATEST_ACTIVITY_DATE = "triage_supplier_latest_activity_date_seconds"
SUPPLIER_STATUS = "triage_supplier_status"
# Additions for missing practices and readiness: never renamed, only added to.
MISSING_PRACTICES = "triage_supplier_missing_practices"
CONSUMER_READY = "triage_consumer_ready"
CONSUMER_LAG = "triage_consumer_lag_records"
FRESHNESS_REFRESH_TIMESTAMP = "triage_freshness_refresh_timestamp_seconds"
FRESHNESS_REFRESH_FAILURES = "triage_freshness_refresh_failures_total"
KEY_MISMATCHES_TOTAL = "triage_record_key_mismatches_total"
# Additions: latency and batch shape.
INGEST_DELAY = "triage_ingest_delay_seconds"
BATCH_STORE_DURATION = "triage_batch_store_duration_seconds"
BATCH_RECORDS = "triage_batch_records"
# Additions: the schema registry, when one is configured.
SCHEMA_REGISTRY_UP = "triage_schema_registry_up"
SCHEMA_REGISTRY_LOOKUPS = "triage_schema_registry_lookups_total"
SCHEMA_REGISTRY_HELD = "triage_schema_registry_held_partitions"
REGISTRY_LOOKUP_RESULTS = ("accepted", "refused", "unknown", "failed")

# Additions: volume anomalies (flagged, never rejected).
VOLUME_ANOMALY = "triage_supplier_volume_anomaly"
VOLUME_CHANGE = "triage_supplier_volume_change_ratio"
PRACTICE_VOLUME_ANOMALIES = "triage_supplier_practice_volume_anomalies"
OUTBOX_PENDING = "triage_outcome_outbox_pending"
OUTCOMES_RELAYED = "triage_outcomes_relayed_total"
# Addition: outcomes the relay gave up sending (refused as too large, or waiting too long).
OUTBOX_PARKED = "triage_outcome_outbox_parked"
# Addition: retention of rejection bytes (rejections must not grow without bound).
REJECTION_BYTES_PURGED = "triage_rejection_bytes_purged_total"
PURGE_KINDS = ("not_participating", "other")

# From a file pushed minutes after it was generated up to a day-old backlog being caught up.
INGEST_DELAY_BUCKETS = (1, 5, 15, 30, 60, 120, 300, 600, 1800, 3600, 7200, 21600, 86400)
# One batch transaction: a few ms for a trickle, seconds for 20,000 records.
BATCH_STORE_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)
# Records per batch, up to INGEST_BATCH_MAX_RECORDS (20,000 by default).
BATCH_RECORDS_BUCKETS = (1, 10, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 20000)


class PurgeCounts(Protocol):
    """What one purge of rejection bytes reports (ingest.ops.retention.Purged)."""

    @property
    def not_participating(self) -> int: ...
    @property
    def other(self) -> int: ...


class IngestMetrics:
    """The contract's metrics, in a registry of their own (one per service instance)."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry()
        r = self.registry
        self.events = Counter(
            EVENTS_TOTAL, "Kafka records by outcome.", ["supplier", "outcome"], registry=r
        )
        self.rejected = Counter(
            REJECTED_EVENTS_TOTAL,
            "Rejected records by reason.",
            ["supplier", "reason"],
            registry=r,
        )
        self.last_event = Gauge(
            LAST_EVENT_TIMESTAMP,
            "When the latest valid event of the supplier was ingested (unix seconds).",
            ["supplier"],
            registry=r,
        )
        self.latest_day = Gauge(
            LATEST_ACTIVITY_DATE,
            "Midnight UTC of the latest activity_date reported by the supplier.",
            ["supplier"],
            registry=r,
        )
        self.status = Gauge(
            SUPPLIER_STATUS,
            "1 for the supplier's current freshness status, 0 for the others.",
            ["supplier", "status"],
            registry=r,
        )
        self.missing_practices = Gauge(
            MISSING_PRACTICES,
            "Practices reported on any of the 7 days before the supplier's latest reported"
            " day but not for that day.",
            ["supplier"],
            registry=r,
        )
        self.volume_anomaly = Gauge(
            VOLUME_ANOMALY,
            "1 when the supplier's latest reported day's total is flagged against the same"
            " weekday of the previous weeks (docs/operations.md, Volume anomalies), else 0.",
            ["supplier"],
            registry=r,
        )
        self.volume_change = Gauge(
            VOLUME_CHANGE,
            "The supplier's latest reported day's total relative to the median of the same"
            " weekday of the previous weeks (e.g. -0.11 = 11% below).",
            ["supplier"],
            registry=r,
        )
        self.practice_volume_anomalies = Gauge(
            PRACTICE_VOLUME_ANOMALIES,
            "Practices whose count on the supplier's latest reported day is flagged against"
            " their own same weekdays.",
            ["supplier"],
            registry=r,
        )
        self.outbox_pending = Gauge(
            OUTBOX_PENDING,
            "Submission outcomes stored but not yet acknowledged on the suppliers' feedback"
            " topics (rows of triage.outcome_outbox), parked ones left out"
            " (triage_outcome_outbox_parked).",
            registry=r,
        )
        self.outbox_parked = Gauge(
            OUTBOX_PARKED,
            "Submission outcomes parked in triage.outcome_outbox, no longer sent: refused as"
            " too large by the feedback topic, or undelivered past"
            " INGEST_OUTBOX_PARK_AFTER_SECONDS.",
            ["supplier"],
            registry=r,
        )
        self.ready = Gauge(
            CONSUMER_READY,
            "1 while /readyz answers 200 (Kafka and Postgres reachable, partitions assigned).",
            registry=r,
        )
        self.lag = Gauge(
            CONSUMER_LAG,
            "Records not yet consumed on the partitions assigned to this process.",
            ["supplier"],
            registry=r,
        )
        self.refreshed_at = Gauge(
            FRESHNESS_REFRESH_TIMESTAMP,
            "When the freshness gauges were last derived from Postgres (unix seconds).",
            registry=r,
        )
        self.refresh_failures = Counter(
            FRESHNESS_REFRESH_FAILURES,
            "Freshness refreshes that failed (Postgres unreachable or erroring).",
            registry=r,
        )
        self.ingest_delay = Histogram(
            INGEST_DELAY,
            "From an event's generated_at to its revision being stored (committed), per"
            " stored revision.",
            ["supplier"],
            buckets=INGEST_DELAY_BUCKETS,
            registry=r,
        )
        self.batch_store = Histogram(
            BATCH_STORE_DURATION,
            "The batch transaction in Postgres, from its start to its commit.",
            buckets=BATCH_STORE_BUCKETS,
            registry=r,
        )
        self.batch_records = Histogram(
            BATCH_RECORDS,
            "Records per stored batch (valid, rejected and already stored).",
            buckets=BATCH_RECORDS_BUCKETS,
            registry=r,
        )
        self.registry_up = Gauge(
            SCHEMA_REGISTRY_UP,
            "1 while the schema registry answers (or none is configured), 0 while it does not"
            " (Confluent-framed records then wait).",
            registry=r,
        )
        self.registry_up.set(1)
        self.registry_lookups = Counter(
            SCHEMA_REGISTRY_LOOKUPS,
            "Schema ids asked of the registry, by result: accepted (a released version),"
            " refused (another schema), unknown (404), failed (no answer).",
            ["result"],
            registry=r,
        )
        for result in REGISTRY_LOOKUP_RESULTS:  # every series from the start, at 0
            self.registry_lookups.labels(result)
        self.registry_held = Gauge(
            SCHEMA_REGISTRY_HELD,
            "Partitions whose records wait for a schema id the registry has not answered yet.",
            registry=r,
        )
        # The gauge triage_unknown_practices (codes no reference data knows), refreshed by the
        # same timer.
        self.key_mismatches = Counter(
            KEY_MISMATCHES_TOTAL,
            "Valid records whose key names another practice or day than their body"
            " (keys are advisory: counted, not rejected).",
            ["supplier"],
            registry=r,
        )
        self.outcomes_relayed = Counter(
            OUTCOMES_RELAYED,
            "Submission outcomes acknowledged by the broker on the suppliers' feedback topics"
            " (and deleted from the outbox).",
            ["supplier"],
            registry=r,
        )
        self.rejection_bytes_purged = Counter(
            REJECTION_BYTES_PURGED,
            "Rejections whose key and value were purged after their retention (row, reason"
            " and detail stay); kind: not_participating or other.",
            ["kind"],
            registry=r,
        )
        for kind in PURGE_KINDS:
            self.rejection_bytes_purged.labels(kind)
        self.unknown_practices = UnknownPracticesGauge(r)
        self._registered: frozenset[str] = frozenset()
        self._volume_reading: list[VolumeAssessment] = []

    def set_registered(self, suppliers: Collection[str]) -> None:
        """The supplier ids allowed as label values."""
        self._registered = frozenset(suppliers)

    @property
    def registered(self) -> frozenset[str]:
        return self._registered

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

    def observe_batch(self, batch: StoredBatch, stored_at: dt.datetime) -> None:
        """Count a committed batch and observe its latency histograms."""
        self.observe(batch.outcomes, batch.reasons)
        self.batch_store.observe(batch.store_seconds)
        self.batch_records.observe(batch.records)
        by_supplier: dict[str, list[dt.datetime]] = {}
        for supplier, generated_at in batch.stored_revisions:
            by_supplier.setdefault(supplier, []).append(generated_at)
        for supplier, moments in by_supplier.items():
            histogram = self.ingest_delay.labels(self.label(supplier))
            for generated_at in moments:
                histogram.observe(max((stored_at - generated_at).total_seconds(), 0.0))

    def observe_key_mismatches(self, counts: Mapping[str, int]) -> None:
        """Count a committed batch's records whose key disagrees with their body."""
        for supplier, n in counts.items():
            self.key_mismatches.labels(self.label(supplier)).inc(n)

    def count_relayed(self, counts: Mapping[str, int]) -> None:
        """Count the outcomes the relay got acknowledged, per supplier."""
        for supplier, n in counts.items():
            self.outcomes_relayed.labels(self.label(supplier)).inc(n)

    def count_purged(self, purged: PurgeCounts) -> None:
        """Count one purge's rejections that lost their bytes."""
        self.rejection_bytes_purged.labels("not_participating").inc(purged.not_participating)
        self.rejection_bytes_purged.labels("other").inc(purged.other)

    def set_status(self, supplier: str, status: FreshnessStatus) -> None:
        """One-hot freshness status of a registered supplier (ignored for any other id)."""
        if supplier not in self._registered:
            return
        for candidate in FreshnessStatus:
            self.status.labels(supplier, candidate.value).set(1 if candidate is status else 0)

    def publish_freshness(
        self,
        suppliers: Iterable[SupplierFreshness],
        missing: Mapping[str, int],
        refreshed_at: float,
    ) -> None:
        """Replace the freshness gauges with one refresh's rows (the active suppliers).

        Runs without awaiting, so a scrape never sees a half-published refresh. Suppliers
        absent from ``suppliers`` (deactivated, removed) lose their series.
        """
        rows = list(suppliers)
        self.set_registered({row.supplier_id for row in rows})
        for gauge in (self.status, self.last_event, self.latest_day, self.missing_practices):
            gauge.clear()
        for row in rows:
            self.set_status(row.supplier_id, row.status)
            if row.last_event_at is not None:
                self.last_event.labels(row.supplier_id).set(row.last_event_at.timestamp())
            if row.latest_activity_date is not None:
                self.latest_day.labels(row.supplier_id).set(
                    midnight_utc_seconds(row.latest_activity_date)
                )
            self.missing_practices.labels(row.supplier_id).set(missing.get(row.supplier_id, 0))
        self.refreshed_at.set(refreshed_at)
        # the volume reading is slower to renew: a supplier deactivated since loses its series now
        self.publish_volume(self._volume_reading)

    def publish_volume(self, assessments: Iterable[VolumeAssessment]) -> None:
        """Replace the volume gauges with one reading (active, registered suppliers only)."""
        self._volume_reading = list(assessments)
        rows = [a for a in self._volume_reading if a.supplier_id in self._registered]
        for gauge in (self.volume_anomaly, self.volume_change, self.practice_volume_anomalies):
            gauge.clear()
        for a in rows:
            self.volume_anomaly.labels(a.supplier_id).set(1 if a.flagged else 0)
            if a.change is not None:
                self.volume_change.labels(a.supplier_id).set(a.change)
            self.practice_volume_anomalies.labels(a.supplier_id).set(a.flagged_practices)

    def publish_parked(self, parked: Mapping[str, int]) -> None:
        """Replace the parked-outcome gauge with one reading (per supplier)."""
        self.outbox_parked.clear()
        for supplier, n in parked.items():
            self.outbox_parked.labels(self.label(supplier)).inc(n)

    def publish_lag(self, lag: Mapping[str | None, int]) -> None:
        """Records behind per supplier (topic's supplier, ``unknown`` for any other topic)."""
        totals: dict[str, int] = {}
        for supplier, n in lag.items():
            label = self.label(supplier)
            totals[label] = totals.get(label, 0) + max(n, 0)
        self.lag.clear()
        for label, n in totals.items():
            self.lag.labels(label).set(n)
