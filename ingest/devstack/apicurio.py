"""A real schema registry for the local stack: Apicurio Registry, from Maven Central.

``io.apicurio:apicurio-registry-app`` (classifier ``all``, a tar.gz: the Quarkus runner jar and
its ``lib/``), version :data:`REGISTRY_VERSION` (the 3.0.x line runs on Java 17). ``mvn``
fetches it into the local Maven repository (``~/.m2``, so it is downloaded once per machine,
like the Kafka jars), then it is unpacked under the state folder and run with ``java``,
detached, on 127.0.0.1, with its default in-memory storage (a restart forgets every schema)::

    registry/app/        the unpacked distribution (+ .version)
    registry/registry.pid
    registry/port        the port chosen once and reused while free
    logs/registry.log    its console output; logs/mvn.log the download

Suppliers' Confluent clients (confluent-kafka's AvroSerializer, Confluent's Java serializers)
and the service use its Confluent-compatible API under :data:`CCOMPAT_PATH`; the full URL is
written to ``stack.env`` as ``INGEST_SCHEMA_REGISTRY_URL``. ``INGEST_STACK_REGISTRY_PORT``
pins the port.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import signal
import tarfile
from dataclasses import dataclass
from pathlib import Path

import aiohttp

from ingest.devstack.kafka_jars import MVN_TIMEOUT_S, find_java, mvn_error
from ingest.devstack.paths import HOST, Report, StackPaths, no_report
from ingest.devstack.ports import free_port, port_free
from ingest.devstack.processes import pid_alive, read_pid, run_logged, spawn_detached, tail
from ingest.errors import StackError

REGISTRY_VERSION = "3.0.9"
REGISTRY_ARTIFACT = f"io.apicurio:apicurio-registry-app:{REGISTRY_VERSION}:tar.gz:all"
RUNNER_JAR = f"apicurio-registry-app-{REGISTRY_VERSION}-runner.jar"
CCOMPAT_PATH = "/apis/ccompat/v7"
PORT_PIN_ENV = "INGEST_STACK_REGISTRY_PORT"
START_TIMEOUT_S = 120.0
STOP_TIMEOUT_S = 20.0
# A small heap and the quick JIT: a development registry holding a few schemas.
JVM_OPTIONS = ("-Xms64m", "-Xmx256m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1")


@dataclass(frozen=True)
class RegistryPaths:
    """The registry's files under a stack's state folder."""

    stack: StackPaths

    @property
    def root(self) -> Path:
        return self.stack.root / "registry"

    @property
    def app(self) -> Path:
        return self.root / "app"

    @property
    def pid(self) -> Path:
        return self.root / "registry.pid"

    @property
    def port(self) -> Path:
        return self.root / "port"

    @property
    def log(self) -> Path:
        return self.stack.logs / "registry.log"


def registry_url(port: int) -> str:
    """The Confluent-compatible base URL of a local registry on ``port``."""
    return f"http://{HOST}:{port}{CCOMPAT_PATH}"


def running_registry(paths: StackPaths) -> int | None:
    """The pid of the stack's registry when it runs, else None."""
    files = RegistryPaths(paths)
    pid = read_pid(files.pid)
    return pid if pid is not None and pid_alive(pid, RUNNER_JAR) else None


def saved_port(paths: StackPaths) -> int | None:
    return read_pid(RegistryPaths(paths).port)  # one integer in a file, like a pid


async def registry_ready(url: str, within: float = 5.0) -> bool:
    """True when the registry answers its Confluent-compatible API (GET /subjects) now."""
    try:
        timeout = aiohttp.ClientTimeout(total=within)
        async with (
            aiohttp.ClientSession(timeout=timeout) as session,
            session.get(f"{url}/subjects") as response,
        ):
            return response.status == 200
    except (aiohttp.ClientError, TimeoutError, OSError):
        return False


