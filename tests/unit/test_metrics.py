"""CONTRACT section 5 to the letter, label safety, and the HTTP endpoints (no network)."""

from __future__ import annotations

import datetime as dt
import random
import string
from collections import Counter
from dataclasses import dataclass, field

import pytest
from aiohttp.test_utils import TestClient, TestServer
from prometheus_client import generate_latest
from prometheus_client.parser import text_string_to_metric_families

from ingest.consumer.store import BatchResult
from ingest.contract.model import FreshnessStatus, Outcome, Reason, supplier_of_topic
from ingest.ops.freshness import StatusSnapshot, SupplierFreshness
from ingest.ops.http_server import build_app
from ingest.ops.metrics import IngestMetrics
from ingest.settings import Settings

WARN = dt.timedelta(hours=26)
ERROR = dt.timedelta(hours=50)
NOW = dt.datetime(2026, 11, 25, 9, 0, tzinfo=dt.UTC)

CONTRACT = {
    "triage_events_total": ("counter", {"supplier", "outcome"}),
    "triage_rejected_events_total": ("counter", {"supplier", "reason"}),
    "triage_supplier_last_event_timestamp_seconds": ("gauge", {"supplier"}),
    "triage_supplier_latest_activity_date_seconds": ("gauge", {"supplier"}),
    "triage_supplier_status": ("gauge", {"supplier", "status"}),
}


def _row(
    supplier: str, status: FreshnessStatus, last: dt.datetime | None = NOW
) -> SupplierFreshness:
    day = None if last is None else dt.date(2026, 11, 24)
    return SupplierFreshness(supplier, supplier.title(), last, day, status, WARN, ERROR)


def _series(metrics: IngestMetrics) -> dict[str, list[dict[str, str]]]:
    """Metric sample name -> label sets, as a scraper reads them."""
    text = generate_latest(metrics.registry).decode()
    out: dict[str, list[dict[str, str]]] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            out.setdefault(sample.name, []).append(dict(sample.labels))
    return out


def _families(metrics: IngestMetrics) -> dict[str, str]:
    text = generate_latest(metrics.registry).decode()
    return {f.name: f.type for f in text_string_to_metric_families(text)}


def _populated() -> IngestMetrics:
    metrics = IngestMetrics()
    metrics.set_registered({"askmygp"})
    metrics.observe(
        {("askmygp", Outcome.ACCEPTED): 3, ("askmygp", Outcome.REJECTED): 1},
        {("askmygp", Reason.NEGATIVE_COUNT): 1},
    )
    metrics.publish_freshness([_row("askmygp", FreshnessStatus.OK)], {}, NOW.timestamp())
    return metrics


def test_contract_metrics_have_exactly_the_contract_names_types_and_labels() -> None:
    metrics = _populated()
    families = _families(metrics)
    series = _series(metrics)
    for name, (kind, labels) in CONTRACT.items():
        base = name.removesuffix("_total")
        assert families[base] == kind, name
        sample = name if kind == "gauge" else f"{base}_total"
        assert series[sample], f"{name} has no series"
        for label_set in series[sample]:
            assert set(label_set) == labels, (name, label_set)


def test_status_is_one_hot_over_the_four_statuses() -> None:
    metrics = _populated()
    status = {
        s["status"]: metrics.registry.get_sample_value("triage_supplier_status", s)
        for s in _series(metrics)["triage_supplier_status"]
    }
    assert status == {"ok": 1.0, "late": 0.0, "silent": 0.0, "never_reported": 0.0}


def test_freshness_gauges_values() -> None:
    metrics = _populated()
    get = metrics.registry.get_sample_value
    assert get("triage_supplier_last_event_timestamp_seconds", {"supplier": "askmygp"}) == (
        NOW.timestamp()
    )
    midnight = dt.datetime(2026, 11, 24, tzinfo=dt.UTC).timestamp()
    assert get("triage_supplier_latest_activity_date_seconds", {"supplier": "askmygp"}) == midnight
    assert get("triage_supplier_missing_practices", {"supplier": "askmygp"}) == 0
    assert get("triage_freshness_refresh_timestamp_seconds") == NOW.timestamp()


