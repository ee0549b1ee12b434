"""What the consumer reports, as a protocol (pure): the consumer depends on this, never on the
operations layer that implements it (``ingest.ops.metrics.IngestMetrics``, the Prometheus
families of the contract)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Mapping, Sequence
from typing import Protocol

from prometheus_client import Counter, Gauge

from ingest.contract.model import Outcome, Reason


class StoredBatch(Protocol):
    """What a committed batch reports (ingest.consumer.store.BatchResult)."""

    @property
    def outcomes(self) -> Mapping[tuple[str, Outcome], int]: ...
    @property
    def reasons(self) -> Mapping[tuple[str | None, Reason], int]: ...
    @property
    def records(self) -> int: ...
    @property
    def store_seconds(self) -> float: ...
    @property
    def stored_revisions(self) -> Sequence[tuple[str, dt.datetime]]: ...


class ConsumerMetrics(Protocol):
    """The consumer's side of the metrics: batches, registered suppliers, key mismatches,
    relayed outcomes and the schema registry's state."""

    registry_up: Gauge
    registry_held: Gauge
    registry_lookups: Counter

    def set_registered(self, suppliers: Collection[str]) -> None: ...
    def observe_batch(self, batch: StoredBatch, stored_at: dt.datetime) -> None: ...
    def observe_key_mismatches(self, counts: Mapping[str, int]) -> None: ...
    def count_relayed(self, counts: Mapping[str, int]) -> None: ...
