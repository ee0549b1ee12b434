"""The shipped Prometheus rules and Grafana dashboard: valid, tested, and naming only metrics
the service exports.

promtool comes from Debian's ``prometheus`` package. Without it the promtool tests are
skipped on a developer machine and fail in CI (CI=true), where the Makefile installs it.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import shutil
import subprocess
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
import yaml
from prometheus_client import generate_latest

from ingest.consumer.store import BatchResult
from ingest.contract.model import FreshnessStatus, Outcome, Reason
from ingest.ops.freshness import SupplierFreshness
from ingest.ops.metrics import IngestMetrics
from ingest.ops.volume import VolumeAssessment

REPO = Path(__file__).resolve().parents[2]
PROMETHEUS = REPO / "deploy" / "prometheus"
GRAFANA = REPO / "deploy" / "grafana"
REQUIRED_ALERTS = {
    "SupplierLate",
    "SupplierSilent",
    "SupplierMissingPractices",
    "RejectionRateHigh",
    "ConsumerNotReady",
    "ConsumerLagHigh",
}
# Series Prometheus itself provides.
PROMETHEUS_SERIES = {"up"}


def _promtool() -> str:
    found = shutil.which("promtool")
    if found:
        return found
    if os.environ.get("CI") == "true":
        pytest.fail("promtool is missing in CI: apt-get install -y prometheus")
    pytest.skip("promtool not installed (apt-get install -y prometheus)")


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [_promtool(), *args],
        check=False,
        cwd=PROMETHEUS,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_promtool_check_rules() -> None:
    result = _run("check", "rules", "alerts.yml")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS" in result.stdout


def test_promtool_test_rules() -> None:
    result = _run("test", "rules", "alerts_test.yml")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS" in result.stdout


def test_promtool_check_config() -> None:
    result = _run("check", "config", "prometheus.yml")
    assert result.returncode == 0, result.stdout + result.stderr


def _rules() -> list[dict[str, Any]]:
    doc = yaml.safe_load((PROMETHEUS / "alerts.yml").read_text())
    return [rule for group in doc["groups"] for rule in group["rules"]]


def _populated_metrics() -> IngestMetrics:
    """The service's metrics with a series in each (as after a batch and a refresh)."""
    metrics = IngestMetrics()
    metrics.set_registered({"askmygp"})
    metrics.observe_batch(
        BatchResult(
            outcomes=Counter({("askmygp", Outcome.REJECTED): 1}),
            reasons=Counter({("askmygp", Reason.UNDECODABLE): 1}),
            records=2,
            store_seconds=0.01,
            stored_revisions=[("askmygp", dt.datetime(2026, 11, 25, tzinfo=dt.UTC))],
        ),
        stored_at=dt.datetime(2026, 11, 25, 0, 5, tzinfo=dt.UTC),
    )
    row = SupplierFreshness(
        "askmygp",
        "A",
        dt.datetime(2026, 11, 25, tzinfo=dt.UTC),
        dt.date(2026, 11, 24),
        FreshnessStatus.OK,
        dt.timedelta(hours=26),
        dt.timedelta(hours=50),
    )
    metrics.publish_freshness([row], {}, 0.0)
    metrics.publish_lag({"askmygp": 1})
    metrics.observe_key_mismatches({"askmygp": 1})
    metrics.count_relayed({"askmygp": 2})
    metrics.publish_parked({"askmygp": 1})
    metrics.unknown_practices.set_counts({"askmygp": 0})
    metrics.publish_volume(
        [VolumeAssessment("askmygp", dt.date(2026, 11, 24), 900, 6, 1000.0, -0.1, -4.2, True,
                          "drop", 2)]
    )  # fmt: skip
    return metrics


def _exported_names() -> set[str]:
    """Every sample name the service's registry exports once populated."""
    metrics = _populated_metrics()
    text = generate_latest(metrics.registry).decode()
    return {line.split("{")[0].split(" ")[0] for line in text.splitlines() if line[:1] not in "#"}


def _metric_names(expr: str) -> set[str]:
    without_strings = re.sub(r'"[^"]*"', "", expr)
    without_ranges = re.sub(r"\[[^\]]*\]", "", without_strings)
    names = set(re.findall(r"\b[a-zA-Z_:][a-zA-Z0-9_:]*\b", without_ranges))
    return {n for n in names if n.startswith("triage_") or n in PROMETHEUS_SERIES}


def test_required_alerts_are_shipped_with_runbooks() -> None:
    rules = _rules()
    assert {r["alert"] for r in rules} >= REQUIRED_ALERTS
    docs = (REPO / "docs" / "operations.md").read_text().lower()
    for rule in rules:
        assert rule["labels"]["severity"] in {"warning", "critical"}
        anchor = rule["annotations"]["runbook"].split("#")[1]
        assert f"### {rule['alert'].lower()}" in docs, f"docs/operations.md lacks {anchor}"


def _dashboard_exprs() -> list[str]:
    dashboard = json.loads((GRAFANA / "dashboards" / "triage-ingest.json").read_text())
    return [t["expr"] for p in dashboard["panels"] for t in p.get("targets", [])]


def test_rules_and_dashboard_name_only_exported_metrics() -> None:
    exported = _exported_names() | PROMETHEUS_SERIES
    exprs = [r["expr"] for r in _rules()] + _dashboard_exprs()
    for expr in exprs:
        for name in _metric_names(expr):
            candidates = {name, f"{name}_total"}
            assert candidates & exported, f"{name} in {expr!r} is not exported"


def test_every_exported_metric_is_on_the_dashboard() -> None:
    """A metric added to ingest/ops/metrics.py without a panel fails here (a counter's family
    is named without _total, a histogram's series add _bucket, _sum, _count)."""
    shown = set().union(*(_metric_names(expr) for expr in _dashboard_exprs()))
    families = {family.name for family in _populated_metrics().registry.collect()}
    assert len(families) >= 20, families  # the registry's families, not an empty list
    missing = sorted(
        family
        for family in families
        if not {family, *(f"{family}_{s}" for s in ("total", "bucket", "sum", "count"))} & shown
    )
    assert missing == [], f"metrics on no panel of triage-ingest.json: {missing}"


def test_grafana_provisioning_points_at_the_dashboards() -> None:
    providers = yaml.safe_load((GRAFANA / "provisioning" / "dashboards" / "triage.yml").read_text())
    assert providers["providers"][0]["options"]["path"] == "/var/lib/grafana/dashboards"
    datasources = yaml.safe_load(
        (GRAFANA / "provisioning" / "datasources" / "prometheus.yml").read_text()
    )
    assert datasources["datasources"][0]["type"] == "prometheus"
    dashboard = json.loads((GRAFANA / "dashboards" / "triage-ingest.json").read_text())
    assert dashboard["uid"] == "triage-ingest"
    ids = [p["id"] for p in dashboard["panels"]]
    assert len(ids) == len(set(ids))
