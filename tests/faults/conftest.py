"""Fixtures of the fault-injection suite: a private Kafka broker and PostgreSQL server.

The suite stops and restarts its broker and its database server on purpose, so it never uses
the shared stack of ``tests/conftest.py`` (other test runs depend on that one staying up).
``private_stack`` starts a second stack with :mod:`ingest.devstack.stack` in a temporary state
folder (its own ports, data and logs) once per session and stops it at the end; the folder is
removed when every test passed and kept (its path printed) otherwise.

Per test: ``fault_token`` (unique id), ``fault_db`` (a database of its own on the private
server, migrated), ``fault_settings`` (topics ``triage.daily.<token>-*``, group and DLQ topic
of the test, the private stack's addresses), and ``scenario`` (tests/faults/scenario.py: the
test's traffic, suppliers and topics, fleets of consumers, the check against the oracle).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
import shutil
import tempfile
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import asyncpg
import pytest
import pytest_asyncio

from ingest.db.migrate import migrate
from ingest.devstack import stack as local_stack
from ingest.settings import Settings
from tests.support.settings import isolated_settings

if TYPE_CHECKING:
    from tests.faults.scenario import Scenario

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "faults"


@dataclass
class PrivateStack:
    """The suite's own broker and database server, which its tests may stop and start."""

    state_dir: Path
    addresses: local_stack.StackAddresses

    @property
    def bootstrap(self) -> str:
        return self.addresses.kafka_bootstrap

    @property
    def server_url(self) -> str:
        """The ``postgres`` maintenance database of the private server."""
        return self.addresses.owner_database_url.rsplit("/", 1)[0] + "/postgres"

    def database_url(self, name: str) -> str:
        return self.addresses.owner_database_url.rsplit("/", 1)[0] + f"/{name}"

    @property
    def postgres_port(self) -> int:
        return int(self.addresses.owner_database_url.rsplit(":", 1)[1].split("/")[0])

    async def stop_kafka(self) -> None:
        await local_stack.kafka_down(self.state_dir)

    async def start_kafka(self) -> None:
        await local_stack.kafka_up(self.state_dir)

    async def stop_postgres(self) -> None:
        """``pg_ctl stop -m fast``: every connection is cut."""
        if not await local_stack.postgres_down(self.state_dir):
            raise AssertionError("the private PostgreSQL server was not running")

    async def start_postgres(self) -> None:
        await local_stack.postgres_up(self.state_dir)


@contextlib.contextmanager
def _unpinned_ports() -> Iterator[None]:
    """Ports pinned for the shared stack (INGEST_STACK_*_PORT) must not apply to ours."""
    saved = {
        k: os.environ.pop(k) for k in list(local_stack.PORT_PIN_ENV.values()) if k in os.environ
    }
    try:
        yield
    finally:
        os.environ.update(saved)


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def private_stack(request: pytest.FixtureRequest) -> AsyncIterator[PrivateStack]:
    """A broker and a PostgreSQL server of this session only (started here, stopped at the
    end)."""
    state_dir = Path(tempfile.mkdtemp(prefix="triage-faults-"))
    with _unpinned_ports():
        result = await local_stack.up(state_dir, apply_migrations=False)
    stack = PrivateStack(state_dir, result.addresses)
    try:
        yield stack
    finally:
        await local_stack.down(state_dir)
        if request.session.testsfailed:
            ARTIFACTS.mkdir(parents=True, exist_ok=True)
            target = ARTIFACTS / f"stack-logs-{state_dir.name}"
            shutil.copytree(state_dir / "logs", target, dirs_exist_ok=True)
            print(f"\nfaults: private stack logs kept in {target}")
        shutil.rmtree(state_dir, ignore_errors=True)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Iterator[pytest.TestReport]:
    """Keep each phase's report on the item, so fixtures know whether their test passed."""
    report: pytest.TestReport = yield
    setattr(item, f"faults_report_{report.when}", report)
    return report


@pytest.fixture
def fault_token(request: pytest.FixtureRequest) -> Iterator[str]:
    """A unique lower-case id for this test (valid in supplier ids, topics, group ids). The
    consumer logs the test wrote to ARTIFACTS/<token>* are removed when it passed."""
    token = "f" + secrets.token_hex(4)
    yield token
    report = getattr(request.node, "faults_report_call", None)
    if report is not None and report.passed:
        for folder in ARTIFACTS.glob(f"{token}*"):
            shutil.rmtree(folder, ignore_errors=True)


async def create_database(stack: PrivateStack, name: str, migrated: bool = True) -> str:
    admin = await asyncpg.connect(stack.server_url)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    url = stack.database_url(name)
    if migrated:
        await migrate(url)
    return url


async def drop_database(stack: PrivateStack, name: str) -> None:
    for _ in range(3):
        try:
            admin = await asyncpg.connect(stack.server_url, timeout=10)
        except (OSError, asyncpg.PostgresError):
            await asyncio.sleep(1)  # a test may have left the server restarting
            continue
        try:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await admin.close()
        return


@pytest_asyncio.fixture(loop_scope="session")
async def fault_db(private_stack: PrivateStack, fault_token: str) -> AsyncIterator[str]:
    """URL of a migrated database of this test on the private server (dropped after)."""
    name = f"faults_{fault_token}"
    url = await create_database(private_stack, name)
    try:
        yield url
    finally:
        await drop_database(private_stack, name)


def settings_for(stack: PrivateStack, database_url: str, token: str) -> Settings:
    return isolated_settings(
        stack.bootstrap,
        database_url,
        token,
        state_dir=stack.state_dir,
        db_retry_max_seconds=1.0,
    )


@pytest.fixture
def fault_settings(private_stack: PrivateStack, fault_db: str, fault_token: str) -> Settings:
    """Settings of this test on the private stack."""
    return settings_for(private_stack, fault_db, fault_token)


@pytest_asyncio.fixture(loop_scope="session")
async def scenario(
    fault_settings: Settings,
    fault_token: str,
    private_stack: PrivateStack,
    capsys: pytest.CaptureFixture[str],
) -> AsyncIterator[Scenario]:
    """This test's scenario (tests/faults/scenario.py): traffic, database connection, fleets
    of consumers, and the check against the oracle; its connection and fleets are closed at
    the end."""
    from tests.faults.scenario import Scenario

    scenario = Scenario(fault_settings, fault_token, private_stack, capsys)
    await scenario.open()
    try:
        yield scenario
    finally:
        await scenario.close()
