"""No secret in a process's arguments: on the first ``ingest stack up --secure`` the admin's
password was an argument of the storage tool's java process, readable by every local user in ``ps``.
Every java command the stack runs is recorded here through a ``JAVA_HOME`` whose ``bin/java`` logs
its arguments and then runs the real java."""

from __future__ import annotations

import shutil
import stat
from pathlib import Path

import pytest

from ingest.devstack import stack as local_stack
from ingest.devstack.kafka_jars import find_java
from tests.support.stack_state import local_state_dir

pytestmark = [pytest.mark.security, pytest.mark.slow]


def recording_java_home(folder: Path, real_java: str, record: Path) -> Path:
    """A JAVA_HOME whose bin/java appends its arguments (one line per run) to ``record``."""
    home = folder / "java-home"
    (home / "bin").mkdir(parents=True)
    java = home / "bin" / "java"
    java.write_text(f'#!/bin/sh\nprintf "%s\\n" "$*" >> "{record}"\nexec "{real_java}" "$@"\n')
    java.chmod(java.stat().st_mode | stat.S_IXUSR)
    return home


async def test_the_admin_password_is_in_no_process_arguments_of_a_secure_start(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    state = tmp_path / "state"
    main_libs = local_state_dir() / "kafka" / "libs"
    if (main_libs / ".pom.sha256").exists():  # the shared stack's jars: no second download
        shutil.copytree(main_libs, state / "kafka" / "libs")
    record = tmp_path / "java-arguments.log"
    monkeypatch.setenv("JAVA_HOME", str(recording_java_home(tmp_path, await find_java(), record)))
    for name in ("INGEST_STACK_KAFKA_PORT", "INGEST_STACK_POSTGRES_PORT"):
        monkeypatch.delenv(name, raising=False)

    started = await local_stack.kafka_up(state, secure=True)
    try:
        assert started.security is not None  # the admin's SCRAM user works: the format had it
        password = started.security.admin.password.get_secret_value()
        runs = record.read_text().splitlines()
        assert any("StorageTool" in run or "@" in run for run in runs), runs
        assert any("kafka.Kafka" in run for run in runs), runs
        assert not [run for run in runs if password in run]
        assert not list((state / "kafka").glob("*.args"))  # the argument file is gone
    finally:
        await local_stack.kafka_down(state)
