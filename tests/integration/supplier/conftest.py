"""Fixtures of the supplier-side suite: a running consumer, the CLI as a subprocess, and a
second, secure broker (SASL/SCRAM-SHA-512 + StandardAuthorizer) in a state folder of its own,
so the shared plain stack is never touched."""

from __future__ import annotations

import asyncio
import os
import shutil
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import pytest
import pytest_asyncio

from ingest.devstack import stack as local_stack
from ingest.durations import parse_duration
from ingest.ops.suppliers import add_supplier
from ingest.settings import Settings
from tests.conftest import REPO_ROOT
from tests.integration.ingestion.harness import running

INGEST = str(Path(sys.executable).with_name("ingest"))


@dataclass(frozen=True)
class CliResult:
    code: int
    stdout: str
    stderr: str

    @property
    def output(self) -> str:
        return self.stdout + self.stderr


async def run_cli(*args: str, env: dict[str, str], within: float = 120.0) -> CliResult:
    """Run ``ingest ARGS`` in a subprocess with exactly these INGEST_* variables."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith("INGEST_")}
    proc = await asyncio.create_subprocess_exec(
        INGEST,
        *args,
        env={**clean, "COLUMNS": "200", **env},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        cwd=REPO_ROOT,
    )
    async with asyncio.timeout(within):
        out, err = await proc.communicate()
    assert proc.returncode is not None
    return CliResult(proc.returncode, out.decode(), err.decode())


def cli_env(settings: Settings) -> dict[str, str]:
    """The INGEST_* variables that point the CLI at the test's broker and database."""
    env = {
        "INGEST_KAFKA_BOOTSTRAP": settings.kafka(),
        "INGEST_DATABASE_URL": settings.database(),
        "INGEST_TOPIC_PARTITIONS": "3",
    }
    if settings.sasl_username and settings.sasl_password:
        env |= {
            "INGEST_SECURITY_PROTOCOL": settings.security_protocol,
            "INGEST_SASL_USERNAME": settings.sasl_username,
            "INGEST_SASL_PASSWORD": settings.sasl_password.get_secret_value(),
        }
    return env


async def register(pg: asyncpg.Connection, supplier: str) -> None:
    await add_supplier(pg, supplier, supplier.upper(), parse_duration("26h"), parse_duration("50h"))


async def wait_for(
    check: Callable[[], Awaitable[bool]], within: float = 60.0, what: str = "condition"
) -> None:
    deadline = time.monotonic() + within
    while not await check():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} not reached within {within:.0f} s")
        await asyncio.sleep(0.2)


# The real consumer service, in this process, until the block ends (the ingestion harness's).
consumer = running


# --------------------------------------------------------------------------------------
# the secure broker
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SecureBroker:
    bootstrap: str
    security: local_stack.KafkaSecurity
    state_dir: Path

    def admin(self, base: Settings) -> Settings:
        return self.security.admin.settings(
            base.model_copy(update={"kafka_bootstrap": self.bootstrap})
        )

    def consumer(self, base: Settings) -> Settings:
        return self.security.consumer.settings(
            base.model_copy(update={"kafka_bootstrap": self.bootstrap})
        )


def _main_state_dir() -> Path:
    configured = os.environ.get("INGEST_STATE_DIR")
    return Path(configured) if configured else REPO_ROOT / ".ingest"


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def secure_broker(
    tmp_path_factory: pytest.TempPathFactory,
) -> AsyncIterator[SecureBroker]:
    """A second broker, SASL/SCRAM + ACLs, with its own state folder (jars copied from the
    shared stack's when present, so no second download); stopped at the end of the session."""
    state = tmp_path_factory.mktemp("secure-stack")
    libs = _main_state_dir() / "kafka" / "libs"
    if (libs / ".pom.sha256").exists():
        await asyncio.to_thread(shutil.copytree, libs, state / "kafka" / "libs")
    started = await local_stack.kafka_up(state, secure=True)
    assert started.security is not None
    try:
        yield SecureBroker(started.bootstrap, started.security, state)
    finally:
        await local_stack.kafka_down(state)
