"""The local Kafka broker: format its storage, start it detached, wait until it answers, stop it."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import time
from pathlib import Path
from typing import Any

from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.errors import KafkaError

from ingest.devstack.kafka_config import kafka_cluster_id, write_kafka_config
from ingest.devstack.kafka_jars import ensure_kafka_libs, find_java
from ingest.devstack.kafka_security import (
    check_secure_storage,
    ensure_secrets,
    grant_consumer,
    kafka_mode,
)
from ingest.devstack.paths import HOST, Report, StackPaths
from ingest.devstack.ports import Ports
from ingest.devstack.processes import (
    last_matching,
    pid_alive,
    quiet,
    run_logged,
    running_pids,
    spawn_detached,
    tail,
    tcp_open,
)
from ingest.errors import KafkaTopicError, StackError
from ingest.kafka import client_options, create_dead_letter_topic
from ingest.security.credentials import Credentials, local_admin, read_env_file
from ingest.security.scram import SCRAM_MECHANISM
from ingest.settings import Settings

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
    if not await tcp_open(host, int(port), within):
        return False
    options: dict[str, Any] = {"bootstrap_servers": bootstrap}
    if credentials is not None:
        options = client_options(credentials.settings(Settings(kafka_bootstrap=bootstrap)))
    admin = AIOKafkaAdminClient(request_timeout_ms=int(within * 1000), **options)
    with quiet("aiokafka"):
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


async def ensure_broker(
    paths: StackPaths, ports: Ports, report: Report, secure: bool = False
) -> bool:
    """Ensure the broker runs and answers; True when this call started it."""
    bootstrap = f"{HOST}:{ports.kafka}"
    pid = running_pids(paths)["kafka"]
    started = pid is None
    if pid is None:
        if secure:
            await asyncio.to_thread(check_secure_storage, paths)
            await asyncio.to_thread(ensure_secrets, paths)
        java = await find_java()
        await ensure_kafka_libs(paths, report)
        await asyncio.to_thread(write_kafka_config, paths, ports, secure)
        await _format_kafka_storage(java, paths, secure)
        pid = await _launch_kafka(java, paths)
        mode = "secure (SASL/SCRAM-SHA-512, ACLs)" if secure else "plain"
        report(f"kafka: started {mode} broker pid {pid} on {bootstrap} (log: {paths.kafka_log})")
    else:
        running_mode = kafka_mode(paths)
        if secure and running_mode != "secure":
            raise StackError(
                f"the running broker (pid {pid}) is not secure; run `ingest stack down`, then "
                "`ingest stack up --secure`"
            )
        report(f"kafka: already running ({running_mode}), pid {pid} on {bootstrap}")
    admin = local_admin(paths.root) if kafka_mode(paths) == "secure" else None
    await _wait_kafka(paths, pid, bootstrap, ports, admin)
    if admin is not None:
        await grant_consumer(paths, bootstrap, admin, report)  # creates the DLQ too
    else:
        await _create_dead_letter_topic(paths, bootstrap, report)
    return started


async def _create_dead_letter_topic(paths: StackPaths, bootstrap: str, report: Report) -> None:
    """The DLQ topic of a plain broker, as ``DEAD_LETTER_TOPIC`` says (before any consumer
    creates it with other settings)."""
    settings = Settings(kafka_bootstrap=bootstrap, state_dir=paths.root)
    try:
        created = await create_dead_letter_topic(settings)
    except (KafkaError, KafkaTopicError) as exc:
        raise StackError(
            f"cannot create the dead-letter topic {settings.dlq_topic}: {exc}"
        ) from None
    if created:
        report(f"kafka: created the dead-letter topic {settings.dlq_topic}")


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
    the admin's SCRAM credential goes into the bootstrap metadata (KIP-900), passed through a
    java argument file (0600, removed afterwards) so that it never shows in ``ps``."""
    if (paths.kafka_data / "meta.properties").exists():
        return
    cluster_id = await asyncio.to_thread(kafka_cluster_id, paths)
    tool = [
        "kafka.tools.StorageTool",
        "format",
        "-t",
        cluster_id,
        "-c",
        str(paths.kafka_config),
        "--ignore-formatted",
    ]
    argfile = paths.kafka / "format.args"
    if secure:
        admin = read_env_file(paths.admin_env)
        if admin is None:
            raise StackError(f"{paths.admin_env} is missing")
        password = admin.password.get_secret_value()
        scram = f"{SCRAM_MECHANISM}=[name={admin.username},password={password}]"
        await asyncio.to_thread(write_argfile, argfile, [*tool, "--add-scram", scram])
        cmd = _java_cmd(java, paths, f"@{argfile}")  # main class and arguments in the file
        shown = _java_cmd(java, paths, *tool, "--add-scram", f"{SCRAM_MECHANISM}=[...]")
    else:
        cmd = shown = _java_cmd(java, paths, *tool)
    try:
        code = await run_logged(cmd, paths.kafka_format_log, 120.0, shown=shown, cwd=paths.kafka)
    finally:
        argfile.unlink(missing_ok=True)
    if code == 0 and secure:
        paths.kafka_secure_marker.write_text("formatted with the admin SCRAM user\n")
    if code != 0:
        cause = tail(paths.kafka_format_log, 1) or [f"exit code {code}"]
        raise StackError(
            f"formatting Kafka storage failed ({cause[-1].strip()}); see "
            f"{paths.kafka_format_log}; `rm -rf {paths.kafka_data}` to start from empty"
        )