async def ensure_registry(paths: StackPaths, report: Report = no_report) -> str:
    """Start the stack's registry unless it runs; its Confluent-compatible URL once it
    answers. Raises StackError (one line saying what to do) when it cannot start."""
    files = RegistryPaths(paths)
    files.root.mkdir(parents=True, exist_ok=True)
    paths.logs.mkdir(parents=True, exist_ok=True)
    port = saved_port(paths)
    if running_registry(paths) is not None and port is not None:
        url = registry_url(port)
        if await registry_ready(url):
            return url
    await _ensure_app(files, paths, report)
    java = await find_java()
    port = _choose_port(files, port)
    cmd = [
        java,
        *JVM_OPTIONS,
        f"-Dquarkus.http.host={HOST}",
        f"-Dquarkus.http.port={port}",
        "-Dquarkus.http.access-log.enabled=false",
        "-Dquarkus.log.level=WARN",  # not a line per request (its audit log is INFO)
        "-jar",
        str(files.app / RUNNER_JAR),
    ]
    pid = await spawn_detached(cmd, files.log, files.app)
    files.pid.write_text(f"{pid}\n")
    url = registry_url(port)
    report(f"registry: started Apicurio Registry {REGISTRY_VERSION} pid {pid} on {url}")
    loop = asyncio.get_running_loop()
    deadline = loop.time() + START_TIMEOUT_S
    while loop.time() < deadline:
        if await registry_ready(url, within=2.0):
            return url
        if not pid_alive(pid, RUNNER_JAR):
            raise StackError(
                f"the schema registry exited at start-up: {_last_error(files)} (log: {files.log})"
            )
        await asyncio.sleep(0.5)
    raise StackError(
        f"the schema registry did not answer {url} within {START_TIMEOUT_S:.0f} s"
        f" (log: {files.log}); run `ingest stack down` and try again"
    )


async def stop_registry(paths: StackPaths, report: Report = no_report) -> bool:
    """Stop the stack's registry (SIGTERM, then SIGKILL); True when one was running."""
    files = RegistryPaths(paths)
    pid = running_registry(paths)
    if pid is None:
        files.pid.unlink(missing_ok=True)
        return False
    report(f"registry: stopping pid {pid}")
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGTERM)
    for _ in range(int(STOP_TIMEOUT_S / 0.2)):
        if not pid_alive(pid, RUNNER_JAR):
            break
        await asyncio.sleep(0.2)
    else:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
        for _ in range(50):
            if not pid_alive(pid, RUNNER_JAR):
                break
            await asyncio.sleep(0.1)
    files.pid.unlink(missing_ok=True)
    return True


async def _ensure_app(files: RegistryPaths, paths: StackPaths, report: Report) -> None:
    """Unpack the registry's distribution unless this version is unpacked already."""
    marker = files.app / ".version"
    with contextlib.suppress(OSError):
        if marker.read_text().strip() == REGISTRY_VERSION and (files.app / RUNNER_JAR).exists():
            return
    mvn = shutil.which("mvn")
    if mvn is None:
        raise StackError(
            "mvn not found on PATH: it fetches the schema registry from Maven Central; install "
            "Apache Maven (e.g. apt-get install maven) and run again"
        )
    download = files.root / "download"
    await asyncio.to_thread(shutil.rmtree, download, True)
    report(f"registry: fetching {REGISTRY_ARTIFACT} with mvn (log: {paths.mvn_log})")
    cmd = [mvn, "-q", "-B", "dependency:copy", f"-Dartifact={REGISTRY_ARTIFACT}"]
    cmd.append(f"-DoutputDirectory={download}")
    code = await run_logged(cmd, paths.mvn_log, MVN_TIMEOUT_S, cwd=files.root)
    archives = list(download.glob("*.tar.gz"))
    if code != 0 or not archives:
        cause = mvn_error(paths.mvn_log) or f"exit code {code}"
        raise StackError(
            f"mvn could not fetch the schema registry ({cause}); check network access to Maven"
            f" Central and see {paths.mvn_log}"
        )
    await asyncio.to_thread(_unpack, archives[0], files)
    await asyncio.to_thread(shutil.rmtree, download, True)


def _unpack(archive: Path, files: RegistryPaths) -> None:
    staging = files.root / "app.partial"
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    with tarfile.open(archive) as tar:
        tar.extractall(staging, filter="data")
    (staging / ".version").write_text(REGISTRY_VERSION + "\n")
    shutil.rmtree(files.app, ignore_errors=True)
    staging.rename(files.app)


def _choose_port(files: RegistryPaths, saved: int | None) -> int:
    raw = os.environ.get(PORT_PIN_ENV, "").strip()
    if raw:
        if not raw.isdigit() or not 0 < int(raw) < 65536:
            raise StackError(f"{PORT_PIN_ENV}={raw!r} is not a TCP port; set 1-65535 or unset it")
        port = int(raw)
        if not port_free(port):
            raise StackError(
                f"port {port} on {HOST} ({PORT_PIN_ENV}) is taken by another process; stop it"
                f" or unset {PORT_PIN_ENV}"
            )
    elif saved is not None and port_free(saved):
        port = saved
    else:
        port = free_port(set())
    files.port.write_text(f"{port}\n")
    return port


def _last_error(files: RegistryPaths) -> str:
    for line in reversed(tail(files.log)):
        if "ERROR" in line or "Exception" in line:
            return line.strip()[:300]
    return "no error in its log"
