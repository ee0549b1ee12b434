"""Fixtures of the supplier-side suite: a running consumer, the CLI as a subprocess, and a
second, secure broker (SASL/SCRAM-SHA-512 + StandardAuthorizer) in a state folder of its own,
so the shared plain stack is never touched."""

from __future__ import annotations

import asyncio
import os
import shutil
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import pytest_asyncio

from ingest.devstack import stack as local_stack
from ingest.settings import Settings
from tests.conftest import REPO_ROOT
from tests.support.cli import CliResult, cli_env, run_cli

__all__ = ["CliResult", "cli_env", "run_cli"]


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
