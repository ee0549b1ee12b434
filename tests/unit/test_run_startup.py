"""``ingest run`` start-up failures end in one clear line and exit 2, not a traceback."""

from __future__ import annotations

import socket

import pytest

from tests.support.cli import run_cli

pytestmark = pytest.mark.unit

# Addresses that are never contacted: both failures happen before any connection.
NOWHERE = {
    "INGEST_KAFKA_BOOTSTRAP": "127.0.0.1:9",
    "INGEST_DATABASE_URL": "postgresql://nobody@127.0.0.1:9/none",
}


async def test_a_taken_metrics_port_is_one_line_and_exit_2() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        env = {**NOWHERE, "INGEST_METRICS_HOST": "127.0.0.1", "INGEST_METRICS_PORT": str(port)}
        result = await run_cli("run", env=env, within=60)
    assert result.code == 2
    assert result.stderr.startswith(f"error: cannot serve /metrics and /readyz on 127.0.0.1:{port}")
    assert "INGEST_METRICS_PORT" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr


async def test_a_bad_setting_is_one_line_naming_the_variable_and_exit_2() -> None:
    env = {**NOWHERE, "INGEST_BATCH_MAX_RECORDS": "lots"}
    result = await run_cli("run", env=env, within=60)
    assert result.code == 2
    assert result.stderr.startswith("error: bad settings: INGEST_BATCH_MAX_RECORDS='lots': ")
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
