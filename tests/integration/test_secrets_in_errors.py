"""No password in error messages, end to end: a command that cannot reach the database says
so in one line without the password it was given, whichever way the URL carries it."""

from __future__ import annotations

import asyncio
import os
import socket
import sys
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import pytest

from tests.support.cli import run_cli
from tests.support.databases import REPO_ROOT

pytestmark = pytest.mark.security


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.mark.parametrize(
    "url",
    [
        "postgresql://svc:hunter2secret@127.0.0.1:{port}/triage",
        "postgresql://svc@127.0.0.1:{port}/triage?password=hunter2secret",
    ],
)
@pytest.mark.parametrize("command", [["suppliers", "list"], ["migrate"]])
async def test_an_unreachable_database_is_one_line_without_the_password(
    url: str, command: list[str]
) -> None:
    env = {"INGEST_DATABASE_URL": url.format(port=closed_port())}
    done = await run_cli(*command, env=env)
    assert done.code == 2, done.output
    assert "hunter2secret" not in done.output
    assert "Traceback" not in done.output
    assert len(done.stderr.strip().splitlines()) == 1, done.stderr


FAILING_TEST = """
from ingest.settings import Settings


def test_that_fails(settings: Settings, stack: object) -> None:
    raise AssertionError((settings, stack, settings.model_copy()))
"""


def stack_passwords() -> set[str]:
    """The passwords in the stack's URLs this suite runs on (user-info or query)."""
    found = set()
    for name in ("INGEST_DATABASE_URL", "INGEST_MIGRATION_DATABASE_URL"):
        parts = urlsplit(os.environ.get(name, ""))
        if parts.password:
            found.add(parts.password)
        found |= {v for k, v in parse_qsl(parts.query) if k.lower() == "password"}
    return found


async def test_a_failing_run_prints_none_of_the_stacks_passwords(tmp_path: Path) -> None:
    """A failed test once printed the settings' repr, and with it the database owner's
    password. Here a test fails naming the settings and the stack's addresses, with pytest's
    most talkative options, and its whole output holds none of the stack's passwords."""
    passwords = stack_passwords()
    if not passwords:
        pytest.skip("this stack's URLs carry no password")
    test_file = tmp_path / "test_fails_naming_settings.py"
    test_file.write_text(FAILING_TEST)
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "pytest",
        "-p",
        "tests.conftest",
        "-vv",
        "--showlocals",
        "--tb=long",
        f"--rootdir={tmp_path}",
        "-o",
        "addopts=",
        str(test_file),
        cwd=REPO_ROOT,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    async with asyncio.timeout(180):
        out, _ = await proc.communicate()
    output = out.decode(errors="replace")
    assert proc.returncode == 1, output[-2000:]
    assert "1 failed" in output, output[-2000:]
    assert "database_url=" in output  # the settings were printed ...
    leaked = sorted(p for p in passwords if p in output)
    assert leaked == [], "the output shows the stack's passwords"  # ... without a password
