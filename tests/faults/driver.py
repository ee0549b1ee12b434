"""Driving the fault suite: topics, producing, consumer processes, faults, and the final check.

* :class:`ConsumerProcess` — one ``python -m ingest.ops.process`` subprocess with its
  own HTTP port (``/readyz``) and log file.
* :class:`Fleet` — the consumer processes of one group: spawn, SIGKILL at a chosen moment
  (any time, inside a batch transaction, during a rebalance), SIGTERM. A SIGKILLed member
  would hold its partitions until its 30 s session expires; the fleet removes it from the
  group at once with a LeaveGroup request on its behalf (what the coordinator does after the
  session timeout, only sooner), so ten kills fit in a CI run.
* :func:`history` — what the broker really holds (a producer retry during the broker restart
  may have written a record twice: the oracle must see that too), each record with its
  verdict; :func:`expected_from` runs the oracle on it.
* :func:`check_database` / :func:`check_dead_letters` — the database and the DLQ against the
  oracle; return readable differences (empty = equal).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import asyncpg
import psutil
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.errors import KafkaError
from aiokafka.protocol.group import LeaveGroupRequest

from ingest.consumer.dead_letters import headers_dict
from ingest.contract.model import COUNT_FIELDS
from ingest.kafka import client_options, make_producer
from ingest.ops.suppliers import remove_supplier
from ingest.settings import Settings
from tests.faults.traffic import Classifier, Outgoing, verdict_of
from tests.support.kafka import create_kafka_topics
from tests.support.oracle import (
    Expected,
    Key,
    Position,
    Record,
    Rejected,
    Stored,
    Valid,
    expected_state,
)
from tests.support.suppliers import register as register_supplier

REPO_ROOT = Path(__file__).resolve().parents[2]
_MEMBER_ID_RE = re.compile(r"Joined group '[^']*' \(generation \d+\) with member_id (\S+)")
MAX_MESSAGE_BYTES = 8 * 1024 * 1024  # topic max.message.bytes: room for 1 MB values


# --- topics and suppliers --------------------------------------------------------------


async def create_topics(settings: Settings, partitions: Mapping[str, int]) -> None:
    """Create topics (replication 1, large max.message.bytes); wait for their leaders."""
    admin = AIOKafkaAdminClient(**client_options(settings))
    await admin.start()
    try:
        config = {"max.message.bytes": str(MAX_MESSAGE_BYTES)}
        await create_kafka_topics(admin, partitions, config)
    finally:
        await admin.close()


async def register(
    pg: asyncpg.Connection, active: Iterable[str], inactive: Iterable[str] = ()
) -> None:
    """Register suppliers; the ``inactive`` ones are then deactivated (ingest suppliers remove)."""
    for supplier in [*active, *inactive]:
        await register_supplier(pg, supplier)
    for supplier in inactive:
        await remove_supplier(pg, supplier)


# --- producing ---------------------------------------------------------------------------


async def produce(settings: Settings, records: Sequence[Outgoing], chunk: int = 500) -> int:
    """Produce in order (each record to its partition), riding out a broker restart: a chunk
    that fails is sent again by a new producer (the broker may then hold some records twice,
    which :func:`history` shows the oracle). Returns the number of attempts that failed."""
    failures = 0
    i = 0
    producer = None
    try:
        while i < len(records):
            try:
                if producer is None:
                    producer = make_producer(
                        settings, max_request_size=MAX_MESSAGE_BYTES, request_timeout_ms=15000
                    )
                    await producer.start()
                futures = [
                    await producer.send(r.topic, value=r.value, key=r.key, partition=r.partition)
                    for r in records[i : i + chunk]
                ]
                await asyncio.gather(*futures)
                i += chunk
            except (KafkaError, OSError):
                failures += 1
                if producer is not None:
                    with contextlib.suppress(Exception):
                        await producer.stop()
                producer = None
                await asyncio.sleep(1.0)
    finally:
        if producer is not None:
            await producer.stop()
    return failures


# --- reading back ------------------------------------------------------------------------


async def read_all(settings: Settings, topics: Sequence[str]) -> dict[tuple[str, int], list[Any]]:
    """Every record of the topics, per partition in offset order (up to the end offsets)."""
    consumer = AIOKafkaConsumer(
        **client_options(settings),
        enable_auto_commit=False,
        max_partition_fetch_bytes=2 * MAX_MESSAGE_BYTES,
        fetch_max_bytes=4 * MAX_MESSAGE_BYTES,
    )
    await consumer.start()
    try:
        parts = []
        for topic in topics:
            for _ in range(50):
                found = consumer.partitions_for_topic(topic)
                if found:
                    break
                await consumer._client.force_metadata_update()
            else:
                raise AssertionError(f"topic {topic} has no partitions")
            parts.extend(TopicPartition(topic, p) for p in sorted(found))
        consumer.assign(parts)
        await consumer.seek_to_beginning(*parts)
        ends = await consumer.end_offsets(parts)
        out: dict[tuple[str, int], list[Any]] = {(tp.topic, tp.partition): [] for tp in parts}
        deadline = time.monotonic() + 120
        while any(len(out[(tp.topic, tp.partition)]) < ends[tp] for tp in parts):
            if time.monotonic() > deadline:
                raise AssertionError("reading the topics back took over 120 s")
            batch = await consumer.getmany(timeout_ms=500, max_records=10000)
            for tp, messages in batch.items():
                out[(tp.topic, tp.partition)].extend(m for m in messages if m.offset < ends[tp])
        return out
    finally:
        await consumer.stop()


async def history(
    settings: Settings, topics: Sequence[str], sent: Sequence[Outgoing], classify: Classifier
) -> list[Record]:
    """What the broker holds, each record with its verdict (by the value it carries)."""
    verdicts: dict[tuple[str, bytes | None], Outgoing] = {(r.topic, r.value): r for r in sent}
    records = []
    for (topic, partition), messages in (await read_all(settings, topics)).items():
        for m in messages:
            origin = verdicts.get((topic, m.value))
            if origin is None:
                raise AssertionError(f"{topic}/{partition}@{m.offset} was never sent by the test")
            verdict = verdict_of(origin, classify)
            records.append(Record(topic, partition, m.offset, m.key, m.value, verdict))
    records.sort(key=lambda r: r.position)
    return records


def expected_from(records: Sequence[Record], registered: Sequence[str]) -> Expected:
    return expected_state(records, registered)


# --- consumer processes ------------------------------------------------------------------


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def consumer_env(settings: Settings, **extra: str) -> dict[str, str]:
    """The environment of a consumer subprocess: nothing inherited from INGEST_*."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("INGEST_")}
    env.update(
        INGEST_KAFKA_BOOTSTRAP=settings.kafka(),
        INGEST_DATABASE_URL=settings.database(),
        INGEST_STATE_DIR=str(settings.state_dir),
        INGEST_TOPIC_PATTERN=settings.topic_pattern,
        INGEST_DLQ_TOPIC=settings.dlq_topic,
        INGEST_CONSUMER_GROUP=settings.consumer_group,
        INGEST_METRICS_HOST="127.0.0.1",
        INGEST_METADATA_MAX_AGE_MS=str(settings.metadata_max_age_ms),
        INGEST_BATCH_TIMEOUT_MS=str(settings.batch_timeout_ms),
        INGEST_OVERLAP_BATCHES=str(settings.overlap_batches).lower(),
        INGEST_DB_RETRY_MAX_SECONDS=str(settings.db_retry_max_seconds),
        INGEST_FRESHNESS_REFRESH_SECONDS="5",
        INGEST_LOG_LEVEL="INFO",
        PYTHONUNBUFFERED="1",
    )
    env.update(extra)
    return env


