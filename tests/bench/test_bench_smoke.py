"""CI smoke test of the benchmark: the whole of ``python -m tests.bench.run_bench`` at 20,000
events on the real stack. It checks that the benchmark works and that the final rows are
right, never how fast anything was (the machine is shared: no timing assertions)."""

from __future__ import annotations

from pathlib import Path

import pytest
from rich.console import Console

from ingest.devstack import stack as local_stack
from tests.bench import run_bench
from tests.bench.kafka_load import topics_named

pytestmark = [pytest.mark.integration, pytest.mark.slow]


async def test_the_benchmark_runs_end_to_end_and_the_rows_are_right(
    stack: local_stack.StackAddresses, tmp_path: Path
) -> None:
    config = run_bench.Config(
        events=20_000,
        naive_sample=500,
        processes=(1, 2),
        pipelined=True,
        output=tmp_path,
        timeout=240,
        bootstrap=stack.kafka_bootstrap,
        database_url=stack.owner_database_url,
    )
    console = Console(file=(tmp_path / "console.txt").open("w"), width=160)
    report = await run_bench.run(config, console)
    run_bench.render(report, console)

    assert [run.label for run in report.ours] == ["ours-x1", "ours-x2", "pipelined-x1"]
    for run in report.ours:
        assert run.verified, run.problems
        # 20,000 records: 1% invalid, 5% re-sends and restatements (tests/bench/data.py)
        assert run.events == 20_000
        assert run.current_rows == 18_800  # one per practice-day
        assert run.revision_rows > run.current_rows
        assert run.rejected_rows >= 200
        assert run.peak_rss_mb and all(m > 0 for m in run.peak_rss_mb)
        assert len(run.cpu_seconds) == run.processes
    assert report.naive is not None and report.naive["events"] == 500
    assert report.ceiling is not None and report.ceiling["rows"] == report.ours[0].revision_rows
    _check_outputs(Path(report.json_path), tmp_path)
    token = Path(report.json_path).stem.rsplit("-", 1)[1]  # bench-<stamp>-<token>
    # every topic of the run is gone, the feedback topics the outcome relay made included
    assert await topics_named(stack.kafka_bootstrap, f"bench{token}") == []


def _check_outputs(saved: Path, folder: Path) -> None:
    assert saved.exists() and saved.parent == folder
    assert "ours x1" in (folder / "console.txt").read_text()
