"""Letting the local stack's PostgreSQL account pass through a closed folder, and no other
account: the ACL entries (pure) and, as root, what other accounts can then do."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from ingest.devstack.traverse_acl import (
    EXECUTE,
    GROUP_OBJ,
    MASK,
    OTHER,
    UNDEFINED_ID,
    USER,
    USER_OBJ,
    Entry,
    decode,
    encode,
    from_mode,
    grant_traverse,
    may_traverse,
    with_traverse,
)

pytestmark = pytest.mark.unit
PASSER, STRANGER = 65534, 65533  # nobody, and an account with no entry at all


def test_an_acl_round_trips_through_its_attribute_bytes() -> None:
    entries = with_traverse(from_mode(0o700), PASSER)
    assert decode(encode(entries)) == sorted(entries)


def test_traverse_adds_one_named_entry_and_a_mask_and_keeps_the_others() -> None:
    entries = with_traverse(from_mode(0o750), PASSER)
    assert Entry(USER, PASSER, EXECUTE) in entries
    assert Entry(MASK, UNDEFINED_ID, 0o5 | EXECUTE) in entries  # the group's r-x kept
    assert Entry(USER_OBJ, UNDEFINED_ID, 0o7) in entries
    assert Entry(GROUP_OBJ, UNDEFINED_ID, 0o5) in entries
    assert Entry(OTHER, UNDEFINED_ID, 0) in entries


def test_granting_twice_keeps_one_entry() -> None:
    twice = with_traverse(with_traverse(from_mode(0o700), PASSER), PASSER)
    assert [e for e in twice if e.tag == USER] == [Entry(USER, PASSER, EXECUTE)]


@pytest.fixture
def open_tmp() -> Iterator[Path]:
    """A folder other accounts may pass through (pytest's own tmp_path sits under a 0700
    folder of root's)."""
    folder = Path(tempfile.mkdtemp(prefix="traverse-acl-", dir="/tmp"))
    folder.chmod(0o755)
    try:
        yield folder
    finally:
        shutil.rmtree(folder)


def _as(uid: int, *argv: str) -> int:
    """Exit code of a system command run as another account (not this interpreter: it may
    live under a folder that account cannot reach)."""
    done = subprocess.run(argv, user=uid, check=False, capture_output=True, cwd="/")
    return done.returncode


@pytest.mark.skipif(os.geteuid() != 0, reason="setting another account's ACL needs root")
def test_a_closed_folder_lets_the_granted_account_through_and_nobody_else(
    open_tmp: Path,
) -> None:
    """A clone under /root (0700) stopped the PostgreSQL account from reaching its data, and
    widening /root to o+rx opened it to every local account. Granted by ACL, the one account
    passes (stat of a file inside), may not list the folder, and another account still cannot
    pass; the mode keeps no bit for others."""
    closed = open_tmp / "closed"
    (closed / "inner").mkdir(parents=True)
    closed.chmod(0o700)
    (closed / "inner").chmod(0o755)
    target = closed / "inner" / "file"
    target.write_text("x")
    reach = ("/usr/bin/test", "-e", str(target))
    assert _as(PASSER, *reach) == 1
    assert not may_traverse(closed, PASSER, set())

    grant_traverse(closed, PASSER)

    assert may_traverse(closed, PASSER, set())
    assert _as(PASSER, *reach) == 0
    assert _as(PASSER, "/bin/ls", str(closed)) != 0  # pass through, not list
    assert _as(STRANGER, *reach) == 1
    assert not may_traverse(closed, STRANGER, set())
    assert closed.stat().st_mode & 0o007 == 0