def test_never_reported_supplier_has_a_status_but_no_timestamps() -> None:
    metrics = IngestMetrics()
    metrics.publish_freshness([_row("newco", FreshnessStatus.NEVER_REPORTED, None)], {}, 0.0)
    get = metrics.registry.get_sample_value
    labels = {"supplier": "newco", "status": "never_reported"}
    assert get("triage_supplier_status", labels) == 1.0
    assert get("triage_supplier_last_event_timestamp_seconds", {"supplier": "newco"}) is None
    assert get("triage_supplier_latest_activity_date_seconds", {"supplier": "newco"}) is None


def test_deactivated_supplier_loses_its_gauges_and_label() -> None:
    metrics = IngestMetrics()
    rows = [_row("askmygp", FreshnessStatus.OK), _row("patchs", FreshnessStatus.SILENT)]
    metrics.publish_freshness(rows, {"patchs": 4}, 1.0)
    get = metrics.registry.get_sample_value
    assert get("triage_supplier_missing_practices", {"supplier": "patchs"}) == 4
    metrics.publish_freshness(rows[:1], {}, 2.0)  # patchs deactivated
    for samples in _series(metrics).values():
        assert all(s.get("supplier") != "patchs" for s in samples)
    assert metrics.label("patchs") == "unknown"


def test_a_flood_of_random_topics_and_ids_adds_no_series() -> None:
    metrics = _populated()
    before = sum(len(v) for v in _series(metrics).values())
    rng = random.Random(4)
    for _ in range(200):
        junk = "".join(rng.choices(string.ascii_lowercase + string.digits + "-", k=12))
        supplier = supplier_of_topic(f"triage.daily.{junk}") or junk
        outcomes: Counter[tuple[str, Outcome]] = Counter({(supplier, Outcome.REJECTED): 1})
        reasons: Counter[tuple[str | None, Reason]] = Counter(
            {(rng.choice([supplier, None]), Reason.UNKNOWN_SUPPLIER): 1}
        )
        metrics.observe(outcomes, reasons)
        metrics.set_status(supplier, FreshnessStatus.OK)
        metrics.publish_lag({supplier: 5, None: 1})
    series = _series(metrics)
    suppliers = {s["supplier"] for samples in series.values() for s in samples if "supplier" in s}
    assert suppliers == {"askmygp", "unknown"}
    # Only the fixed (supplier=unknown, outcome/reason/lag) series were added.
    added = sum(len(v) for v in series.values()) - before
    assert added <= 2 * 3 + 1  # unknown x rejected (total+created) x2 families, + lag
    assert (
        metrics.registry.get_sample_value(
            "triage_events_total", {"supplier": "unknown", "outcome": "rejected"}
        )
        == 200
    )


def test_set_status_ignores_unregistered_suppliers() -> None:
    metrics = IngestMetrics()
    metrics.set_status("random", FreshnessStatus.OK)
    assert "triage_supplier_status" not in _series(metrics)


def test_lag_is_summed_per_supplier_label() -> None:
    metrics = IngestMetrics()
    metrics.set_registered({"askmygp"})
    metrics.publish_lag({"askmygp": 10, "intruder": 3, None: 2})
    get = metrics.registry.get_sample_value
    assert get("triage_consumer_lag_records", {"supplier": "askmygp"}) == 10
    assert get("triage_consumer_lag_records", {"supplier": "unknown"}) == 5
    metrics.publish_lag({})
    assert "triage_consumer_lag_records" not in _series(metrics)


# --- HTTP ------------------------------------------------------------------------------


@dataclass
class _Readiness:
    ready: bool = False
    registry: bool = True


@dataclass
class _Service:
    metrics: IngestMetrics = field(default_factory=_populated)
    readiness: _Readiness = field(default_factory=_Readiness)


class _Source:
    def __init__(self, error: str | None = None) -> None:
        self.error = error

    async def snapshot(self) -> StatusSnapshot:
        return StatusSnapshot(
            now=NOW,
            today=NOW.date(),
            suppliers=(_row("askmygp", FreshnessStatus.LATE),),
            missing={"askmygp": ("A81003",)},
            activity={},
            coverage={},
            days=(NOW.date(),),
            database_error=self.error,
        )


