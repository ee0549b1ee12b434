"""Writing into folders another account controls, without following its links.

``ingest stack up`` run as root hands the PostgreSQL data folder to the server's system account;
that account can put links into it (``pg_hba.tmp`` -> a root-only file, or the data folder
itself -> ``/etc``). Root must never open, truncate, chmod or chown through such a link: that
would give the account the link's target, a path to root. So every such folder is opened once
without following a link (``O_NOFOLLOW | O_DIRECTORY``) and every file in it is reached
through that descriptor: created afresh (``O_CREAT | O_EXCL | O_NOFOLLOW``), given its mode and
owner through its own descriptor (``fchmod``/``fchown``), then renamed over the old name.

The state folder's own modes are kept here too: folders 0700 (0711 where the PostgreSQL
account must pass through, never readable by others), files 0600, and child processes run with
umask 077, so no other local account reads a topic's log, a secret or ``postgres.log``.
"""

from __future__ import annotations

import contextlib
import errno
import os
import stat
from collections.abc import Iterator
from pathlib import Path

from ingest.devstack.traverse_acl import may_traverse
from ingest.errors import StackError

STATE_UMASK = 0o077  # files 0600, folders 0700 for everything the stack's processes create
TRAVERSE_ONLY = 0o711  # a folder the PostgreSQL account passes through (not listable)

Owner = tuple[int, int] | None  # (uid, gid) to hand a file to; None: keep ours


def _refuse(path: Path, exc: OSError) -> StackError:
    return StackError(
        f"{path} is a link or not a folder ({exc.strerror}): refusing to follow it; remove it"
        " and run again"
    )


@contextlib.contextmanager
def folder(path: Path) -> Iterator[int]:
    """A descriptor of the folder ``path`` itself (a link there is refused, in one line)."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW)
    except OSError as exc:
        if exc.errno in (errno.ELOOP, errno.ENOTDIR):
            raise _refuse(path, exc) from None
        raise
    try:
        yield fd
    finally:
        os.close(fd)


def set_owner_and_mode(path: Path, owner: Owner, mode: int) -> None:
    """chown/chmod of ``path`` itself, never of what a link there points to (refused)."""
    flags = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK
    try:
        fd = os.open(path, flags)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise _refuse(path, exc) from None
        raise
    try:
        if owner is not None:
            os.fchown(fd, *owner)
        os.fchmod(fd, mode)
    finally:
        os.close(fd)


def write_in(parent: int, name: str, data: bytes, mode: int, owner: Owner = None) -> None:
    """Replace ``name`` in the folder ``parent`` whole with ``data``: a new file (any file or
    link already named ``<name>.tmp`` is removed, never opened), its mode and owner set
    through its descriptor, then renamed over ``name`` (a link there is replaced, not
    followed)."""
    tmp = f"{name}.tmp"
    with contextlib.suppress(FileNotFoundError):
        os.unlink(tmp, dir_fd=parent)
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600, dir_fd=parent)
    try:
        if owner is not None:
            os.fchown(fd, *owner)
        os.fchmod(fd, mode)
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
    finally:
        os.close(fd)
    os.replace(tmp, name, src_dir_fd=parent, dst_dir_fd=parent)


def read_in(parent: int, name: str) -> bytes:
    """The content of the regular file ``name`` of ``parent`` (a link or anything else is
    refused)."""
    fd = os.open(name, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK, dir_fd=parent)
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise StackError(f"{name} is not a regular file: refusing to read it")
        chunks = []
        while chunk := os.read(fd, 1 << 16):
            chunks.append(chunk)
        return b"".join(chunks)
    finally:
        os.close(fd)


def remove_in(parent: int, name: str) -> None:
    """Remove ``name`` of ``parent`` (a link is removed, not followed) if it exists."""
    with contextlib.suppress(FileNotFoundError):
        os.unlink(name, dir_fd=parent)


def unreachable_ancestor(path: Path, uid: int, gids: set[int]) -> Path | None:
    """The first folder above ``path`` (or ``path``'s parent chain) that the account ``uid``
    (groups ``gids``) may not pass through, ACLs included, or None: checked, never widened."""
    for ancestor in reversed(path.parents):
        if not may_traverse(ancestor, uid, gids):
            return ancestor
    return None
