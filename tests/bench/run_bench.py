"""The ingestion benchmark, one command:

    .venv/bin/python -m tests.bench.run_bench                 # 2,000,000 events (make bench)
    .venv/bin/python -m tests.bench.run_bench --events 20000  # the CI smoke size

In one run, on the local stack (``ingest stack up``; or INGEST_KAFKA_BOOTSTRAP and
INGEST_DATABASE_URL):

1. generates N events (see tests/bench/data.py) and produces them to the real broker first,
   into 3 fresh supplier topics of ``--partitions`` partitions each;
2. runs ``ingest run`` as a subprocess (its own consumer group, a fresh database) on the
   backlog, timed from the spawn until every partition's offset stored in Postgres reached the
   end: events/s, the consumer's peak RSS (VmHWM) and CPU seconds, and the CPU seconds the
   broker and Postgres used meanwhile; then the same with the partitions spread over 2
   consumer processes (``--processes 1,2``);
3. measures two references on the same data: the naive consumer (tests/bench/naive.py) on a
   sample of ``--naive-sample`` events, and the ceiling (tests/bench/ceiling.py), a COPY of
   the same rows into an empty table with the same indexes;
4. checks every final row against a replay of the contract's rules, prints the table and
   writes it as JSON under ``bench-results/``.

``--py-spy PATH`` attaches py-spy (``pip install py-spy``) to the 1-process run and writes a
collapsed-stack profile and its summary beside the JSON.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import json
import os
import platform
import re
import secrets
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import asyncpg
import psutil  # type: ignore[import-untyped]
from rich.console import Console
from rich.table import Table

from ingest.clock import local_today, system_clock
from ingest.contract.validation import Limits
from ingest.db.migrate import migrate
from ingest.settings import Settings
from tests.bench import measure, statements
from tests.bench.ceiling import ceiling_rows, run_ceiling
from tests.bench.components import PerEvent, describe, per_event, profile_shares
from tests.bench.data import WRITERS, DataSet, Expected, Spec, expected_state, generate
from tests.bench.kafka_load import Produced, create_topics, delete_topics, produce, run_topics
from tests.bench.naive import run_naive
from tests.bench.profile_summary import parse_collapsed, summarise_collapsed
from tests.bench.verify import verify
from tests.support.databases import with_database

REPO_ROOT = Path(__file__).resolve().parents[2]
DB_PREFIX = "triage_bench_"


@dataclass
class Config:
    events: int = 2_000_000
    practices: int = 6_500
    partitions: int = 6
    naive_sample: int = 20_000
    processes: tuple[int, ...] = (1, 2)
    run_naive: bool = True
    run_ceiling: bool = True
    py_spy: str | None = None
    # also run x1 with INGEST_OVERLAP_BATCHES=true (and the others with it false)
    pipelined: bool = False
    output: Path = REPO_ROOT / "bench-results"
    keep: bool = False
    seed: int = 20261125
    writers: str = "mixed"  # which schema versions the suppliers write (tests/bench/data.py)
    timeout: float = 1800.0
    bootstrap: str | None = None
    database_url: str | None = None


@dataclass
class ServiceRun:
    label: str
    processes: int
    events: int
    seconds: float  # spawn -> every offset at the end
    first_commit_seconds: float  # spawn -> first batch stored
    peak_rss_mb: list[float]
    cpu_seconds: list[float]
    kafka_cpu_seconds: float
    postgres_cpu_seconds: float
    machine_busy_seconds: float
    machine_cores: float
    verified: bool
    problems: list[str]
    current_rows: int
    revision_rows: int
    rejected_rows: int
    postgres_cpu_by_kind: dict[str, float] = field(default_factory=dict)
    profile: str | None = None
    profile_summary: list[str] = field(default_factory=list)
    # the run database's costliest statements (pg_stat_statements), per event
    statements: list[statements.StatementCost] = field(default_factory=list)

    @property
    def rate(self) -> float:
        return self.events / self.seconds if self.seconds else 0.0

    @property
    def other_cpu_seconds(self) -> float:
        """CPU the rest of the machine used meanwhile (other engineers' tests, the bench)."""
        own = sum(self.cpu_seconds) + self.kafka_cpu_seconds + self.postgres_cpu_seconds
        return max(0.0, self.machine_busy_seconds - own)

    @property
    def cost(self) -> PerEvent:
        """CPU per event by component (the relay's share when the run was profiled)."""
        profile = Path(self.profile) if self.profile else None
        shares = profile_shares(parse_collapsed(profile)) if profile and profile.exists() else None
        return per_event(
            self.events,
            self.cpu_seconds,
            self.postgres_cpu_seconds,
            self.postgres_cpu_by_kind,
            self.kafka_cpu_seconds,
            shares,
        )

    @property
    def steady_rate(self) -> float:
        span = self.seconds - self.first_commit_seconds
        return self.events / span if span > 0 else 0.0


@dataclass
class Report:
    started_at: str
    machine: dict[str, Any]
    config: dict[str, Any]
    generated_seconds: float
    produced: dict[str, Any]
    naive: dict[str, Any] | None
    ceiling: dict[str, Any] | None
    ours: list[ServiceRun]
    json_path: str = ""

    @property
    def ok(self) -> bool:
        return all(run.verified for run in self.ours)


# --- environment ------------------------------------------------------------------------


def _addresses(config: Config) -> tuple[str, str]:
    settings = Settings(state_dir=REPO_ROOT / ".ingest")
    if "INGEST_STATE_DIR" in os.environ:
        settings = Settings()
    bootstrap = config.bootstrap or settings.kafka()
    # the benchmark creates databases of its own: the owner role (CREATEDB), not the service's
    database_url = config.database_url or settings.migration_database()
    return bootstrap, database_url


def machine_info() -> dict[str, Any]:
    model = ""
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    commit = _git("rev-parse", "--short", "HEAD")
    dirty = bool(_git("status", "--porcelain", "--untracked-files=no"))
    return {
        "cpu": model,
        "cores": os.cpu_count(),
        "memory_gb": round(psutil.virtual_memory().total / 2**30, 1),
        "kernel": platform.release(),
        "python": platform.python_version(),
        "commit": commit + ("-dirty" if dirty else ""),
    }


def _git(*args: str) -> str:
    try:
        return subprocess.run(
            ["git", *args], cwd=REPO_ROOT, capture_output=True, text=True, check=False
        ).stdout.strip()
    except OSError:
        return ""


class Databases:
    """Fresh, migrated databases on the stack's server, dropped at the end."""

    def __init__(self, server_url: str, token: str) -> None:
        self.server_url, self.token = server_url, token
        self.created: list[str] = []

    async def fresh(self, label: str, suppliers: Sequence[str]) -> str:
        name = f"{DB_PREFIX}{int(time.time())}_{self.token}_{label}"
        admin = await asyncpg.connect(self.server_url)
        try:
            await admin.execute(f'CREATE DATABASE "{name}"')
        finally:
            await admin.close()
        self.created.append(name)
        url = with_database(self.server_url, name)
        await migrate(url)
        conn = await asyncpg.connect(url)
        try:
            await conn.executemany(
                "INSERT INTO triage.suppliers (supplier_id, name) VALUES ($1, $1)",
                [(s,) for s in suppliers],
            )
        finally:
            await conn.close()
        return url

    async def drop_all(self) -> None:
        admin = await asyncpg.connect(self.server_url)
        try:
            for name in self.created:
                await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await admin.close()


# --- our service ------------------------------------------------------------------------


def _ingest_command() -> list[str]:
    script = Path(sys.executable).parent / "ingest"
    if script.exists():
        return [str(script), "run"]
    return [sys.executable, "-m", "ingest.ops.process"]


class Consumers:
    """``processes`` x ``ingest run`` (optionally one under py-spy), stopped on exit."""

    def __init__(
        self,
        command: list[str],
        env: dict[str, str],
        processes: int,
        logs: Path,
        py_spy: str | None,
        label: str,
    ) -> None:
        self.command, self.env, self.processes = command, env, processes
        self.logs, self.py_spy, self.label = logs, py_spy, label
        self.children: list[subprocess.Popen[bytes]] = []
        self.spy: subprocess.Popen[bytes] | None = None
        self.profile: Path | None = None
        self._log_files: list[Any] = []

    def start(self) -> None:
        for i in range(self.processes):
            log_file = (self.logs / f"{self.label}-{i}.log").open("wb")
            self._log_files.append(log_file)
            self.children.append(
                subprocess.Popen(
                    self.command,
                    env=self.env,
                    cwd=REPO_ROOT,
                    stdout=log_file,
                    stderr=log_file,
                )
            )
        if self.py_spy and self.processes == 1:
            self.profile = self.logs / f"profile-{self.label}.collapsed"
            self.spy = subprocess.Popen(
                [
                    self.py_spy,
                    "record",
                    "--pid",
                    str(self.children[0].pid),
                    "--rate",
                    "97",
                    "--format",
                    "raw",
                    "--nonblocking",
                    "--output",
                    str(self.profile),
                ],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )

    def check_alive(self) -> None:
        for child in self.children:
            if child.poll() is not None:
                raise RuntimeError(f"ingest run exited with {child.returncode}; see {self.logs}")

    def stop(self) -> None:
        for child in self.children:
            if child.poll() is None:
                child.send_signal(signal.SIGTERM)
        for child in self.children:
            try:
                child.wait(timeout=60)
            except subprocess.TimeoutExpired:
                child.kill()
        if self.spy is not None:
            try:
                self.spy.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.spy.send_signal(signal.SIGINT)
                self.spy.wait(timeout=30)
        for log_file in self._log_files:
            log_file.close()


async def _wait_until_stored(
    conn: asyncpg.Connection,
    group: str,
    targets: dict[tuple[str, int], int],
    consumers: Consumers,
    started: float,
    timeout: float,
    sampler: measure.PostgresSampler,
) -> float:
    """Poll the offsets the consumers store; returns when the first batch was stored."""
    first_commit = 0.0
    next_sample = 0.0
    while True:
        consumers.check_alive()
        if time.perf_counter() >= next_sample:
            sampler.sample()
            next_sample = time.perf_counter() + 0.25
        rows = await conn.fetch(
            "SELECT topic, partition, next_offset FROM triage.consumer_offsets WHERE group_id = $1",
            group,
        )
        stored = {(r["topic"], r["partition"]): r["next_offset"] for r in rows}
        now = time.perf_counter()
        if not first_commit and any(n > 0 for n in stored.values()):
            first_commit = now - started
        if all(stored.get(tp, 0) >= end for tp, end in targets.items()):
            return first_commit
        if now - started > timeout:
            raise TimeoutError(f"not done after {timeout:.0f}s: {stored}")
        await asyncio.sleep(0.05)


async def run_service(
    config: Config,
    bootstrap: str,
    database_url: str,
    data: DataSet,
    expected: Expected,
    produced: Produced,
    processes: int,
    token: str,
    logs: Path,
    pipelined: bool | None = None,
    history_end: dt.date | None = None,
) -> ServiceRun:
    """Spawn ``processes`` x ``ingest run`` on the backlog; time until all offsets are stored.

    ``pipelined``: INGEST_OVERLAP_BATCHES for the consumers (None: the environment's).

    ``history_end``: the database held rows of activity dates before it (tests/bench/
    run_scale.py); only the backlog's rows are checked then."""
    label = f"{'pipelined' if pipelined else 'ours'}-x{processes}"
    group = f"bench-{token}-{label}"
    prefix = re.escape(f"triage.daily.{data.spec.prefix}-")
    env = {
        **os.environ,
        "INGEST_KAFKA_BOOTSTRAP": bootstrap,
        "INGEST_DATABASE_URL": database_url,
        "INGEST_CONSUMER_GROUP": group,
        "INGEST_TOPIC_PATTERN": f"^{prefix}.+$",
        "INGEST_DLQ_TOPIC": f"triage.dlq.{data.spec.prefix}",
        "INGEST_METRICS_PORT": "0",
        "INGEST_METRICS_HOST": "127.0.0.1",
    }
    if pipelined is not None:
        env["INGEST_OVERLAP_BATCHES"] = "true" if pipelined else "false"
    pids = measure.StackPids.find(bootstrap, database_url)
    targets = {tp: end for tp, end in produced.end_offsets.items() if end > 0}
    consumers = Consumers(_ingest_command(), env, processes, logs, config.py_spy, label)
    sampler = measure.PostgresSampler(pids.postgres, urlsplit(database_url).path.lstrip("/"))
    conn = await asyncpg.connect(database_url)
    try:
        database = urlsplit(database_url).path.lstrip("/")
        statements_before = await statements.snapshot(database_url, database)
        sampler.sample()
        before = measure.CpuSnapshot.take(pids)
        started_at = dt.datetime.now(dt.UTC)
        started = time.perf_counter()
        consumers.start()
        first_commit = await _wait_until_stored(
            conn, group, targets, consumers, started, config.timeout, sampler
        )
        seconds = time.perf_counter() - started
        after = measure.CpuSnapshot.take(pids)
        sampler.sample()
        statements_after = await statements.snapshot(database_url, database)
        rss = [measure.peak_rss_mb(c.pid) for c in consumers.children]
        cpu = [measure.cpu_seconds(c.pid) for c in consumers.children]
    finally:
        await conn.close()
        consumers.stop()
    use = measure.CpuUse.between(before, after)
    if history_end is None:
        checked = await verify(database_url, expected)
    else:
        checked = await verify(database_url, expected, history_end, started_at)
    profile = consumers.profile
    return ServiceRun(
        label=label,
        processes=processes,
        events=len(data.items),
        seconds=seconds,
        first_commit_seconds=first_commit,
        peak_rss_mb=rss,
        cpu_seconds=cpu,
        kafka_cpu_seconds=use.kafka,
        postgres_cpu_seconds=use.postgres,
        machine_busy_seconds=use.machine_busy,
        machine_cores=use.machine_cores,
        verified=checked.ok,
        problems=checked.problems,
        current_rows=checked.current_rows,
        revision_rows=checked.revision_rows,
        rejected_rows=checked.rejected_rows,
        postgres_cpu_by_kind=sampler.by_kind(),
        statements=(
            statements.per_event(statements_before, statements_after, len(data.items))
            if statements_before is not None and statements_after is not None
            else []
        ),
        profile=str(profile) if profile else None,
        profile_summary=summarise_collapsed(profile) if profile and profile.exists() else [],
    )


# --- the whole benchmark --------------------------------------------------------------


async def run(config: Config, console: Console | None = None) -> Report:
    """Every step of the benchmark; returns the report (also written as JSON)."""
    say = (console or Console(stderr=True)).log
    bootstrap, server_url = _addresses(config)
    token = secrets.token_hex(3)
    spec = Spec(
        events=config.events,
        practices=config.practices,
        partitions=config.partitions,
        seed=config.seed,
        prefix=f"bench{token}",
        writers=config.writers,
    )
    started_at = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    machine = machine_info()  # the commit under test: taken at the start
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    logs = config.output / f"bench-{stamp}-{token}"
    logs.mkdir(parents=True, exist_ok=True)
    today = local_today(system_clock(), Settings().timezone)

    say(f"generating {config.events:,} events (token {token})")
    t = time.perf_counter()
    data = generate(spec, today)
    expected = expected_state(data)
    generated_seconds = time.perf_counter() - t
    say(f"generated in {generated_seconds:.1f}s: {dict(expected.outcomes)}")

    databases = Databases(server_url, token)
    await create_topics(bootstrap, data.topics, config.partitions)
    try:
        produced = await produce(bootstrap, data)
        say(
            f"produced {produced.records:,} records in {produced.seconds:.1f}s"
            f" ({produced.rate:,.0f}/s, {produced.bytes / 1e6:.0f} MB)"
        )
        limits = Limits(today=today)

        naive, ceiling = await _references(config, bootstrap, data, databases, token, limits, say)
        ours = []
        # with --pipelined, overlap off for the plain runs, on for the extra one; else as set
        plain = False if config.pipelined else None
        runs: list[tuple[int, bool | None]] = [(n, plain) for n in config.processes]
        if config.pipelined:
            runs.append((1, True))
        for n, pipelined in runs:
            url = await databases.fresh(f"{'pipe' if pipelined else 'ours'}{n}", data.suppliers)
            say(f"ingest run{' (overlap on)' if pipelined else ''} x{n} on the backlog")
            service_run = await run_service(
                config, bootstrap, url, data, expected, produced, n, token, logs, pipelined
            )
            ours.append(service_run)
            say(
                f"{service_run.label}: {service_run.rate:,.0f} events/s,"
                f" verified={service_run.verified}"
                + (f" {service_run.problems}" if service_run.problems else "")
            )
    finally:
        if not config.keep:
            await databases.drop_all()
            with contextlib.suppress(Exception):
                await delete_topics(bootstrap, run_topics(data, spec.prefix))

    report = Report(
        started_at=started_at,
        machine=machine,
        config={k: (str(v) if isinstance(v, Path) else v) for k, v in asdict(config).items()},
        generated_seconds=generated_seconds,
        produced={
            "records": produced.records,
            "bytes": produced.bytes,
            "seconds": produced.seconds,
            "rate": produced.rate,
        },
        naive=naive,
        ceiling=ceiling,
        ours=ours,
    )
    path = config.output / f"bench-{stamp}-{token}.json"
    path.write_text(json.dumps(_as_json(report), indent=2))
    report.json_path = str(path)
    return report


async def _references(
    config: Config,
    bootstrap: str,
    data: DataSet,
    databases: Databases,
    token: str,
    limits: Limits,
    say: Callable[..., None],
) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
    """The naive consumer on a sample, and the COPY ceiling, each in a database of its own."""
    naive = None
    if config.run_naive:
        url = await databases.fresh("naive", data.suppliers)
        sample = min(config.naive_sample, len(data.items))
        say(f"naive consumer on {sample:,} events")
        result = await run_naive(
            bootstrap,
            url,
            data.topics,
            f"bench-{token}-naive",
            sample,
            set(data.suppliers),
            limits,
        )
        naive = {**asdict(result), "rate": result.rate}
        say(f"naive: {result.rate:,.0f} events/s")
    ceiling = None
    if config.run_ceiling:
        url = await databases.fresh("ceiling", data.suppliers)
        rows = ceiling_rows(data)
        say(f"ceiling: COPY of {len(rows):,} rows")
        pids = measure.StackPids.find(bootstrap, url)
        before = measure.CpuSnapshot.take(pids)
        copy_result = await run_ceiling(url, rows)
        use = measure.CpuUse.between(before, measure.CpuSnapshot.take(pids))
        del rows
        ceiling = {
            **asdict(copy_result),
            "rate": copy_result.rate,
            "postgres_cpu_seconds": use.postgres,
        }
        say(f"ceiling: {copy_result.rate:,.0f} rows/s")
    return naive, ceiling


def _as_json(report: Report) -> dict[str, Any]:
    out = asdict(report)
    out["ours"] = [
        {
            **asdict(r),
            "rate": r.rate,
            "steady_rate": r.steady_rate,
            "other_cpu_seconds": r.other_cpu_seconds,
            "cpu_us_per_event": r.cost.as_dict(),
        }
        for r in report.ours
    ]
    out["ratios"] = ratios(report)
    return out


def ratios(report: Report) -> dict[str, float]:
    out: dict[str, float] = {}
    for run in report.ours:
        if report.naive and report.naive["rate"]:
            out[f"{run.label}_over_naive"] = run.rate / report.naive["rate"]
        if report.ceiling and report.ceiling["rate"]:
            out[f"{run.label}_over_ceiling"] = run.rate / report.ceiling["rate"]
    return out


def render(report: Report, console: Console) -> None:
    table = Table(
        title=f"ingestion benchmark, {report.config['events']:,} events"
        f" (writers {report.config.get('writers', 'mixed')})"
        f" ({report.started_at}, {report.machine['cores']} cores)"
    )
    for name in (
        "path",
        "events",
        "s",
        "events/s",
        "/ naive",
        "/ COPY",
        "peak RSS MB",
        "CPU s",
        "broker / PG CPU s",
        "cores busy (others)",
    ):
        table.add_column(name, justify="left" if name == "path" else "right")
    naive_rate = report.naive["rate"] if report.naive else 0.0
    ceiling_rate = report.ceiling["rate"] if report.ceiling else 0.0
    for run in report.ours:
        table.add_row(
            run.label.replace("-", " "),
            f"{run.events:,}",
            f"{run.seconds:.1f}",
            f"{run.rate:,.0f}",
            f"{run.rate / naive_rate:.1f}" if naive_rate else "-",
            f"{run.rate / ceiling_rate:.2f}" if ceiling_rate else "-",
            " + ".join(f"{m:.0f}" for m in run.peak_rss_mb),
            " + ".join(f"{c:.1f}" for c in run.cpu_seconds),
            f"{run.kafka_cpu_seconds:.1f} / {run.postgres_cpu_seconds:.1f}",
            f"{run.machine_busy_seconds / run.seconds:.2f}"
            f" ({run.other_cpu_seconds / run.seconds:.2f}) of {run.machine_cores:.0f}",
        )
    if report.naive:
        n = report.naive
        table.add_row(
            "naive",
            f"{n['events']:,}",
            f"{n['seconds']:.1f}",
            f"{n['rate']:,.0f}",
            "1.0",
            f"{n['rate'] / ceiling_rate:.3f}" if ceiling_rate else "-",
            "-",
            f"{n['cpu_seconds']:.1f}",
            "-",
            "-",
        )
    if report.ceiling:
        c = report.ceiling
        table.add_row(
            "COPY ceiling",
            f"{c['rows']:,}",
            f"{c['seconds']:.1f}",
            f"{c['rate']:,.0f}",
            f"{c['rate'] / naive_rate:.1f}" if naive_rate else "-",
            "1.00",
            "-",
            "-",
            f"- / {c.get('postgres_cpu_seconds', 0.0):.1f}",
            "-",
        )
    console.print(table)
    for run in report.ours:
        console.print(
            f"{run.label}: first batch stored after {run.first_commit_seconds:.1f}s,"
            f" {run.steady_rate:,.0f} events/s from then on; rows: {run.current_rows:,}"
            f" current, {run.revision_rows:,} revisions, {run.rejected_rows:,} rejected;"
            f" verified: {run.verified}" + (f" {run.problems}" if run.problems else "")
        )
        console.print(f"  {describe(run.cost)}")
        for line in statements.describe(run.statements):
            console.print(line)
        console.print(
            "  Postgres CPU s by process: "
            + ", ".join(f"{kind} {sec:.1f}" for kind, sec in run.postgres_cpu_by_kind.items())
        )
        for line in run.profile_summary:
            console.print(f"  {line}")
    console.print(
        f"produced {report.produced['records']:,} records in"
        f" {report.produced['seconds']:.1f}s; JSON: {report.json_path}"
    )


def parse_args(argv: Sequence[str] | None = None) -> list[Config]:
    """One configuration per writer set named by ``--writers``, otherwise the same."""
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    p.add_argument("--events", type=int, default=Config.events)
    p.add_argument("--practices", type=int, default=Config.practices)
    p.add_argument(
        "--partitions",
        type=int,
        default=Config.partitions,
        help="partitions of each of the 3 supplier topics",
    )
    p.add_argument("--naive-sample", type=int, default=Config.naive_sample)
    p.add_argument(
        "--processes", default="1,2", help="consumer process counts to run, e.g. 1 or 1,2"
    )
    p.add_argument("--no-naive", action="store_true")
    p.add_argument("--no-ceiling", action="store_true")
    p.add_argument(
        "--py-spy",
        nargs="?",
        const="py-spy",
        default=None,
        help="profile the 1-process run with py-spy (path to the binary)",
    )
    p.add_argument(
        "--pipelined",
        action="store_true",
        help="also run 1 process with INGEST_OVERLAP_BATCHES=true (the others with it false)",
    )
    p.add_argument("--output", type=Path, default=Config.output)
    p.add_argument("--keep", action="store_true", help="keep the databases and topics")
    p.add_argument("--seed", type=int, default=Config.seed)
    p.add_argument(
        "--writers",
        default=Config.writers,
        help="schema versions written: mixed (v1, v2 and both), v1 only, or v3 with time bands;"
        " several, comma-separated (e.g. v1,v3), run one after the other and are compared",
    )
    p.add_argument("--timeout", type=float, default=Config.timeout)
    a = p.parse_args(argv)
    writers = [w.strip() for w in a.writers.split(",") if w.strip()]
    unknown = [w for w in writers if w not in WRITERS]
    if unknown or not writers:
        p.error(f"--writers: {', '.join(unknown) or 'none'}; choose from {', '.join(WRITERS)}")
    spy = a.py_spy
    if spy is not None and not Path(spy).exists():
        spy = shutil.which(spy)
        if spy is None:
            p.error("py-spy not found: pip install py-spy, or pass its path")
    return [
        Config(
            events=a.events,
            practices=a.practices,
            partitions=a.partitions,
            naive_sample=a.naive_sample,
            processes=tuple(int(x) for x in a.processes.split(",") if x.strip()),
            run_naive=not a.no_naive,
            run_ceiling=not a.no_ceiling,
            py_spy=spy,
            pipelined=a.pipelined,
            output=a.output,
            keep=a.keep,
            seed=a.seed,
            writers=w,
            timeout=a.timeout,
        )
        for w in writers
    ]


def main(argv: Sequence[str] | None = None) -> int:
    configs = parse_args(argv)
    console = Console() if sys.stdout.isatty() else Console(width=140)
    reports = []
    for config in configs:
        report = asyncio.run(run(config, console))
        render(report, console)
        reports.append(report)
    for line in compare_writers(reports):
        console.print(line)
    return 0 if all(r.ok for r in reports) else 1


def compare_writers(reports: Sequence[Report]) -> list[str]:
    """Each writer set's x1 run against the first's: events/s and CPU per event, as ratios
    (the runs follow one another in one invocation; read the load of each beside them)."""
    firsts = [
        (r.config["writers"], next((o for o in r.ours if o.processes == 1), None)) for r in reports
    ]
    runs = [(w, o) for w, o in firsts if o is not None]
    if len(runs) < 2:
        return []
    base_writers, base = runs[0]
    lines = [f"writers compared with {base_writers} (x1 runs, one after the other):"]
    for writers, o in runs[1:]:
        lines.append(
            f"  {writers} / {base_writers}: events/s {o.rate / base.rate:.2f},"
            f" CPU per event {o.cost.total / base.cost.total:.2f}"
            f" (consumer {o.cost.consumer / base.cost.consumer:.2f},"
            f" Postgres {o.cost.postgres / base.cost.postgres:.2f});"
            f" others' cores {o.other_cpu_seconds / o.seconds:.2f}"
            f" vs {base.other_cpu_seconds / base.seconds:.2f}"
        )
    return lines


if __name__ == "__main__":
    raise SystemExit(main())
