"""Fixtures of the supplier-side suite: a running consumer, the CLI as a subprocess, and a
second, secure stack (``ingest stack up --secure``: a SASL_SSL/SCRAM-SHA-512 broker with the
StandardAuthorizer, PostgreSQL over TLS only) in a state folder of its own, so the shared plain
stack is never touched."""

from __future__ import annotations

import asyncio
import re
import shutil
import tempfile
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest_asyncio
from pydantic import SecretStr

from ingest.contract.outcomes import feedback_topic
from ingest.devstack import stack as local_stack
from ingest.security.acls import supplier_user
from ingest.security.credentials import Credentials
from ingest.settings import Settings
from tests.support.cli import CliResult, cli_env, run_cli
from tests.support.stack_state import local_state_dir

__all__ = ["CliResult", "SecureBroker", "add_with_credentials", "cli_env", "run_cli"]


# --------------------------------------------------------------------------------------
# the secure broker
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SecureBroker:
    bootstrap: str
    security: local_stack.KafkaSecurity
    state_dir: Path
    addresses: local_stack.StackAddresses  # its stack.env: database URLs with verify-full

    def admin(self, base: Settings) -> Settings:
        return self.security.admin.settings(
            base.model_copy(update={"kafka_bootstrap": self.bootstrap})
        )

    def consumer(self, base: Settings) -> Settings:
        return self.security.consumer.settings(
            base.model_copy(update={"kafka_bootstrap": self.bootstrap})
        )


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def secure_broker() -> AsyncIterator[SecureBroker]:
    """A second stack, ``up --secure`` (broker with SASL/SCRAM over TLS + ACLs, PostgreSQL
    over TLS only, migrated), with its own state folder (jars copied from the shared stack's
    when present, so no second download); stopped at the end of the session."""
    # Not under pytest's basetemp: its parent is 0700 and reset so by every pytest start, which
    # PostgreSQL's system user could then no longer traverse (tempfile's folder it can).
    state = Path(tempfile.mkdtemp(prefix="triage-secure-stack-"))
    libs = local_state_dir() / "kafka" / "libs"
    if (libs / ".pom.sha256").exists():
        await asyncio.to_thread(shutil.copytree, libs, state / "kafka" / "libs")
    try:
        started = await local_stack.up(state, secure=True)
        assert started.security is not None
        yield SecureBroker(
            started.addresses.kafka_bootstrap, started.security, state, started.addresses
        )
    finally:
        await local_stack.down(state)
        await asyncio.to_thread(shutil.rmtree, state, ignore_errors=True)


async def add_with_credentials(settings: Settings, broker: SecureBroker, supplier: str) -> Settings:
    """``ingest suppliers add --credentials`` as the admin; the supplier's client settings."""
    added = await run_cli(
        "suppliers", "add", supplier, "--name", supplier.upper(), "--credentials",
        env=cli_env(broker.admin(settings)),
    )  # fmt: skip
    assert added.code == 0, added.output
    assert f"created feedback topic {feedback_topic(supplier)}" in added.stdout
    (password,) = re.findall(r"INGEST_SASL_PASSWORD=(\S+)", added.stdout)
    credentials = Credentials(
        supplier_user(supplier), SecretStr(password), broker.security.admin.cafile
    )
    return credentials.settings(settings.model_copy(update={"kafka_bootstrap": broker.bootstrap}))
