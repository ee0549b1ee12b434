"""Nothing lost, nothing twice: mixed traffic under SIGKILLs, a broker restart and a Postgres
outage, checked record by record against the oracle.

One run (seeded; ``FAULTS_SEED`` replays another), on the suite's private broker and
database, while a feeder produces the traffic in waves:

1. SIGKILL at random moments, one of them before the process even joined the group;
2. SIGKILL while the process holds a batch transaction open (its offset-row lock granted,
   commit not done), three times with one consumer, once with two in the group;
3. SIGKILL mid-rebalance, twice: a new member joins, and an old one dies while the group is
   PreparingRebalance/CompletingRebalance;
4. the broker is stopped and started again (records produced meanwhile wait in the feeder);
5. Postgres is stopped for 20 s, at a moment a consumer's batch transaction is open and
   waiting (for the DLQ acknowledgements), while records keep arriving: every consumer's
   ``/readyz`` answers 503 meanwhile and 200 again after; nothing is rejected because of it;
6. another random SIGKILL; then every consumer gets SIGTERM and exits 0.

Each SIGKILLed process is restarted at once. At the end the broker's topics are read back and
the oracle applied to them: ``daily_requests``, ``daily_request_revisions``,
``rejected_events`` and the stored offsets must equal it exactly, and every rejection must be
on the DLQ (at least once, with its key, value and reason) and nothing else.
"""

from __future__ import annotations

import asyncio
import os
import random
import time
from collections import Counter
from collections.abc import Sequence

import asyncpg
import pytest

from ingest.consumer.database import DB_PROBE_SECONDS
from ingest.settings import Settings
from tests.faults.driver import (
    ConsumerProcess,
    Fleet,
    kill_summary,
    produce,
    wait_ready,
    watch_readiness,
)
from tests.faults.scenario import Scenario
from tests.faults.traffic import Outgoing, disagreements
from tests.support.service import wait_consumed

pytestmark = [pytest.mark.faults, pytest.mark.integration]

SEED = int(os.environ.get("FAULTS_SEED", "7310"))
OUTAGE_SECONDS = 20.0


