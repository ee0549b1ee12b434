"""Measuring processes: peak RSS, CPU seconds, and who used the machine's CPU (Linux /proc).

The broker and Postgres run beside the consumer on the same machine, so a run records the CPU
seconds of each (found by their listening ports) to show where the time goes.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import psutil  # type: ignore[import-untyped]

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def peak_rss_mb(pid: int) -> float:
    """The process's peak resident set size (VmHWM), in MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmHWM for pid {pid}")


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a live process."""
    times = psutil.Process(pid).cpu_times()
    return float(times.user + times.system)


def machine_busy_seconds() -> tuple[float, float]:
    """(busy CPU seconds, total CPU seconds) of the whole machine since boot."""
    fields = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
    values = [int(v) for v in fields[:8]]
    idle = values[3] + values[4]  # idle + iowait
    total = sum(values)
    return (total - idle) / CLOCK_TICKS, total / CLOCK_TICKS


def listening_pid(port: int) -> int | None:
    """The pid of the process listening on a local TCP port (None when not visible)."""
    try:
        connections = psutil.net_connections(kind="tcp")
    except psutil.AccessDenied:
        return None
    for c in connections:
        if c.status == psutil.CONN_LISTEN and c.laddr and c.laddr.port == port and c.pid:
            return int(c.pid)
    return None


def tree_cpu_seconds(pid: int) -> float:
    """CPU seconds of a process, its live descendants and its reaped children (a postmaster's
    backends that exited are counted in its children times)."""
    try:
        root = psutil.Process(pid)
        own = root.cpu_times()
        total = own.user + own.system + own.children_user + own.children_system
        for child in root.children(recursive=True):
            try:
                t = child.cpu_times()
                total += t.user + t.system
            except psutil.NoSuchProcess:
                continue
    except psutil.NoSuchProcess:
        return 0.0
    return float(total)


@dataclass
class StackPids:
    kafka: int | None
    postgres: int | None

    @classmethod
    def find(cls, bootstrap: str, database_url: str) -> StackPids:
        kafka_port = int(bootstrap.split(",", maxsplit=1)[0].rsplit(":", 1)[1])
        pg_port = urlsplit(database_url).port or 5432
        return cls(listening_pid(kafka_port), listening_pid(pg_port))


@dataclass
class CpuSnapshot:
    at: float
    machine_busy: float
    machine_total: float
    kafka: float
    postgres: float

    @classmethod
    def take(cls, pids: StackPids) -> CpuSnapshot:
        busy, total = machine_busy_seconds()
        return cls(
            at=time.perf_counter(),
            machine_busy=busy,
            machine_total=total,
            kafka=tree_cpu_seconds(pids.kafka) if pids.kafka else 0.0,
            postgres=tree_cpu_seconds(pids.postgres) if pids.postgres else 0.0,
        )


@dataclass
class CpuUse:
    """CPU used during an interval, in seconds, and as cores busy on average."""

    wall: float
    machine_busy: float
    machine_cores: float
    kafka: float
    postgres: float

    @classmethod
    def between(cls, start: CpuSnapshot, end: CpuSnapshot) -> CpuUse:
        wall = end.at - start.at
        return cls(
            wall=wall,
            machine_busy=end.machine_busy - start.machine_busy,
            machine_cores=(end.machine_total - start.machine_total) / wall if wall else 0.0,
            kafka=end.kafka - start.kafka,
            postgres=end.postgres - start.postgres,
        )


def _pg_kind(title: str, database: str) -> str:
    if "autovacuum" in title:
        return "autovacuum"
    if any(w in title for w in ("checkpointer", "walwriter", "background writer", "io worker")):
        return "WAL, checkpoints, I/O workers"
    if f" {database} " in title:
        return "backends of the run's database"
    return "other backends (other databases)"


class PostgresSampler:
    """CPU seconds of the Postgres server's processes during a run, by kind (backends of the
    run's database, autovacuum, WAL/checkpoints, other databases), sampled every 0.25 s so
    processes that exit in between (autovacuum workers) are still counted."""

    def __init__(self, postmaster: int | None, database: str) -> None:
        self.postmaster, self.database = postmaster, database
        self._first: dict[tuple[int, float], float] = {}
        self._last: dict[tuple[int, float], tuple[str, float]] = {}
        self._started = False

    def sample(self) -> None:
        if self.postmaster is None:
            return
        try:
            children = psutil.Process(self.postmaster).children()
        except psutil.NoSuchProcess:
            return
        for child in children:
            try:
                with child.oneshot():
                    ident = (child.pid, child.create_time())
                    t = child.cpu_times()
                    title = " ".join(child.cmdline()) + " "
            except (psutil.NoSuchProcess, psutil.AccessDenied):
                continue
            cpu = float(t.user + t.system)
            # processes alive at the first sample count from there, later ones from birth
            self._first.setdefault(ident, 0.0 if self._started else cpu)
            self._last[ident] = (_pg_kind(title, self.database), cpu)
        self._started = True

    def by_kind(self) -> dict[str, float]:
        out: dict[str, float] = {}
        for ident, (kind, cpu) in self._last.items():
            out[kind] = out.get(kind, 0.0) + cpu - self._first.get(ident, 0.0)
        return {k: round(v, 2) for k, v in sorted(out.items(), key=lambda kv: -kv[1])}
