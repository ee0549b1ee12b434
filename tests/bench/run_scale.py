"""How the cost grows with years of national data, one command:

    .venv/bin/python -m tests.bench.run_scale                      # 5 years (make bench-scale)
    .venv/bin/python -m tests.bench.run_scale --years 0.5 --backlog 100000   # a quick look

In one run, on the local stack (``ingest stack up``; or INGEST_KAFKA_BOOTSTRAP and
INGEST_DATABASE_URL):

1. generates a backlog of ``--backlog`` events (tests/bench/data.py: 6,500 practices, 1%
   invalid, 5% re-sends and restatements) for the days just before today and produces it;
2. loads ``--years`` of synthetic national history (tests/bench/history.py) by COPY into a
   fresh migrated database, ending the day before the backlog's first day;
3. runs ``ingest run`` on the backlog against an empty database, then against the history
   (each its own consumer group, timed from the spawn until every offset is stored; both
   checked row by row), with the consumer's peak RSS;
4. on both databases then: the freshness refresh (the refresher's query set), the status page
   ``/`` and the ``/metrics`` scrape of a running ``ingest run`` (median of ``--repeats``), and
   on the history only the CLI as people run it: ``ingest export --by icb --period month``
   over 3 years under a vintage, ``--by practice`` for one month (by day), one supplier's
   ``ingest quality-report`` (30 days) and ``ingest publish`` of the last whole month.

It prints a table (empty, history, ratio, target) and writes it as JSON under
``bench-results/``. Figures depend on the machine: quote them as ratios from one run.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import json
import os
import secrets
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
from rich.console import Console
from rich.table import Table

from ingest.clock import local_today, system_clock
from ingest.ops.metrics import IngestMetrics
from ingest.ops.refresher import FreshnessRefresher
from ingest.settings import Settings
from tests.bench import measure, run_bench
from tests.bench.data import Spec, expected_state, generate
from tests.bench.history import HistorySpec
from tests.bench.history_load import load_history
from tests.bench.kafka_load import create_topics, delete_topics, produce, run_topics

REPO_ROOT = run_bench.REPO_ROOT
TARGETS = {  # on 5 years of national data: docs/benchmarks.md
    "ingest_ratio": 0.9,  # events/s on the history over events/s on an empty database
    "refresh_s": 0.2,
    "status_page_s": 0.5,
    "scrape_s": 0.5,
    "export_icb_3y_s": 10.0,
    "publish_1m_s": 10.0,  # a national month with reference data of real size and shape
    "peak_rss_mb": 300.0,
}


@dataclass
class ScaleConfig:
    years: float = 5.0
    practices: int = 6_500
    backlog: int = 500_000
    partitions: int = 6
    repeats: int = 5
    output: Path = REPO_ROOT / "bench-results"
    keep: bool = False
    seed: int = 20261125
    timeout: float = 3600.0
    bootstrap: str | None = None
    database_url: str | None = None


@dataclass
class ReadSide:
    """Seconds of each read (median of the repeats) on one database."""

    refresh_s: float
    status_page_s: float
    scrape_s: float
    service_peak_rss_mb: float
    commands_s: dict[str, float] = field(default_factory=dict)


@dataclass
class ScaleReport:
    started_at: str
    machine: dict[str, Any]
    config: dict[str, Any]
    history: dict[str, Any]
    ingest_empty: run_bench.ServiceRun
    ingest_history: run_bench.ServiceRun
    read_empty: ReadSide
    read_history: ReadSide
    json_path: str = ""
    logs: str = ""  # the run's folder: consumers' logs, exports, the publication

    @property
    def ok(self) -> bool:
        return self.ingest_empty.verified and self.ingest_history.verified

    @property
    def ingest_ratio(self) -> float:
        return self.ingest_history.rate / self.ingest_empty.rate if self.ingest_empty.rate else 0


# --- the read side ----------------------------------------------------------------------


async def _median_seconds(repeats: int, action: Callable[[], Any]) -> float:
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        await action()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


async def time_refresh(database_url: str, repeats: int) -> float:
    """One freshness refresh (freshness, missing practices, unknown practices), as the
    service's refresher runs it."""
    refresher = FreshnessRefresher(Settings(database_url=database_url), IngestMetrics())
    try:
        await refresher.refresh_once()  # connects the pool

        async def once() -> None:
            if not await refresher.refresh_once():
                raise RuntimeError("freshness refresh failed")

        return await _median_seconds(repeats, once)
    finally:
        await refresher.close()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def time_http(env: dict[str, str], repeats: int, logs: Path, label: str) -> ReadSide:
    """``/`` and ``/metrics`` of a running ``ingest run`` (idle: its group is caught up)."""
    port = _free_port()
    env = {**env, "INGEST_METRICS_PORT": str(port), "INGEST_METRICS_HOST": "127.0.0.1"}
    log = (logs / f"read-{label}.log").open("wb")
    child = subprocess.Popen(
        [*run_bench._ingest_command()], env=env, cwd=REPO_ROOT, stdout=log, stderr=log
    )
    base = f"http://127.0.0.1:{port}"
    try:
        async with aiohttp.ClientSession() as http:
            deadline = time.perf_counter() + 60
            while True:
                if child.poll() is not None:
                    raise RuntimeError(f"ingest run exited with {child.returncode}; see {log.name}")
                with contextlib.suppress(aiohttp.ClientError):
                    async with http.get(f"{base}/readyz") as response:
                        if response.status == 200:
                            break
                if time.perf_counter() > deadline:
                    raise TimeoutError("ingest run not ready after 60 s")
                await asyncio.sleep(0.2)

            async def get(path: str) -> None:
                async with http.get(f"{base}{path}") as response:
                    await response.read()
                    if response.status != 200:
                        raise RuntimeError(f"GET {path}: {response.status}")

            await get("/")
            status_page = await _median_seconds(repeats, lambda: get("/"))
            scrape = await _median_seconds(repeats, lambda: get("/metrics"))
        rss = measure.peak_rss_mb(child.pid)
    finally:
        child.terminate()
        child.wait(timeout=60)
        log.close()
    return ReadSide(0.0, status_page, scrape, rss)


