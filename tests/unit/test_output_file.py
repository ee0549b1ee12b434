"""Issue 14, finding 5 (and ``--out`` of finding 10): ``export --out`` and ``quality-report
--out`` wrote through the predictable ``.<name>.part`` and followed a symlink planted there;
a directory as ``--out`` ended in a traceback."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from ingest.cli.output_file import atomic_output
from ingest.errors import ConfigurationError

pytestmark = pytest.mark.security


def test_a_link_planted_at_the_old_temporary_name_is_not_followed(tmp_path: Path) -> None:
    victim = tmp_path / "victim.txt"
    victim.write_text("precious")
    out = tmp_path / "report.html"
    (tmp_path / ".report.html.part").symlink_to(victim)

    with atomic_output(out) as sink:
        sink.write(b"<html>report</html>")

    assert victim.read_text() == "precious"
    assert out.read_bytes() == b"<html>report</html>"
    assert not out.is_symlink()


def test_an_output_that_is_a_symbolic_link_is_refused(tmp_path: Path) -> None:
    victim = tmp_path / "victim.txt"
    victim.write_text("precious")
    out = tmp_path / "export.csv"
    out.symlink_to(victim)

    with pytest.raises(ConfigurationError, match="symbolic link"), atomic_output(out) as sink:
        sink.write(b"a,b\n")

    assert victim.read_text() == "precious"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["export.csv", "victim.txt"]


def test_an_output_that_is_a_directory_is_one_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="is a directory"), atomic_output(tmp_path):
        pass


def test_an_output_in_a_missing_folder_is_one_clear_error(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere" / "x.csv"
    with pytest.raises(ConfigurationError, match="does not exist"), atomic_output(missing):
        pass


def test_a_failed_write_leaves_the_old_file_and_no_temporary_one(tmp_path: Path) -> None:
    out = tmp_path / "export.csv"
    out.write_text("old\n")

    with pytest.raises(RuntimeError), atomic_output(out) as sink:
        sink.write(b"half")
        raise RuntimeError("the database went away")

    assert out.read_text() == "old\n"
    assert [p.name for p in tmp_path.iterdir()] == ["export.csv"]


def test_the_new_file_gets_the_usual_permissions(tmp_path: Path) -> None:
    out = tmp_path / "export.csv"
    previous = os.umask(0o027)
    try:
        with atomic_output(out) as sink:
            sink.write(b"a\n")
    finally:
        os.umask(previous)
    assert out.stat().st_mode & 0o777 == 0o640
