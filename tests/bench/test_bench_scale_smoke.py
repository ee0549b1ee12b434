"""Smoke test of ``make bench-scale`` at a tiny size (a few weeks of history, 3,000 events):
every step runs on the real stack and the backlog's rows are right on both databases. It never
checks how fast anything was (the machine is shared: no timing assertions)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from rich.console import Console

from ingest.devstack import stack as local_stack
from tests.bench import run_scale
from tests.bench.kafka_load import topics_named

pytestmark = [pytest.mark.integration, pytest.mark.slow]


async def test_bench_scale_runs_end_to_end_and_the_backlog_rows_are_right(
    stack: local_stack.StackAddresses, tmp_path: Path
) -> None:
    config = run_scale.ScaleConfig(
        years=0.05,
        practices=300,
        backlog=3_000,
        partitions=2,
        repeats=2,
        output=tmp_path,
        timeout=120,
        bootstrap=stack.kafka_bootstrap,
        database_url=stack.owner_database_url,
    )
    console = Console(file=(tmp_path / "console.txt").open("w"), width=160)
    report = await run_scale.run(config, console)
    run_scale.render(report, console)

    for run in (report.ingest_empty, report.ingest_history):
        assert run.verified, run.problems
        assert run.events == 3_000
        assert run.current_rows == 2_820  # the backlog's practice-days only
    # 18 days x 300 practices x 3 suppliers x 85% coverage, give or take the hashing
    history = report.history
    assert 12_000 < history["current_rows"] < 15_600
    assert history["revision_rows"] > history["current_rows"]
    assert history["rejection_rows"] > 0
    assert set(report.read_history.commands_s) == {
        "export_icb_3y_s",
        "export_practice_1m_s",
        "quality_report_s",
        "publish_1m_s",
    }
    _check_publication(Path(report.logs) / run_scale.PUBLICATION_DIR)
    token = Path(report.logs).name.rsplit("-", 1)[1]  # bench-scale-<stamp>-<token>
    # every topic of the run is gone, the feedback topics the outcome relay made included
    assert await topics_named(stack.kafka_bootstrap, f"scale{token}") == []
    _check_outputs(Path(report.json_path), tmp_path / "console.txt")


def _check_publication(folder: Path) -> None:
    """``ingest publish`` wrote the month's files, with practices that had data."""
    assert {"practices.csv", "national.csv", "README.md", "edition.json"} <= {
        p.name for p in folder.iterdir()
    }
    practices = (folder / "practices.csv").read_text().splitlines()
    assert len(practices) > 1, practices  # a header and at least one practice
    assert len((folder / "national.csv").read_text().splitlines()) == 2


def _check_outputs(saved: Path, console: Path) -> None:
    assert set(json.loads(saved.read_text())["met"]) == set(run_scale.TARGETS)
    assert "bench-scale: 0.05 years" in console.read_text()
