"""`ingest status` ends in one line when Postgres cannot be read; a role lacking privileges is
told which roles have them."""

from __future__ import annotations

import asyncpg
import pytest

from ingest.cli.status_cmd import unreadable

pytestmark = pytest.mark.unit


def test_a_role_without_privileges_is_told_which_roles_have_them() -> None:
    error = unreadable(asyncpg.InsufficientPrivilegeError("permission denied for view x"))
    assert str(error) == (
        "cannot read freshness: permission denied for view x; connect as a member of "
        "triage_reader (read-only) or triage_writer"
    )


def test_other_failures_keep_the_plain_message() -> None:
    error = unreadable(OSError("connection refused"))
    assert str(error) == "cannot read freshness from Postgres: connection refused"
