"""Output files cannot be redirected by a planted symlink: ``export --out`` and ``quality-report
--out`` wrote through the predictable ``.<name>.part`` and followed a symlink planted there;
a directory as ``--out`` ended in a traceback. ``publish`` wrote each file of its folder the same
way, and ``conformance rows --out`` opened its target (a planted link included) directly."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import pytest

from ingest.analytics.publication.files import read_csv
from ingest.analytics.publication.publish import write_edition
from ingest.errors import ConfigurationError
from ingest.output_file import atomic_output
from ingest.supplier.conformance import make_rows, write_rows
from tests.support.publication import month_files

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


def test_publish_refuses_a_link_planted_at_a_files_old_temporary_name(tmp_path: Path) -> None:
    now = dt.datetime(2026, 11, 2, 9, 0, tzinfo=dt.UTC)
    victim = tmp_path / "victim.txt"
    victim.write_text("precious")
    out = tmp_path / "2026-10"
    write_edition(out, month_files(1, "2026-10"), now)
    (out / ".practices.csv.part").symlink_to(victim)

    with pytest.raises(ConfigurationError, match="symbolic link"):
        write_edition(out, month_files(2, "2026-10"), now)

    assert victim.read_text() == "precious"
    assert read_csv((out / "practices.csv").read_text())[0]["submissions"] == "1"


def test_publish_refuses_a_link_planted_in_the_editions_archive(tmp_path: Path) -> None:
    now = dt.datetime(2026, 11, 2, 9, 0, tzinfo=dt.UTC)
    victim = tmp_path / "victim.txt"
    victim.write_text("precious")
    out = tmp_path / "2026-10"
    write_edition(out, month_files(1, "2026-10"), now)
    (out / "editions" / "edition-1").mkdir(parents=True)
    (out / "editions" / "edition-1" / "practices.csv").symlink_to(victim)

    with pytest.raises(ConfigurationError, match="symbolic link"):
        write_edition(out, month_files(2, "2026-10"), now)

    assert victim.read_text() == "precious"
    assert read_csv((out / "practices.csv").read_text())[0]["submissions"] == "1"


def test_conformance_rows_refuse_to_write_through_a_link(tmp_path: Path) -> None:
    victim = tmp_path / "victim.txt"
    victim.write_text("precious")
    out = tmp_path / "rows.csv"
    out.symlink_to(victim)

    with pytest.raises(ConfigurationError, match="symbolic link"):
        write_rows(make_rows("askmygp", dt.date(2026, 3, 4)), out)

    assert victim.read_text() == "precious"


def test_conformance_rows_to_a_directory_is_one_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="is a directory"):
        write_rows(make_rows("askmygp", dt.date(2026, 3, 4)), tmp_path)
