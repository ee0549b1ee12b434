"""CPU per event by component of the path: the consumer process, Postgres (its backends of the
run's database and its other processes), the broker's JVM, and the outcome relay's share of the
consumer.

The process figures are CPU seconds (utime + stime from /proc, see ``measure.py``) taken during
one service run; the relay's share comes from a py-spy profile of that run's consumer (the
relay is an asyncio task inside the consumer process, so no process-level counter separates
it): the fraction of the consumer's samples whose stack passes through the relay's module,
applied to the consumer's CPU. py-spy samples only running threads, so samples follow CPU.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from tests.bench.profile_summary import parse_collapsed

# A sample is the relay's when any of its frames is in this module (aiokafka's send and the
# encoder called by it included); the outbox rows written in the batch transaction are the
# other module's.
RELAY_MODULE = "ingest/consumer/outcome_relay.py"
OUTBOX_MODULE = "ingest/consumer/outbox.py"
BACKENDS = "backends of the run's database"


@dataclass(frozen=True)
class ProfileShares:
    samples: int
    relay: float  # fraction of samples in the relay task
    outbox: float  # fraction of samples writing the batch's outbox rows


def profile_shares(stacks: Iterable[tuple[list[str], int]]) -> ProfileShares:
    """Shares of the relay and of the batch's outbox rows among collapsed py-spy stacks."""
    total = relay = outbox = 0
    for frames, count in stacks:
        total += count
        if any(RELAY_MODULE in f for f in frames):
            relay += count
        elif any(OUTBOX_MODULE in f for f in frames):
            outbox += count
    if not total:
        return ProfileShares(0, 0.0, 0.0)
    return ProfileShares(total, relay / total, outbox / total)


@dataclass(frozen=True)
class PerEvent:
    """Microseconds of CPU per event, by component."""

    consumer: float
    postgres: float
    postgres_backends: float
    broker: float
    relay: float | None  # None without a profile
    outbox_rows: float | None

    @property
    def total(self) -> float:
        return self.consumer + self.postgres + self.broker

    def as_dict(self) -> dict[str, float | None]:
        return {
            "consumer": self.consumer,
            "postgres": self.postgres,
            "postgres_backends": self.postgres_backends,
            "broker": self.broker,
            "total": self.total,
            "relay": self.relay,
            "outbox_rows": self.outbox_rows,
        }


def per_event(
    events: int,
    consumer_cpu: Iterable[float],
    postgres_cpu: float,
    postgres_by_kind: Mapping[str, float],
    broker_cpu: float,
    shares: ProfileShares | None = None,
) -> PerEvent:
    """CPU seconds of a run turned into microseconds per event. With several consumer
    processes their CPU is summed; the profile (one process only) gives the relay's share."""
    if events <= 0:
        raise ValueError("a run of no events has no cost per event")
    scale = 1e6 / events
    consumer = sum(consumer_cpu) * scale
    profiled = shares is not None and shares.samples > 0
    return PerEvent(
        consumer=consumer,
        postgres=postgres_cpu * scale,
        postgres_backends=postgres_by_kind.get(BACKENDS, 0.0) * scale,
        broker=broker_cpu * scale,
        relay=consumer * shares.relay if profiled and shares else None,
        outbox_rows=consumer * shares.outbox if profiled and shares else None,
    )


def describe(cost: PerEvent) -> str:
    """One line for the console."""
    line = (
        f"CPU per event: {cost.total:.1f} us = consumer {cost.consumer:.1f}"
        f" + Postgres {cost.postgres:.1f} (backends {cost.postgres_backends:.1f})"
        f" + broker {cost.broker:.1f}"
    )
    if cost.relay is not None and cost.outbox_rows is not None:
        line += (
            f"; of the consumer: outcome relay {cost.relay:.1f}"
            f" ({cost.relay / cost.consumer:.1%}), outbox rows {cost.outbox_rows:.1f}"
            if cost.consumer
            else ""
        )
    else:
        line += "; outcome relay: - (needs --py-spy)"
    return line


def from_report(path: Path) -> list[tuple[str, PerEvent]]:
    """CPU per event of each service run of a benchmark's JSON report (older reports too:
    the figures are recomputed from the run's CPU seconds and its profile, if any)."""
    report = json.loads(path.read_text())
    out = []
    for run in report["ours"]:
        profile = Path(run["profile"]) if run.get("profile") else None
        shares = profile_shares(parse_collapsed(profile)) if profile and profile.exists() else None
        cost = per_event(
            run["events"],
            run["cpu_seconds"],
            run["postgres_cpu_seconds"],
            run.get("postgres_cpu_by_kind", {}),
            run["kafka_cpu_seconds"],
            shares,
        )
        out.append((f"{run['label']} ({report['config'].get('writers', 'mixed')})", cost))
    return out


if __name__ == "__main__":
    import sys

    for arg in sys.argv[1:]:
        for label, cost in from_report(Path(arg)):
            print(f"{label}: {describe(cost)}")