def time_command(args: Sequence[str], database_url: str) -> float:
    """Seconds of one ``ingest`` CLI command, start to exit (it must succeed)."""
    env = {**os.environ, "INGEST_DATABASE_URL": database_url}
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", "from ingest.cli import main; main()", *args],
        env=env,
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=3600,
        check=False,
    )
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise RuntimeError(f"ingest {' '.join(args)} failed: {done.stderr.strip()}")
    return seconds


PUBLICATION_DIR = "publication"  # under the run's log folder: practices.csv, national.csv, ...


def commands(today: dt.date, supplier: str, out: Path) -> dict[str, list[str]]:
    """The analysts' and suppliers' commands measured on the history."""
    yesterday = today - dt.timedelta(days=1)
    three_years = yesterday - dt.timedelta(days=3 * 365)
    month = yesterday - dt.timedelta(days=30)
    return {
        "export_icb_3y_s": ["export", "--by", "icb", "--period", "month", "--from",
                            str(three_years), "--to", str(yesterday), "--vintage", str(today),
                            "--out", str(out / "icb.csv")],
        "export_practice_1m_s": ["export", "--by", "practice", "--from", str(month), "--to",
                                 str(yesterday), "--vintage", str(today), "--out",
                                 str(out / "practice.csv")],
        "quality_report_s": ["quality-report", "--supplier", supplier, "--days", "30",
                             "--out", str(out / "quality.html")],
        "publish_1m_s": ["publish", "--month", publish_month(today), "--out",
                         str(out / PUBLICATION_DIR)],
    }  # fmt: skip


def publish_month(today: dt.date) -> str:
    """The month ``ingest publish`` is timed on: the last whole month before today."""
    return (today.replace(day=1) - dt.timedelta(days=1)).strftime("%Y-%m")


# --- the whole run ------------------------------------------------------------------------


