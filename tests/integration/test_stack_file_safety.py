"""``ingest stack up`` run as root follows no link the PostgreSQL system account can plant,
widens no folder above the state folder, and leaves nothing readable by other accounts
(security review of the local stack). Real PostgreSQL servers in folders of their own."""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import stat
import tempfile
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
import pytest_asyncio

from ingest.devstack import stack as local_stack
from ingest.devstack.paths import StackPaths, make_dirs
from ingest.devstack.postgres_server import PG_SYSTEM_USER
from ingest.devstack.postgres_tls import install_server_certificate
from ingest.devstack.traverse_acl import may_traverse
from ingest.errors import StackError

pytestmark = [
    pytest.mark.integration,
    pytest.mark.security,
    pytest.mark.skipif(os.geteuid() != 0, reason="needs root: hands folders to another account"),
]

SECRET = b"root only: not for the postgres account\n"


@contextlib.contextmanager
def scratch_folder(prefix: str) -> Iterator[Path]:
    """A folder under the system's temporary folder (every account may pass through it, unlike
    pytest's basetemp), removed afterwards."""
    folder = Path(tempfile.mkdtemp(prefix=prefix))
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


@pytest_asyncio.fixture(loop_scope="session")
async def initialised() -> AsyncIterator[StackPaths]:
    """A state folder whose PostgreSQL server was made and started once, then stopped: what a
    later `ingest stack up` finds."""
    with scratch_folder("triage-links-") as state:
        await local_stack.postgres_up(state)
        await local_stack.postgres_down(state)
        try:
            yield StackPaths.of(state)
        finally:
            await local_stack.postgres_down(state)


def victim(folder: Path, name: str) -> Path:
    """A root-only file the attacker points a link at."""
    path = folder / name
    path.write_bytes(SECRET)
    path.chmod(0o600)
    return path


def untouched(path: Path) -> bool:
    info = path.stat()
    return (info.st_uid, stat.S_IMODE(info.st_mode), path.read_bytes()) == (0, 0o600, SECRET)


@pytest.mark.slow
async def test_links_planted_in_the_data_folder_are_not_followed(
    initialised: StackPaths,
) -> None:
    """Reproduction: the account that owns the data folder replaced `ingest_stack.conf` by a
    link to a root-only file and planted `pg_hba.tmp` as another; the next `stack up` as root
    wrote the stack's settings through them and chowned both targets to that account (a path
    to root). Now the links are replaced, never followed: the root-only files keep their owner,
    mode and content, and the server starts with the stack's own settings."""
    data = initialised.pg_data
    with scratch_folder("triage-victims-") as victims:
        targets = {
            name: victim(victims, name)
            for name in ("ingest_stack.conf", "pg_hba.tmp", "postgresql.conf.tmp")
        }
        (data / "ingest_stack.conf").unlink()
        for name, target in targets.items():
            (data / name).symlink_to(target)
        try:
            assert await local_stack.postgres_up(initialised.root)
        finally:
            await local_stack.postgres_down(initialised.root)
        assert all(untouched(t) for t in targets.values()), targets
        assert not (data / "ingest_stack.conf").is_symlink()
        assert "listen_addresses" in (data / "ingest_stack.conf").read_text()


@pytest.mark.slow
async def test_a_data_folder_replaced_by_a_link_is_refused(initialised: StackPaths) -> None:
    """Reproduction: the account replaced its data folder by a link to a root-owned folder;
    `stack up` as root chowned and chmodded that folder (and would have written into it). Now
    it refuses in one line and the folder keeps its owner and mode."""
    with scratch_folder("triage-victim-dir-") as target:
        target.chmod(0o755)
        shutil.rmtree(initialised.pg_data)
        initialised.pg_data.symlink_to(target)
        with pytest.raises(StackError, match="is a link") as refused:
            await local_stack.postgres_up(initialised.root)
        assert "\n" not in str(refused.value)
        info = target.stat()
        assert (info.st_uid, stat.S_IMODE(info.st_mode)) == (0, 0o755)


