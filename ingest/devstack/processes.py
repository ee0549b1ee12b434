"""Processes and files of the local stack: the lock, pid checks, logged and detached
commands, log tails."""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import logging
import os
import re
import shlex
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

from ingest.devstack.paths import StackPaths
from ingest.devstack.safe_files import STATE_UMASK


@contextlib.asynccontextmanager
async def locked(paths: StackPaths) -> AsyncIterator[None]:
    """An exclusive lock on ``stack.lock`` so concurrent up/down calls queue up."""
    fd = os.open(paths.lock, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o600)
    try:
        await asyncio.to_thread(fcntl.flock, fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing releases the lock


@contextlib.contextmanager
def quiet(logger_name: str) -> Iterator[None]:
    """Silence a chatty library logger while probing a server that may still be starting."""
    logger = logging.getLogger(logger_name)
    previous = logger.level
    logger.setLevel(logging.CRITICAL + 1)
    try:
        yield
    finally:
        logger.setLevel(previous)


async def tcp_open(host: str, port: int, within: float) -> bool:
    try:
        async with asyncio.timeout(within):
            _, writer = await asyncio.open_connection(host, port)
    except (OSError, TimeoutError):
        return False
    writer.close()
    with contextlib.suppress(OSError):
        await writer.wait_closed()
    return True


def pid_alive(pid: int, marker: str) -> bool:
    """True when ``pid`` runs (not a zombie) and its command line contains ``marker``."""
    proc = Path(f"/proc/{pid}")
    if not Path("/proc/self").exists():  # no procfs (macOS): existence only
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        return True
    try:
        state = (proc / "stat").read_text().rsplit(")", 1)[-1].split()[0]
        cmdline = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except (OSError, IndexError):
        return False
    return state not in ("Z", "X") and marker in cmdline


def read_pid(path: Path) -> int | None:
    try:
        return int(path.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None


def running_pids(paths: StackPaths) -> dict[str, int | None]:
    kafka = read_pid(paths.kafka_pid)
    if kafka is not None and not pid_alive(kafka, str(paths.kafka_config)):
        kafka = None
    postgres = read_pid(paths.pg_data / "postmaster.pid")
    if postgres is not None and not pid_alive(postgres, f"-D {paths.pg_data}"):
        postgres = None
    return {"kafka": kafka, "postgres": postgres}


def tail(path: Path, lines: int = 200) -> list[str]:
    try:
        with path.open("rb") as handle:
            handle.seek(0, os.SEEK_END)
            handle.seek(max(0, handle.tell() - 64 * 1024))
            return handle.read().decode(errors="replace").splitlines()[-lines:]
    except OSError:
        return []


def last_matching(path: Path, pattern: str) -> str | None:
    regex = re.compile(pattern)
    for line in reversed(tail(path)):
        if regex.search(line):
            return line.strip()
    return None


async def run_logged(
    cmd: list[str],
    log_file: Path,
    within: float,
    *,
    shown: list[str] | None = None,
    **kwargs: Any,
) -> int:
    """Run a command with its output appended to ``log_file``; its exit code (-1: timeout).
    ``shown`` is what the log says was run (the command with its secrets masked)."""
    kwargs.setdefault("umask", STATE_UMASK)
    fd = os.open(log_file, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_NOFOLLOW, 0o600)
    with os.fdopen(fd, "ab") as out:
        out.write(f"\n$ {shlex.join(shown or cmd)}\n".encode())
        out.flush()
        proc = await asyncio.create_subprocess_exec(
            *cmd, stdin=asyncio.subprocess.DEVNULL, stdout=out, stderr=out, **kwargs
        )
        try:
            async with asyncio.timeout(within):
                return await proc.wait()
        except TimeoutError:
            proc.kill()
            await proc.wait()
            return -1


async def spawn_detached(cmd: list[str], log_file: Path, cwd: Path) -> int:
    """Start ``cmd`` in its own session, orphaned at once (it outlives us); returns its pid."""
    script = f"{shlex.join(cmd)} >>{shlex.quote(str(log_file))} 2>&1 </dev/null & echo $!"
    proc = await asyncio.create_subprocess_exec(
        "/bin/sh",
        "-c",
        script,
        cwd=cwd,
        start_new_session=True,
        umask=STATE_UMASK,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
    )
    out, _ = await proc.communicate()
    return int(out.decode().strip())