async def run(config: ScaleConfig, console: Console | None = None) -> ScaleReport:
    say = (console or Console(stderr=True)).log
    bootstrap, server_url = run_bench._addresses(
        run_bench.Config(bootstrap=config.bootstrap, database_url=config.database_url)
    )
    token = secrets.token_hex(3)
    started_at = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    machine = run_bench.machine_info()
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    logs = config.output / f"bench-scale-{stamp}-{token}"
    logs.mkdir(parents=True, exist_ok=True)
    today = local_today(system_clock(), Settings().timezone)
    spec = Spec(
        events=config.backlog,
        practices=config.practices,
        partitions=config.partitions,
        seed=config.seed,
        prefix=f"scale{token}",
    )
    say(f"generating a backlog of {config.backlog:,} events (token {token})")
    data = generate(spec, today)
    expected = expected_state(data)
    backlog_first = today - dt.timedelta(days=data.days)
    history = HistorySpec(
        suppliers=tuple(data.suppliers),
        end=backlog_first,
        years=config.years,
        practices=config.practices,
    )
    databases = run_bench.Databases(server_url, token)
    bench_config = run_bench.Config(timeout=config.timeout, py_spy=None)
    await create_topics(bootstrap, data.topics, config.partitions)
    try:
        produced = await produce(bootstrap, data)
        say(f"produced {produced.records:,} records ({produced.rate:,.0f}/s)")

        empty_url = await databases.fresh("empty", data.suppliers)
        history_url = await databases.fresh("history", data.suppliers)
        say(f"loading {config.years:g} years of history ({history.days:,} days) by COPY")
        loaded = await load_history(history_url, history)
        say(
            f"history: {loaded.current_rows:,} current rows, {loaded.revision_rows:,}"
            f" revisions, {loaded.rejection_rows:,} rejections in {loaded.seconds:.0f}s"
            f" (COPY {loaded.copy_seconds:.0f}s, indexes {loaded.index_seconds:.0f}s,"
            f" vacuum {loaded.vacuum_seconds:.0f}s); database {loaded.database_mb:,.0f} MB"
        )

        runs = {}
        for label, url, end in (
            ("empty", empty_url, None),
            ("history", history_url, backlog_first),
        ):
            say(f"ingest run on the backlog, {label} database")
            runs[label] = await run_bench.run_service(
                bench_config, bootstrap, url, data, expected, produced, 1, f"{token}{label}",
                logs, history_end=end,
            )  # fmt: skip
            r = runs[label]
            say(f"{label}: {r.rate:,.0f} events/s, verified={r.verified} {r.problems or ''}")

        reads = {}
        for label, url in (("empty", empty_url), ("history", history_url)):
            say(f"read side, {label} database")
            env = {
                **os.environ,
                "INGEST_KAFKA_BOOTSTRAP": bootstrap,
                "INGEST_DATABASE_URL": url,
                "INGEST_CONSUMER_GROUP": f"bench-{token}{label}-ours-x1",
                "INGEST_TOPIC_PATTERN": f"^triage\\.daily\\.{spec.prefix}-.+$",
                "INGEST_DLQ_TOPIC": f"triage.dlq.{spec.prefix}",
            }
            read = await time_http(env, config.repeats, logs, label)
            read.refresh_s = await time_refresh(url, config.repeats)
            reads[label] = read
        for name, args in commands(today, data.suppliers[0], logs).items():
            say(f"ingest {' '.join(args[:3])} on the history")
            reads["history"].commands_s[name] = await asyncio.to_thread(
                time_command, args, history_url
            )
    finally:
        if not config.keep:
            await databases.drop_all()
            with contextlib.suppress(Exception):
                await delete_topics(bootstrap, run_topics(data, spec.prefix))

    report = ScaleReport(
        started_at=started_at,
        machine=machine,
        config={k: (str(v) if isinstance(v, Path) else v) for k, v in asdict(config).items()},
        history={**asdict(loaded), "seconds": loaded.seconds, "days": history.days,
                 "first_day": str(history.first_day), "end": str(history.end)},
        ingest_empty=runs["empty"],
        ingest_history=runs["history"],
        read_empty=reads["empty"],
        read_history=reads["history"],
        logs=str(logs),
    )  # fmt: skip
    path = config.output / f"bench-scale-{stamp}-{token}.json"
    path.write_text(json.dumps(as_json(report), indent=2))
    report.json_path = str(path)
    return report


def as_json(report: ScaleReport) -> dict[str, Any]:
    out = asdict(report)
    for key in ("ingest_empty", "ingest_history"):
        run: run_bench.ServiceRun = getattr(report, key)
        out[key] = {**asdict(run), "rate": run.rate, "steady_rate": run.steady_rate}
    out["ingest_ratio"] = report.ingest_ratio
    out["targets"] = TARGETS
    out["met"] = targets_met(report)
    return out


def peak_rss(report: ScaleReport) -> float:
    return max(
        *report.ingest_empty.peak_rss_mb,
        *report.ingest_history.peak_rss_mb,
        report.read_empty.service_peak_rss_mb,
        report.read_history.service_peak_rss_mb,
    )


def targets_met(report: ScaleReport) -> dict[str, bool]:
    h = report.read_history
    return {
        "ingest_ratio": report.ingest_ratio >= TARGETS["ingest_ratio"],
        "refresh_s": h.refresh_s < TARGETS["refresh_s"],
        "status_page_s": h.status_page_s < TARGETS["status_page_s"],
        "scrape_s": h.scrape_s < TARGETS["scrape_s"],
        "export_icb_3y_s": h.commands_s.get("export_icb_3y_s", 1e9) < TARGETS["export_icb_3y_s"],
        "publish_1m_s": h.commands_s.get("publish_1m_s", 1e9) < TARGETS["publish_1m_s"],
        "peak_rss_mb": peak_rss(report) < TARGETS["peak_rss_mb"],
    }


