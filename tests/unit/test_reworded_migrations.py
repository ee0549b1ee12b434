"""Released migrations whose comments alone were reworded (ingest/db/reworded.py): a database
that recorded the released file's checksum accepts the reworded file, and only while its
statements are the released ones."""

from __future__ import annotations

import pytest

from ingest.db.migrate import MigrationChangedError, check_checksums, discover
from ingest.db.reworded import REWORDED, released_as, statements_checksum

pytestmark = pytest.mark.unit

FILES = {m.version: m for m in discover()}


@pytest.mark.parametrize("version", sorted(REWORDED))
def test_a_reworded_migration_holds_its_released_statements_under_other_comments(
    version: int,
) -> None:
    released, statements = REWORDED[version]
    migration = FILES[version]
    assert migration.checksum != released  # its comments did change
    assert statements_checksum(migration.sql) == statements


def test_a_database_that_applied_the_released_files_is_accepted() -> None:
    check_checksums({v: released for v, (released, _) in REWORDED.items()}, list(FILES.values()))


def test_a_changed_statement_in_a_reworded_migration_is_still_refused() -> None:
    version = min(REWORDED)
    released = REWORDED[version][0]
    edited = FILES[version].sql.replace("CREATE", "CREATE  ", 1) + "\nSELECT 1;\n"
    assert not released_as(version, released, edited)
    changed = [
        m if m.version != version else type(m)(version, m.name, edited) for m in FILES.values()
    ]
    with pytest.raises(MigrationChangedError):
        check_checksums({version: released}, changed)


def test_comment_and_blank_lines_do_not_count_as_statements() -> None:
    assert statements_checksum("-- a\nSELECT 1;\n\n") == statements_checksum("-- b\n\nSELECT 1;")
    assert statements_checksum("SELECT 1;") != statements_checksum("SELECT 2;")