async def test_http_endpoints_keep_their_semantics() -> None:
    service = _Service()
    async with TestClient(TestServer(build_app(service, _Source()))) as client:
        health = await client.get("/healthz")
        assert health.status == 200
        assert (await client.get("/readyz")).status == 503
        text = await (await client.get("/metrics")).text()
        assert "triage_consumer_ready 0.0" in text
        service.readiness.ready = True
        assert (await client.get("/readyz")).status == 200
        metrics = await client.get("/metrics")
        assert metrics.headers["Content-Type"].startswith("text/plain")
        assert "triage_consumer_ready 1.0" in await metrics.text()
        page = await client.get("/")
        assert page.status == 200 and page.content_type == "text/html"
        body = await page.text()
        assert 'data-status="late"' in body and "A81003" in body


async def test_status_page_says_when_postgres_is_unreachable() -> None:
    app = build_app(_Service(), _Source(error="connection refused"))
    async with TestClient(TestServer(app)) as client:
        page = await client.get("/")
        assert page.status == 503
        assert "Postgres is unreachable" in await page.text()


async def test_readyz_says_degraded_with_200_while_the_schema_registry_does_not_answer() -> None:
    service = _Service(readiness=_Readiness(ready=True, registry=False))
    async with TestClient(TestServer(build_app(service))) as client:
        response = await client.get("/readyz")
        assert response.status == 200
        assert (await response.text()).startswith("degraded: the schema registry")
        service.readiness.ready = False
        assert (await client.get("/readyz")).status == 503


async def test_no_status_source_no_page_but_metrics_still_served() -> None:
    async with TestClient(TestServer(build_app(_Service()))) as client:
        assert (await client.get("/")).status == 503
        assert (await client.get("/metrics")).status == 200


@pytest.mark.security
async def test_every_response_carries_the_security_headers() -> None:
    """The pages guard the browser: there was no Content-Security-Policy nor
    X-Content-Type-Options."""
    async with TestClient(TestServer(build_app(_Service(), _Source()))) as client:
        for path in ("/", "/metrics", "/healthz", "/readyz", "/no-such-page"):
            response = await client.get(path)
            assert response.headers["X-Content-Type-Options"] == "nosniff", path
            policy = response.headers["Content-Security-Policy"]
            assert "default-src 'none'" in policy and "script-src" not in policy, path
            assert "frame-ancestors 'none'" in policy, path


@pytest.mark.security
def test_the_http_server_listens_on_this_machine_only_by_default(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Local unless told otherwise: the endpoints listened on every interface (0.0.0.0)."""
    monkeypatch.delenv("INGEST_METRICS_HOST", raising=False)
    assert Settings().metrics_host == "127.0.0.1"


def test_batch_histograms_observe_delay_per_stored_revision_store_time_and_size() -> None:
    metrics = IngestMetrics()
    metrics.set_registered({"askmygp"})
    stored = [
        ("askmygp", NOW - dt.timedelta(seconds=20)),
        ("askmygp", NOW - dt.timedelta(hours=2)),
        ("askmygp", NOW + dt.timedelta(seconds=3)),  # a clock ahead of ours: no negative delay
        ("random-id", NOW - dt.timedelta(seconds=50)),  # never a new label value
    ]
    metrics.observe_batch(BatchResult(records=7, store_seconds=0.04, stored_revisions=stored), NOW)
    get = metrics.registry.get_sample_value

    def delay_le(supplier: str, le: str) -> float | None:
        return get("triage_ingest_delay_seconds_bucket", {"supplier": supplier, "le": le})

    assert delay_le("askmygp", "1.0") == 1  # the one from the future counts as 0 s
    assert delay_le("askmygp", "30.0") == 2
    assert delay_le("askmygp", "3600.0") == 2
    assert delay_le("askmygp", "7200.0") == 3
    assert get("triage_ingest_delay_seconds_sum", {"supplier": "askmygp"}) == 20 + 7200
    assert delay_le("unknown", "60.0") == 1
    assert get("triage_batch_store_duration_seconds_bucket", {"le": "0.025"}) == 0
    assert get("triage_batch_store_duration_seconds_bucket", {"le": "0.05"}) == 1
    assert get("triage_batch_records_bucket", {"le": "1.0"}) == 0
    assert get("triage_batch_records_bucket", {"le": "10.0"}) == 1
    assert get("triage_batch_records_sum") == 7