def render(report: ScaleReport, console: Console) -> None:
    h = report.history
    table = Table(
        title=f"bench-scale: {report.config['years']:g} years of history"
        f" ({h['current_rows']:,} current rows, {h['revision_rows']:,} revisions,"
        f" {h['database_mb']:,.0f} MB) vs an empty database; {report.started_at},"
        f" {report.machine['cores']} cores"
    )
    for name in ("measure", "empty db", "history", "history / empty", "target", "met"):
        table.add_column(name, justify="left" if name == "measure" else "right")
    met = targets_met(report)
    e, h_run = report.ingest_empty, report.ingest_history
    table.add_row(
        f"ingest {e.events:,} events (events/s)", f"{e.rate:,.0f}", f"{h_run.rate:,.0f}",
        f"{report.ingest_ratio:.2f}", f">= {TARGETS['ingest_ratio']}",
        _yes(met["ingest_ratio"]),
    )  # fmt: skip
    for key, label in (
        ("refresh_s", "freshness refresh (s)"),
        ("status_page_s", "status page / (s)"),
        ("scrape_s", "metrics scrape (s)"),
    ):
        before, after = getattr(report.read_empty, key), getattr(report.read_history, key)
        table.add_row(
            label, f"{before:.3f}", f"{after:.3f}", f"{after / before:.1f}" if before else "-",
            f"< {TARGETS[key]}", _yes(met[key]),
        )  # fmt: skip
    for key, seconds in report.read_history.commands_s.items():
        target = TARGETS.get(key)
        table.add_row(
            key.removesuffix("_s").replace("_", " ") + " (s)", "-", f"{seconds:.2f}", "-",
            f"< {target}" if target else "-", _yes(met[key]) if key in met else "-",
        )  # fmt: skip
    table.add_row(
        "peak RSS of the service (MB)", "-", f"{peak_rss(report):.0f}", "-",
        f"< {TARGETS['peak_rss_mb']:.0f}", _yes(met["peak_rss_mb"]),
    )  # fmt: skip
    console.print(table)
    steady = h_run.steady_rate / e.steady_rate if e.steady_rate else 0.0
    console.print(
        f"after the first batch: empty {e.steady_rate:,.0f}, history {h_run.steady_rate:,.0f}"
        f" events/s ({steady:.2f}); first batch stored after {e.first_commit_seconds:.1f}s"
        f" and {h_run.first_commit_seconds:.1f}s"
    )
    console.print(
        f"history loaded in {h['seconds']:.0f}s (COPY {h['copy_seconds']:.0f}s, indexes"
        f" {h['index_seconds']:.0f}s, vacuum {h['vacuum_seconds']:.0f}s); ingest verified:"
        f" empty {e.verified}, history {h_run.verified}; JSON: {report.json_path}"
    )


def _yes(ok: bool) -> str:
    return "yes" if ok else "NO"


def parse_args(argv: Sequence[str] | None = None) -> ScaleConfig:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    p.add_argument("--years", type=float, default=ScaleConfig.years)
    p.add_argument("--practices", type=int, default=ScaleConfig.practices)
    p.add_argument("--backlog", type=int, default=ScaleConfig.backlog, help="events")
    p.add_argument("--partitions", type=int, default=ScaleConfig.partitions)
    p.add_argument("--repeats", type=int, default=ScaleConfig.repeats)
    p.add_argument("--output", type=Path, default=ScaleConfig.output)
    p.add_argument("--keep", action="store_true", help="keep the databases and topics")
    p.add_argument("--seed", type=int, default=ScaleConfig.seed)
    p.add_argument("--timeout", type=float, default=ScaleConfig.timeout)
    a = p.parse_args(argv)
    return ScaleConfig(
        years=a.years, practices=a.practices, backlog=a.backlog, partitions=a.partitions,
        repeats=a.repeats, output=a.output, keep=a.keep, seed=a.seed, timeout=a.timeout,
    )  # fmt: skip


def main(argv: Sequence[str] | None = None) -> int:
    config = parse_args(argv)
    console = Console() if sys.stdout.isatty() else Console(width=160)
    report = asyncio.run(run(config, console))
    render(report, console)
    return 0 if report.ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
