"""``ingest publish --out DIR`` in a shared folder: links planted under it and a folder others
may write are refused before anything is read or written."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import pytest

from ingest.analytics.publication.publish import write_edition
from ingest.errors import ConfigurationError
from tests.support.cli import run_cli
from tests.support.publication import month_files

pytestmark = [pytest.mark.integration, pytest.mark.security]

NOW = dt.datetime(2024, 10, 5, 9, 0, tzinfo=dt.UTC)


def test_a_readme_replaced_by_a_link_to_a_secret_is_refused_not_copied(tmp_path: Path) -> None:
    """Reproduction: in a shared publication folder another user replaces README.md by a link
    to a file only root may read; the next publish used to archive "README.md" by reading
    through the link, so the secret landed in editions/edition-1/README.md for all to read.
    Now the link is found before anything is read and publish stops in one line."""
    secret = tmp_path / "secret"
    secret.write_text("root-only content\n")
    secret.chmod(0o600)
    out = tmp_path / "pub"
    write_edition(out, month_files(300), NOW)
    (out / "README.md").unlink()
    (out / "README.md").symlink_to(secret)
    with pytest.raises(ConfigurationError, match=r"README\.md is a symbolic link"):
        write_edition(out, month_files(306), NOW)
    assert not (out / "editions").exists()
    assert b"root-only" not in (out / "practices.csv").read_bytes()


def test_an_edition_folder_planted_as_a_link_is_refused_and_its_target_untouched(
    tmp_path: Path,
) -> None:
    """Reproduction: another user plants editions/edition-1 as a link to a folder owned by
    root; the next publish used to archive edition 1 through it, overwriting that folder's
    practices.csv and README.md. Now the planted link is refused and the folder untouched."""
    victim = tmp_path / "victim"
    victim.mkdir()
    (victim / "practices.csv").write_text("precious\n")
    out = tmp_path / "pub"
    write_edition(out, month_files(300), NOW)
    (out / "editions").mkdir()
    (out / "editions" / "edition-1").symlink_to(victim, target_is_directory=True)
    with pytest.raises(ConfigurationError, match="editions/edition-1 is a symbolic link"):
        write_edition(out, month_files(306), NOW)
    assert (victim / "practices.csv").read_text() == "precious\n"
    assert sorted(os.listdir(victim)) == ["practices.csv"]


def test_an_out_folder_that_is_itself_a_link_is_refused(tmp_path: Path) -> None:
    """Reproduction: --out names a link (planted where the folder was expected) to a folder
    elsewhere; publish must not write through it."""
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (tmp_path / "pub").symlink_to(elsewhere, target_is_directory=True)
    with pytest.raises(ConfigurationError, match="is a symbolic link"):
        write_edition(tmp_path / "pub", month_files(300), NOW)
    assert os.listdir(elsewhere) == []


def test_an_out_folder_writable_by_others_is_refused(tmp_path: Path) -> None:
    """Reproduction: a publication folder of mode 0777 lets any local user plant links between
    two publishes (or while one runs); publish refuses such a folder outright."""
    out = tmp_path / "pub"
    out.mkdir()
    out.chmod(0o777)
    with pytest.raises(ConfigurationError, match="writable by other users"):
        write_edition(out, month_files(300), NOW)
    assert os.listdir(out) == []


async def test_the_command_refuses_such_a_folder_in_one_line_before_reading_the_database(
    tmp_path: Path,
) -> None:
    """Reproduction: the same refusals through ``ingest publish``: exit 2, one line, no
    traceback, nothing written; the database is not even reached (its URL leads nowhere)."""
    out = tmp_path / "pub"
    out.mkdir()
    out.chmod(0o777)
    unreachable = {"INGEST_DATABASE_URL": "postgresql://nobody:x@127.0.0.1:9/none"}
    done = await run_cli("publish", "--month", "2024-09", "--out", str(out), env=unreachable)
    assert done.code == 2
    assert "writable by other users" in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1
    assert "Traceback" not in done.output
    assert os.listdir(out) == []