class Feeder:
    """Produces the traffic in waves, in generation order: on a timer in the background,
    or at once when a phase asks for the next wave."""

    def __init__(self, settings: Settings, records: Sequence[Outgoing], waves: int) -> None:
        size = -(-len(records) // waves)
        self._waves = [records[i : i + size] for i in range(0, len(records), size)]
        self._settings = settings
        self._lock = asyncio.Lock()
        self.produced = 0
        self.failed_attempts = 0

    @property
    def remaining(self) -> int:
        return len(self._waves)

    async def next_wave(self) -> None:
        async with self._lock:
            if not self._waves:
                return
            wave = self._waves.pop(0)
            self.failed_attempts += await produce(self._settings, wave)
            self.produced += len(wave)

    async def run(self, gap: float, reserve: int) -> None:
        """A wave every ``gap`` seconds, leaving ``reserve`` waves for the phases that need
        traffic of their own (on a slow machine the timer would otherwise use them all up
        before those phases start, and a phase waiting for a batch transaction finds none)."""
        while len(self._waves) > reserve:
            await self.next_wave()
            await asyncio.sleep(gap)

    async def drain(self) -> None:
        while self._waves:
            await self.next_wave()


class Run:
    """One chaos run: the fleet, the feeder, the timeline and the phases of faults."""

    def __init__(self, scenario: Scenario, fleet: Fleet, feeder: Feeder) -> None:
        self.scenario, self.fleet, self.feeder = scenario, fleet, feeder
        self.settings, self.stack = scenario.settings, scenario.stack
        self.rng = random.Random(SEED)
        self.began = time.monotonic()
        self.timeline: list[str] = []
        self.readiness: dict[str, Counter[int | None]] = {}

    @property
    def pg(self) -> asyncpg.Connection:
        return self.scenario.pg

    def note(self, event: str) -> None:
        self.timeline.append(f"{time.monotonic() - self.began:6.1f}s {event}")

    async def random_kills(self) -> None:
        """SIGKILL at random moments, one consumer; the first before it joined the group."""
        early = await self.fleet.spawn(wait_joined=False)
        await asyncio.sleep(self.rng.uniform(0.3, 1.0))
        await self.fleet.sigkill(early, "at_start")
        self.note(f"SIGKILL {early.name} during start-up")
        for _ in range(3):
            proc = await self.fleet.spawn()
            kill = await self.fleet.kill_at_random(proc, 0.5, 3.0, self.rng)
            self.note(f"SIGKILL {proc.name} at a random moment ({kill.after_seconds:.1f}s in)")

    async def transaction_kills(self) -> tuple[ConsumerProcess, ConsumerProcess]:
        """SIGKILL inside a batch transaction: three with one consumer (one of them while
        the transaction waits, e.g. for DLQ acknowledgements), one with two in the group."""
        for waiting in (False, True, False):
            proc = await self.fleet.spawn()
            await self.feeder.next_wave()
            kill = await self.fleet.kill_in_transaction(proc, self.pg, waiting=waiting)
            self.note(f"SIGKILL {proc.name} inside a batch transaction ({kill.moment})")
        first = await self.fleet.spawn()
        second = await self.fleet.spawn()
        await self.feeder.next_wave()
        kill = await self.fleet.kill_in_transaction(second, self.pg, waiting=True)
        self.note(
            f"SIGKILL {second.name} inside a batch transaction ({kill.moment}), {first.name} on"
        )
        return first, await self.fleet.spawn()

    async def rebalance_kills(self, victims: Sequence[ConsumerProcess]) -> None:
        """A member joins; an old one dies while the group rebalances for it."""
        for victim in victims:
            kill, joiner = await self.fleet.kill_mid_rebalance(victim)
            self.note(
                f"SIGKILL {victim.name} mid-rebalance (group {kill.group_state}),"
                f" {joiner.name} joining"
            )

    async def broker_restart(self) -> None:
        """The broker stops and starts again while a wave is being produced."""
        await self.stack.stop_kafka()
        self.note("broker stopped")
        during = asyncio.create_task(self.feeder.next_wave())
        await asyncio.sleep(3.0)
        await self.stack.start_kafka()
        self.note("broker started")
        await during
        settled = await self.fleet.settle()
        self.note(f"group stable again {settled:.1f}s later")

    async def postgres_outage(self) -> None:
        """Postgres down for OUTAGE_SECONDS while records arrive: /readyz 503, then 200."""
        live = list(self.fleet.live)
        wave = asyncio.create_task(self.feeder.next_wave())
        # the server goes while a batch transaction waits (DLQ acknowledgements, commit)
        holder = await self.fleet.in_transaction(self.pg, live, waiting=True)
        await self.stack.stop_postgres()
        self.note(f"Postgres stopped while {holder.name} was inside a batch transaction")
        await wave
        self.readiness = await watch_readiness(live, OUTAGE_SECONDS)
        await self.stack.start_postgres()
        self.note("Postgres started")
        recovered = await wait_ready(live, 60)
        self.note(f"every consumer ready again {recovered:.1f}s later")
        await self.scenario.reconnect()

    async def last_kill_and_stop(self, topics: Sequence[str]) -> dict[str, int]:
        victim = self.fleet.live[0]
        await self.fleet.kill_at_random(victim, 0.1, 1.5, self.rng)
        self.note(f"SIGKILL {victim.name} at a random moment")
        await self.fleet.spawn()
        await self.feeder.drain()
        self.note(f"all {self.feeder.produced} records produced")
        took = await wait_consumed(
            self.pg, self.settings, topics, timeout=120, alive=self.fleet.assert_alive
        )
        self.note(f"consumed {took:.1f}s after the last record was produced")
        codes = await self.fleet.stop_all()
        self.note(f"SIGTERM: exit codes {codes}")
        return codes


async def test_sigkills_broker_restart_and_postgres_outage_lose_and_repeat_nothing(
    scenario: Scenario,
) -> None:
    settings = scenario.settings
    traffic = await scenario.prepare(SEED, partitions=6)
    records = traffic.mixed(practice_days=6000, bad_events=3000)
    assert disagreements(records, scenario.classify) == []
    fleet = scenario.fleet(INGEST_BATCH_MAX_RECORDS="1500")
    run = Run(scenario, fleet, Feeder(settings, records, waves=40))
    background: asyncio.Task[None] | None = None
    try:
        await run.feeder.next_wave()
        # the phases after the timer's start take up to 6 waves of their own (4 + 1 + 1)
        background = asyncio.create_task(run.feeder.run(gap=1.5, reserve=8))
        await run.random_kills()
        first, second = await run.transaction_kills()
        await run.rebalance_kills([first, second])
        await run.broker_restart()
        await run.postgres_outage()
        codes = await run.last_kill_and_stop(traffic.topics)

        broker = await scenario.history(records)
        verdict = await scenario.verify(broker)
        scenario.report(
            f"chaos (seed {SEED})",
            verdict,
            {
                "faults": f"{kill_summary(fleet.kills)}, 1 broker restart,"
                f" 1 Postgres outage of {OUTAGE_SECONDS:.0f} s",
                "/readyz during the outage": {n: dict(c) for n, c in run.readiness.items()},
                "consumer processes started": len(fleet.all),
                "produce attempts that failed (broker down)": run.feeder.failed_attempts,
                "records produced": f"{run.feeder.produced} (broker holds {len(broker)})",
                "timeline": "\n  " + "\n  ".join(run.timeline),
            },
        )
        verdict.assert_clean()
        assert set(codes.values()) == {0}, codes
        for name, statuses in run.readiness.items():
            assert statuses[503] > 0, f"{name} never said not ready during the outage: {statuses}"
            # an idle consumer notices within its probe interval (DB_PROBE_SECONDS)
            polls = (DB_PROBE_SECONDS + 1) / 0.25
            assert statuses[200] <= polls, f"{name} said ready during the outage: {statuses}"
        assert len(fleet.kills) >= 10
        assert sum(k.in_transaction for k in fleet.kills) >= 4
        assert sum(k.moment == "mid_rebalance" for k in fleet.kills) >= 2
    finally:
        if background is not None and not background.done():
            background.cancel()