async def test_a_link_planted_as_the_initdb_password_file_is_not_followed() -> None:
    """Reproduction: before the first `stack up`, the account (owner of `postgres/`) planted
    `initdb.pwfile` as a link to a root-only file; root truncated that file, wrote the
    superuser's password into it and chowned it to the account. Now the link is removed and a
    new file is made (O_EXCL | O_NOFOLLOW): the target is untouched."""
    with scratch_folder("triage-pwfile-") as state, scratch_folder("triage-victim-") as victims:
        target = victim(victims, "shadow")
        paths = StackPaths.of(state)
        paths.pg.mkdir(parents=True)
        (paths.pg / "initdb.pwfile").symlink_to(target)
        try:
            await local_stack.postgres_up(state)
        finally:
            await local_stack.postgres_down(state)
        assert untouched(target)


def test_links_named_like_the_server_certificate_files_are_not_followed() -> None:
    """Reproduction: in the data folder, `server.tmp` and `server.key` linked to root-only
    files; installing the secure stack's server certificate truncated and chowned their
    targets. Now each file is written afresh and renamed over the link."""
    with scratch_folder("triage-cert-") as state, scratch_folder("triage-victim-") as victims:
        paths = StackPaths.of(state)
        paths.pg_data.mkdir(parents=True)
        targets = {n: victim(victims, n) for n in ("server.tmp", "server.key", "server.key.tmp")}
        for name, target in targets.items():
            (paths.pg_data / name).symlink_to(target)
        install_server_certificate(paths, 65534, 65534)
        assert all(untouched(t) for t in targets.values()), targets
        key = paths.pg_data / "server.key"
        assert not key.is_symlink() and key.stat().st_uid == 65534
        assert stat.S_IMODE(key.stat().st_mode) == 0o600


async def test_folders_above_the_state_folder_let_only_the_postgres_account_pass() -> None:
    """Reproduction: with the state folder inside a folder closed to other accounts (a clone
    under /root), `stack up` and `stack down` added o+rx to every folder above it, opening
    /root to every local account. Now the PostgreSQL system account alone is let through (an
    ACL entry user:<account>:--x): the server starts, the folder's bits for other accounts stay
    closed, and another account still cannot pass."""
    with scratch_folder("triage-closed-") as closed:
        closed.chmod(0o700)
        state = closed / "clone" / ".ingest"
        state.mkdir(parents=True)
        before = {p: stat.S_IMODE(p.stat().st_mode) & 0o007 for p in (closed, closed / "clone")}
        try:
            await local_stack.postgres_up(state)
            account = pwd.getpwnam(PG_SYSTEM_USER)
            groups = {account.pw_gid, *os.getgrouplist(PG_SYSTEM_USER, account.pw_gid)}
            assert may_traverse(closed, account.pw_uid, groups)
            assert not may_traverse(closed, 65533, {65533})  # an account with no entry
        finally:
            await local_stack.postgres_down(state)
        assert {p: stat.S_IMODE(p.stat().st_mode) & 0o007 for p in before} == before


def test_state_folders_and_logs_are_closed_to_other_accounts() -> None:
    """Reproduction: the state folder, `logs/` and `kafka/` were 0755 and the logs 0644: any
    local account read every topic's log (other suppliers' outcomes, the DLQ) and
    `logs/postgres.log`. Now the folders are 0700 (0711, passable but not listable, where the
    PostgreSQL account must pass), files 0600, also when an older release left them open."""
    with scratch_folder("triage-modes-") as state:
        paths = StackPaths.of(state)
        for folder in (paths.logs, paths.kafka, paths.pg):
            folder.mkdir(parents=True)
            folder.chmod(0o755)
        state.chmod(0o755)
        (paths.logs / "kafka.log").write_text("outcomes of every supplier\n")
        (paths.logs / "kafka.log").chmod(0o644)

        make_dirs(paths)

        def mode(p: Path) -> int:
            return stat.S_IMODE(p.stat().st_mode)

        assert (mode(state), mode(paths.logs)) == (0o711, 0o711)
        assert mode(paths.kafka) == 0o700
        assert mode(paths.logs / "kafka.log") == 0o600
