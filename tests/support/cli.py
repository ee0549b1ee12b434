"""The ``ingest`` command line as a subprocess, for integration tests."""

from __future__ import annotations

import asyncio
import os
import sys
from dataclasses import dataclass
from pathlib import Path

from ingest.settings import Settings
from tests.support.databases import REPO_ROOT

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
    if settings.kafka_ssl_cafile is not None:
        env["INGEST_KAFKA_SSL_CAFILE"] = str(settings.kafka_ssl_cafile)
    return env
