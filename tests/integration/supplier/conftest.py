"""Fixtures of the supplier-side suite: a running consumer, the CLI as a subprocess, and a
second, secure broker (SASL/SCRAM-SHA-512 + StandardAuthorizer) in a state folder of its own,
so the shared plain stack is never touched."""

from __future__ import annotations

import asyncio
import os
import shutil
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
from tests.support.cli import CliResult, cli_env, run_cli

__all__ = ["CliResult", "cli_env", "run_cli"]


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