def write_argfile(path: Path, arguments: list[str]) -> None:
    """A java ``@argfile`` readable by its owner only (arguments without blanks or quotes)."""
    for argument in arguments:
        if any(c.isspace() or c in "\"'\\#" for c in argument):
            raise StackError(f"cannot pass {argument[:20]!r}... through a java argument file")
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write("\n".join(arguments) + "\n")


async def _launch_kafka(java: str, paths: StackPaths) -> int:
    cmd = _java_cmd(java, paths, "kafka.Kafka", str(paths.kafka_config))
    pid = await spawn_detached(cmd, paths.kafka_console, paths.kafka)
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
        if not pid_alive(pid, str(paths.kafka_config)):
            raise StackError(_kafka_died(paths, ports))
        if time.monotonic() > deadline:
            raise StackError(
                f"Kafka broker (pid {pid}) did not answer on {bootstrap} within "
                f"{KAFKA_READY_TIMEOUT_S:.0f} s; see {paths.kafka_log}"
            )
        await asyncio.sleep(0.3)


def _kafka_died(paths: StackPaths, ports: Ports) -> str:
    for log_file in (paths.kafka_log, paths.kafka_console):
        if last_matching(log_file, r"Address already in use|BindException"):
            return (
                f"Kafka broker exited: port {ports.kafka} or {ports.controller} on {HOST} is "
                f"taken by another process; stop it, or delete {paths.ports} so `ingest stack "
                f"up` picks new ports (log: {log_file})"
            )
    cause = (
        last_matching(paths.kafka_log, r"\b(ERROR|FATAL)\b")
        or last_matching(paths.kafka_console, r"\S")
        or "no message"
    )
    return (
        f"Kafka broker exited during start-up: {cause[:300]}; see {paths.kafka_log} and "
        f"{paths.kafka_console} (`rm -rf {paths.kafka_data}` resets its data)"
    )


async def stop_broker(paths: StackPaths, report: Report) -> bool:
    pid = running_pids(paths)["kafka"]
    if pid is None:
        paths.kafka_pid.unlink(missing_ok=True)
        return False
    report(f"kafka: stopping broker pid {pid}")
    marker = str(paths.kafka_config)
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGTERM)
    for _ in range(int(KAFKA_STOP_TIMEOUT_S / 0.2)):
        if not pid_alive(pid, marker):
            break
        await asyncio.sleep(0.2)
    else:
        report(f"kafka: broker pid {pid} ignored SIGTERM for {KAFKA_STOP_TIMEOUT_S:.0f} s; killing")
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
        for _ in range(50):  # SIGKILL is not instant: let its ports close before returning
            if not pid_alive(pid, marker):
                break
            await asyncio.sleep(0.1)
    paths.kafka_pid.unlink(missing_ok=True)
    return True
