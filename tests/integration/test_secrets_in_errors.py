"""Issue 14, finding 8 (passwords), end to end: a command that cannot reach the database says
so in one line without the password it was given, whichever way the URL carries it."""

from __future__ import annotations

import socket

import pytest

from tests.support.cli import run_cli

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