SERVICE_MODULE = (sys.executable, "-m", "ingest.ops.process")
INGEST_RUN = (str(Path(sys.executable).parent / "ingest"), "run")  # the CLI's entry point


class ConsumerProcess:
    """``python -m ingest.ops.process`` (or ``argv``, e.g. INGEST_RUN) with its own
    /readyz port and log file."""

    def __init__(
        self,
        name: str,
        env: Mapping[str, str],
        log_dir: Path,
        argv: Sequence[str] = SERVICE_MODULE,
    ) -> None:
        self.name = name
        self.argv = list(argv)
        self.port = free_port()
        self.env = {**env, "INGEST_METRICS_PORT": str(self.port)}
        self.log_path = log_dir / f"{name}.log"
        self.proc: subprocess.Popen[bytes] | None = None
        self.started_at = 0.0

    def start(self) -> ConsumerProcess:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("ab") as log:
            self.proc = subprocess.Popen(
                self.argv,
                env=self.env,
                cwd=REPO_ROOT,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        self.started_at = time.monotonic()
        return self

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    @property
    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def kill(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(30)

    def pause(self) -> None:
        """SIGSTOP: the process freezes (a long GC pause, a frozen VM), sockets stay open."""
        assert self.proc is not None
        self.proc.send_signal(signal.SIGSTOP)

    def resume(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGCONT)

    async def terminate(self, timeout: float = 60) -> int:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGTERM)
        return await asyncio.to_thread(self.proc.wait, timeout)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def member_ids(self) -> list[str]:
        """The member ids this process got from the coordinator, as aiokafka logged them."""
        return _MEMBER_ID_RE.findall(self.log())

    @property
    def member_id(self) -> str | None:
        ids = self.member_ids()
        return ids[-1] if ids else None

    async def readyz(self) -> int | None:
        """HTTP status of /readyz (None: not answering)."""
        return await http_status(f"http://127.0.0.1:{self.port}/readyz")

    def postgres_client_ports(self, postgres_port: int) -> set[int]:
        """Local ports of this process's connections to Postgres."""
        try:
            connections = psutil.Process(self.pid).net_connections(kind="tcp")
        except psutil.Error:
            return set()
        return {c.laddr.port for c in connections if c.raddr and c.raddr.port == postgres_port}


async def http_status(url: str) -> int | None:
    try:
        timeout = aiohttp.ClientTimeout(total=2)
        async with aiohttp.ClientSession(timeout=timeout) as session, session.get(url) as response:
            return response.status
    except (aiohttp.ClientError, OSError, TimeoutError):
        return None


async def watch_readiness(
    procs: Sequence[ConsumerProcess], seconds: float
) -> dict[str, Counter[int | None]]:
    """/readyz of each process, every 0.25 s for ``seconds``."""
    seen: dict[str, Counter[int | None]] = {p.name: Counter() for p in procs}
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        for p in procs:
            seen[p.name][await p.readyz()] += 1
        await asyncio.sleep(0.25)
    return seen


async def wait_ready(procs: Sequence[ConsumerProcess], timeout: float) -> float:
    began = time.monotonic()
    while True:
        statuses = [await p.readyz() for p in procs]
        if all(s == 200 for s in statuses):
            return time.monotonic() - began
        if time.monotonic() - began > timeout:
            names = {p.name: s for p, s in zip(procs, statuses, strict=True)}
            raise AssertionError(f"not ready within {timeout} s: {names}")
        await asyncio.sleep(0.25)


@dataclass
class Kill:
    """One SIGKILL: which process, in which situation, and what was observed."""

    name: str
    moment: str  # random, in_transaction, mid_rebalance, at_start
    in_transaction: bool
    group_state: str | None
    after_seconds: float


IN_FLIGHT_SQL = """
SELECT a.client_port, a.state, a.xact_start
FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
WHERE l.locktype = 'relation' AND l.relation = 'triage.consumer_offsets'::regclass
  AND l.mode = 'RowExclusiveLock' AND l.granted AND a.pid <> pg_backend_pid()
"""


class Fleet:
    """The consumer processes of one group, and the faults done to them."""

    def __init__(
        self, settings: Settings, env: Mapping[str, str], log_dir: Path, postgres_port: int
    ) -> None:
        self.settings = settings
        self.env = dict(env)
        self.log_dir = log_dir
        self.postgres_port = postgres_port
        self.live: list[ConsumerProcess] = []
        self.all: list[ConsumerProcess] = []
        self.kills: list[Kill] = []
        self._admin: AIOKafkaAdminClient | None = None
        self._serial = 0

    # --- group membership ------------------------------------------------------------
    async def _admin_client(self) -> AIOKafkaAdminClient:
        if self._admin is None:
            admin = AIOKafkaAdminClient(**client_options(self.settings), request_timeout_ms=5000)
            await admin.start()
            self._admin = admin
        return self._admin

    async def _reset_admin(self) -> None:
        if self._admin is not None:
            with contextlib.suppress(Exception):
                await self._admin.close()
        self._admin = None

    async def group(self) -> tuple[str, list[str]]:
        """(state, member ids) of the group; ("unknown", []) while the broker does not answer."""
        try:
            admin = await self._admin_client()
            response = (await admin.describe_consumer_groups([self.settings.consumer_group]))[0]
            described = response.groups[0]
            return str(described[2]), [str(m[0]) for m in described[5]]
        except (KafkaError, OSError, TimeoutError, IndexError):
            await self._reset_admin()
            return "unknown", []

    async def _leave(self, member_id: str) -> None:
        """LeaveGroup on behalf of a dead member (the coordinator would drop it after the
        session timeout anyway)."""
        for _ in range(5):
            try:
                admin = await self._admin_client()
                node = await admin.find_coordinator(self.settings.consumer_group)
                await admin._client.send(
                    node, LeaveGroupRequest(self.settings.consumer_group, member_id)
                )
                return
            except (KafkaError, OSError, TimeoutError):
                await self._reset_admin()
                await asyncio.sleep(0.5)

    async def _attribute(self, proc: ConsumerProcess, timeout: float = 60) -> None:
        """Wait until ``proc`` has joined the group (aiokafka logs its member id)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and proc.alive:
            if proc.member_id is not None:
                return
            await asyncio.sleep(0.05)
        if proc.alive:
            raise AssertionError(
                f"{proc.name} did not join the group within {timeout} s:\n{proc.log()[-3000:]}"
            )

    def _dead_ids(self) -> set[str]:
        return {m for p in self.all if not p.alive for m in p.member_ids()}

    async def remove_dead(self, unknown_too: bool = False) -> int:
        """Members that were killed leave the group now. ``unknown_too``: also members no
        process logged (one killed between its join and its log line) — only safe while no
        live process is joining."""
        live = {p.member_id for p in self.live}
        dead = self._dead_ids()
        _, members = await self.group()
        gone = [m for m in members if m in dead or (unknown_too and m not in live)]
        for member in gone:
            await self._leave(member)
        return len(gone)

    async def evict(self, proc: ConsumerProcess) -> None:
        """Remove a live (e.g. frozen) process from the group, as its session expiry would."""
        member = proc.member_id
        assert member is not None, f"{proc.name} never joined"
        await self._leave(member)

    async def settle(self, timeout: float = 60) -> float:
        """Wait until the group is Stable with exactly the live processes as members. After a
        broker restart the coordinator reloads the group as last persisted, which may list
        members killed since: they are removed again."""
        began = time.monotonic()
        while True:
            state, members = await self.group()
            if state != "unknown":
                await self.remove_dead(unknown_too=True)
                live = {p.member_id for p in self.live}
                if state == "Stable" and set(members) == live:
                    return time.monotonic() - began
            if time.monotonic() - began > timeout:
                raise AssertionError(f"group {state} with {members} after {timeout} s")
            await asyncio.sleep(0.25)

    # --- processes -------------------------------------------------------------------
    def _new(self, argv: Sequence[str] = SERVICE_MODULE, **env: str) -> ConsumerProcess:
        self._serial += 1
        name = f"consumer-{self._serial:02d}"
        proc = ConsumerProcess(name, {**self.env, **env}, self.log_dir, argv)
        self.all.append(proc)
        return proc

    def assert_alive(self) -> None:
        """AssertionError when no consumer runs or one of them died (with its log's end)."""
        if not self.live:
            raise AssertionError("no consumer is running")
        dead = [p for p in self.live if not p.alive]
        if dead:
            raise AssertionError(f"{dead[0].name} died:\n{dead[0].log()[-4000:]}")

    async def spawn(
        self, wait_joined: bool = True, argv: Sequence[str] = SERVICE_MODULE, **env: str
    ) -> ConsumerProcess:
        proc = self._new(argv, **env).start()
        self.live.append(proc)
        if wait_joined:
            await self._attribute(proc)
        return proc

    async def sigkill(
        self, proc: ConsumerProcess, moment: str, in_transaction: bool = False
    ) -> Kill:
        state, _ = await self.group() if moment == "mid_rebalance" else (None, [])
        proc.kill()
        self.live.remove(proc)
        kill = Kill(proc.name, moment, in_transaction, state, time.monotonic() - proc.started_at)
        self.kills.append(kill)
        for member in proc.member_ids():
            await self._leave(member)
        joining = any(p.member_id is None for p in self.live)
        await self.remove_dead(unknown_too=not joining)
        return kill

    async def kill_at_random(
        self, proc: ConsumerProcess, low: float, high: float, rng: Any
    ) -> Kill:
        await asyncio.sleep(rng.uniform(low, high))
        return await self.sigkill(proc, "random")

    async def in_transaction(
        self,
        pg: asyncpg.Connection,
        procs: Sequence[ConsumerProcess],
        waiting: bool = False,
        timeout: float = 30,
    ) -> ConsumerProcess:
        """Wait until one of ``procs`` holds a batch transaction open: its lock on the offset
        rows granted, the commit not done. ``waiting``: only once that backend sits idle in
        the transaction (between statements: typically while the process waits for the DLQ
        acknowledgements, just before the commit). Returns that process."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            in_flight = {r[0]: r[1] for r in await pg.fetch(IN_FLIGHT_SQL)}
            for proc in procs:
                held = [
                    in_flight[p]
                    for p in proc.postgres_client_ports(self.postgres_port)
                    if p in in_flight
                ]
                if held and (not waiting or held[0] == "idle in transaction"):
                    return proc
            await asyncio.sleep(0.002)
        raise AssertionError(f"none of {[p.name for p in procs]} held a batch transaction")

    async def kill_in_transaction(
        self,
        proc: ConsumerProcess,
        pg: asyncpg.Connection,
        waiting: bool = False,
        timeout: float = 30,
    ) -> Kill:
        """SIGKILL ``proc`` while it holds a batch transaction open (see in_transaction)."""
        await self.in_transaction(pg, [proc], waiting, timeout)
        moment = "in_transaction_idle" if waiting else "in_transaction"
        return await self.sigkill(proc, moment, in_transaction=True)

    async def wait_stable(self, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while (state := (await self.group())[0]) != "Stable":
            if time.monotonic() > deadline:
                raise AssertionError(f"group still {state} after {timeout} s")
            await asyncio.sleep(0.05)

    async def kill_mid_rebalance(
        self, victim: ConsumerProcess, timeout: float = 30
    ) -> tuple[Kill, ConsumerProcess]:
        """Start another member and SIGKILL ``victim`` while the group rebalances for it."""
        await self.wait_stable()
        joiner = await self.spawn(wait_joined=False)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            state, _ = await self.group()
            if state in ("PreparingRebalance", "CompletingRebalance"):
                kill = await self.sigkill(victim, "mid_rebalance")
                await self._attribute(joiner)
                await self.remove_dead(unknown_too=True)
                return kill, joiner
            await asyncio.sleep(0.01)
        raise AssertionError("the group never started rebalancing for the new member")

    async def stop_all(self) -> dict[str, int]:
        codes = {}
        for proc in list(self.live):
            codes[proc.name] = await proc.terminate()
            self.live.remove(proc)
        await self._reset_admin()
        return codes

    def kill_everything(self) -> None:
        """Teardown: no process outlives the test."""
        for proc in self.all:
            if proc.alive:
                proc.kill()
        self.live.clear()

    async def close(self) -> None:
        self.kill_everything()
        await self._reset_admin()


# --- the database against the oracle ----------------------------------------------------

_FIGURES = ", ".join(COUNT_FIELDS)
_CURRENT_SQL = f"""
SELECT supplier_id, practice_code, activity_date, revision, {_FIGURES}, event_id::text, generated_at
FROM triage.daily_requests
"""
_REVISIONS_SQL = f"""
SELECT supplier_id, practice_code, activity_date, revision, {_FIGURES}, event_id::text,
       generated_at, source_topic, source_partition, source_offset
FROM triage.daily_request_revisions
"""
_REJECTED_SQL = """
SELECT source_topic, source_partition, source_offset, key, value, supplier_id, reason
FROM triage.rejected_events
"""


def _valid(row: asyncpg.Record) -> Valid:
    n = len(COUNT_FIELDS)
    return Valid(
        supplier_id=row[0],
        practice_code=row[1],
        activity_date=row[2],
        revision=row[3],
        figures=tuple(row[4 : 4 + n]),
        event_id=row[4 + n],
        generated_at=row[5 + n],
    )


@dataclass
class Comparison:
    """The database's tables next to the oracle's, and every difference."""

    current_rows: int = 0
    revision_rows: int = 0
    rejected_rows: int = 0
    problems: list[str] = field(default_factory=list)


def _diff(name: str, got: Mapping[Any, Any], want: Mapping[Any, Any], problems: list[str]) -> None:
    missing = [k for k in want if k not in got]
    extra = [k for k in got if k not in want]
    wrong = [k for k in want if k in got and got[k] != want[k]]
    for label, keys in (("missing", missing), ("unexpected", extra), ("different", wrong)):
        if keys:
            sample = "; ".join(f"{k}: db={got.get(k)} oracle={want.get(k)}" for k in keys[:3])
            problems.append(f"{name}: {len(keys)} {label}, e.g. {sample}")


async def check_database(
    pg: asyncpg.Connection, settings: Settings, expected: Expected
) -> Comparison:
    out = Comparison()
    current = {(r[0], r[1], r[2]): _valid(r) for r in await pg.fetch(_CURRENT_SQL)}
    out.current_rows = len(current)
    _diff(
        "daily_requests", current, {k: s.event for k, s in expected.current.items()}, out.problems
    )
    revision_rows = await pg.fetch(_REVISIONS_SQL)
    out.revision_rows = len(revision_rows)
    revisions: dict[tuple[Key, int], Stored] = {}
    for r in revision_rows:
        event = _valid(r)
        revisions[(event.key, event.revision)] = Stored(event, (r[-3], r[-2], r[-1]))
    if len(revisions) != len(revision_rows):
        out.problems.append(
            f"daily_request_revisions: {len(revision_rows) - len(revisions)} (key, revision) twice"
        )
    _diff("daily_request_revisions", revisions, expected.revisions, out.problems)
    rejected_rows = await pg.fetch(_REJECTED_SQL)
    out.rejected_rows = len(rejected_rows)
    rejected = {
        (r[0], r[1], r[2]): Rejected((r[0], r[1], r[2]), r[3], r[4], r[5], r[6])
        for r in rejected_rows
    }
    if len(rejected) != len(rejected_rows):
        out.problems.append(f"rejected_events: {len(rejected_rows) - len(rejected)} records twice")
    _diff("rejected_events", rejected, expected.rejections, out.problems)
    offsets = {
        (r[0], r[1]): r[2]
        for r in await pg.fetch(
            "SELECT topic, partition, next_offset FROM triage.consumer_offsets WHERE group_id = $1",
            settings.consumer_group,
        )
        if r[2] > 0
    }
    _diff("consumer_offsets", offsets, expected.next_offsets, out.problems)
    return out


@dataclass
class DeadLetters:
    records: int = 0
    positions: int = 0
    repeats: int = 0  # letters written more than once (allowed: at least once)
    problems: list[str] = field(default_factory=list)


async def check_dead_letters(settings: Settings, expected: Expected) -> DeadLetters:
    """Every rejection on the DLQ (at least once, key, value and reason intact), and nothing
    else (no letter for a record that was not rejected, or with another reason)."""
    out = DeadLetters()
    letters: dict[Position, list[tuple[str, bytes | None, bytes | None]]] = defaultdict(list)
    for messages in (await read_all(settings, [settings.dlq_topic])).values():
        for m in messages:
            h = headers_dict(list(m.headers))
            pos = (
                h["triage.source.topic"],
                int(h["triage.source.partition"]),
                int(h["triage.source.offset"]),
            )
            letters[pos].append((h["triage.error.reason"], m.key, m.value))
            out.records += 1
    out.positions = len(letters)
    out.repeats = out.records - out.positions
    missing = [p for p in expected.rejections if p not in letters]
    if missing:
        out.problems.append(f"DLQ: {len(missing)} rejections missing, e.g. {missing[:3]}")
    phantom = [p for p in letters if p not in expected.rejections]
    if phantom:
        out.problems.append(
            f"DLQ: {len(phantom)} letters for records not rejected, e.g. {phantom[:3]}"
        )
    wrong = [
        p
        for p, seen in letters.items()
        if p in expected.rejections
        and any(
            (reason, key, value) != (r.reason, r.key, r.value)
            for reason, key, value in seen
            for r in [expected.rejections[p]]
        )
    ]
    if wrong:
        out.problems.append(
            f"DLQ: {len(wrong)} letters with another reason/key/value, e.g. {wrong[:3]}"
        )
    return out


def summary(
    title: str, expected: Expected, db: Comparison, dlq: DeadLetters, extra: Mapping[str, object]
) -> str:
    """The counts, printed at the end of a run."""
    lines = [f"== {title} =="]
    lines.append(
        f"records on the broker: {sum(expected.outcomes.values())} "
        f"({', '.join(f'{k} {v}' for k, v in sorted(expected.outcomes.items()))})"
    )
    lines.append(
        "rejections by reason: "
        + ", ".join(f"{k} {v}" for k, v in sorted(expected.reasons.items()))
    )
    lines.append(
        f"database: daily_requests {db.current_rows} (oracle {len(expected.current)}), "
        f"daily_request_revisions {db.revision_rows} (oracle {len(expected.revisions)}), "
        f"rejected_events {db.rejected_rows} (oracle {len(expected.rejections)})"
    )
    lines.append(
        f"DLQ: {dlq.records} letters for {dlq.positions} rejected records ({dlq.repeats} repeats)"
    )
    for name, value in extra.items():
        lines.append(f"{name}: {value}")
    return "\n".join(lines)


def kill_summary(kills: Sequence[Kill]) -> str:
    by = Counter(k.moment for k in kills)
    return f"{len(kills)} SIGKILLs ({', '.join(f'{m} {n}' for m, n in sorted(by.items()))})"
