"""One fault test's setting, as the ``scenario`` fixture gives it: the test's traffic with its
suppliers registered (one of them inactive) and its topics created, a connection to the test's
database, fleets of consumer processes (closed at the end), and the end state checked against
the oracle, with the run's report printed."""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import asyncpg
import pytest

from ingest.settings import Settings
from tests.faults.conftest import ARTIFACTS, PrivateStack
from tests.faults.driver import (
    Comparison,
    DeadLetters,
    Fleet,
    check_database,
    check_dead_letters,
    consumer_env,
    create_topics,
    expected_from,
    history,
    register,
    summary,
)
from tests.faults.traffic import Classifier, Outgoing, Traffic
from tests.support.oracle import Expected, Record


@dataclass(frozen=True)
class Verdict:
    """The database and the DLQ against the oracle's expected state."""

    expected: Expected
    db: Comparison
    dlq: DeadLetters

    def assert_clean(self) -> None:
        assert not self.db.problems, "\n".join(self.db.problems)
        assert not self.dlq.problems, "\n".join(self.dlq.problems)


class Scenario:
    def __init__(
        self,
        settings: Settings,
        token: str,
        stack: PrivateStack,
        capsys: pytest.CaptureFixture[str],
    ) -> None:
        self.settings = settings
        self.token = token
        self.stack = stack
        self.began = time.monotonic()
        self._capsys = capsys
        self._pg: asyncpg.Connection | None = None
        self._traffic: Traffic | None = None
        self._fleets: list[Fleet] = []

    # --- lifecycle (the fixture's) ----------------------------------------------------
    async def open(self) -> None:
        self._pg = await asyncpg.connect(self.settings.database())

    async def close(self) -> None:
        for fleet in self._fleets:
            await fleet.close()
        if self._pg is not None:
            self._pg.terminate()  # it may have died with a server the test stopped

    # --- the setting ------------------------------------------------------------------
    @property
    def pg(self) -> asyncpg.Connection:
        """A connection to the test's database."""
        assert self._pg is not None, "the scenario is not open"
        return self._pg

    async def reconnect(self) -> asyncpg.Connection:
        """A new connection (the old one may have died with a server restart)."""
        self.pg.terminate()
        self._pg = await asyncpg.connect(self.settings.database())
        return self._pg

    @property
    def traffic(self) -> Traffic:
        assert self._traffic is not None, "call prepare() first"
        return self._traffic

    @property
    def classify(self) -> Classifier:
        return Classifier(self.traffic.registered, self.traffic.today)

    async def prepare(
        self, seed: int, partitions: int, only_first_feed_topic: bool = False
    ) -> Traffic:
        """The test's traffic generator; its suppliers registered (one inactive) and its
        topics created: feed topics with ``partitions``, the others with 2 (or only the first
        feed topic)."""
        traffic = self._traffic = Traffic(self.token, seed=seed, partitions=partitions)
        await register(self.pg, traffic.suppliers, [traffic.inactive])
        topics = {t: partitions if t in traffic.feed_topics else 2 for t in traffic.topics}
        if only_first_feed_topic:
            topics = {traffic.feed_topics[0]: partitions}
        await create_topics(self.settings, topics)
        return traffic

    def fleet(self, **env: str) -> Fleet:
        """Consumer processes of this test (``INGEST_*`` overrides in ``env``), logging under
        test-artifacts/faults/<token>*; closed when the test ends."""
        fleet = Fleet(
            self.settings,
            consumer_env(self.settings, **env),
            ARTIFACTS / self.token,
            self.stack.postgres_port,
        )
        self._fleets.append(fleet)
        return fleet

    # --- the end state ----------------------------------------------------------------
    async def history(
        self, records: Sequence[Outgoing], topics: Sequence[str] | None = None
    ) -> list[Record]:
        """What the broker holds, in offset order, classified (see driver.history)."""
        return await history(self.settings, topics or self.traffic.topics, records, self.classify)

    async def verify(self, broker: Sequence[Record]) -> Verdict:
        """The database and the DLQ against the oracle's state after ``broker``."""
        expected = expected_from(broker, self.traffic.registered)
        db = await check_database(self.pg, self.settings, expected)
        dlq = await check_dead_letters(self.settings, expected)
        return Verdict(expected, db, dlq)

    def report(self, title: str, verdict: Verdict, details: Mapping[str, object]) -> None:
        """The run's summary on the terminal (also when output is captured)."""
        took = {"test took": f"{time.monotonic() - self.began:.1f} s"}
        text = summary(title, verdict.expected, verdict.db, verdict.dlq, {**details, **took})
        with self._capsys.disabled():
            print("\n" + text)
