"""SQL has a home: each package's statements are named queries in its ``queries.sql``, read by
the one loader (ingest.db.queries); no Python module of the package spells SQL itself.

A module that cannot be converted at once is listed in STILL_TO_CONVERT with the reason; the
list only shrinks (a listed module without SQL fails too)."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from ingest.db.queries import QueryFileError, parse_queries, queries

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "ingest"
LOADER = "ingest/db/queries.py"

# A string constant that starts like a statement (keywords in capitals, as the project writes
# SQL), or names a triage table after FROM/JOIN/INTO/UPDATE anywhere in it.
_STATEMENT = re.compile(
    r"^\s*(SELECT|INSERT|UPDATE|DELETE|WITH|CREATE|ALTER|DROP|COPY|LOCK|SET|GRANT|REVOKE"
    r"|TRUNCATE|VACUUM|ANALYZE|REFRESH|NOTIFY|LISTEN|DO)\b"
)
_TABLE = re.compile(r"\b(FROM|JOIN|INTO|UPDATE)\s+triage\.")

STILL_TO_CONVERT: dict[str, str] = {
    # module -> why its SQL is still in Python
}


def sql_literals(source: str) -> list[tuple[int, str]]:
    """(line, start) of every string constant of ``source`` that is SQL; docstrings and other
    bare string statements are prose, not SQL."""
    tree = ast.parse(source)
    prose = {
        id(node.value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)
    }
    return sorted(
        (node.lineno, node.value[:60])
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant)
        and isinstance(node.value, str)
        and id(node) not in prose
        and (_STATEMENT.match(node.value) or _TABLE.search(node.value))
    )


def sql_by_module() -> dict[str, list[tuple[int, str]]]:
    found = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        module = str(path.relative_to(ROOT))
        literals = sql_literals(path.read_text())
        if literals and module != LOADER:
            found[module] = literals
    return found


def test_the_check_finds_sql_in_code_and_not_in_prose() -> None:
    source = '''
"""SELECT is a word of this docstring."""
A = "SELECT 1"
B = f"GRANT {x} TO y"
C = "count(*) FROM triage.daily_requests"
D = "Select the rows you need"
'''
    assert [line for line, _ in sql_literals(source)] == [3, 4, 5]


def test_no_sql_literal_outside_the_query_files() -> None:
    unexpected = {m: s for m, s in sql_by_module().items() if m not in STILL_TO_CONVERT}
    assert not unexpected, f"move these into the package's queries.sql: {unexpected}"


def test_the_list_of_modules_still_to_convert_only_shrinks() -> None:
    converted = set(STILL_TO_CONVERT) - set(sql_by_module())
    assert not converted, f"no SQL left: remove from STILL_TO_CONVERT: {sorted(converted)}"


def test_a_named_query_runs_to_the_next_name_without_its_description() -> None:
    parsed = parse_queries(
        "-- header\n\n-- name: one\n-- says what it does\nSELECT 1\n  -- kept\n"
        "FROM x\n\n-- name: two\nSELECT 2;\n"
    )
    assert dict(parsed) == {"one": "SELECT 1\n  -- kept\nFROM x", "two": "SELECT 2;"}


@pytest.mark.parametrize(
    ("text", "complaint"),
    [
        ("-- name: a\nSELECT 1\n-- name: a\nSELECT 2\n", "named twice"),
        ("-- name: a\n-- only a description\n", "has no statement"),
        ("SELECT 1\n-- name: a\nSELECT 2\n", "before the first name"),
    ],
)
def test_a_malformed_query_file_is_refused_naming_the_line(text: str, complaint: str) -> None:
    with pytest.raises(QueryFileError, match=complaint):
        parse_queries(text, "pkg/queries.sql")


def test_an_unknown_query_name_is_refused() -> None:
    with pytest.raises(QueryFileError, match="no query named 'three'"):
        parse_queries("-- name: one\nSELECT 1\n", "pkg/queries.sql")["three"]


def _query_files() -> list[Path]:
    return sorted(PACKAGE.rglob("queries.sql"))


@pytest.mark.parametrize("path", _query_files(), ids=lambda p: str(p.relative_to(ROOT)))
def test_every_named_query_of_a_package_is_used_by_it(path: Path) -> None:
    package = ".".join(path.parent.relative_to(ROOT).parts)
    code = "\n".join(p.read_text() for p in path.parent.glob("*.py"))
    unused = [name for name in queries(package) if f'"{name}"' not in code]
    assert not unused, f"{path.relative_to(ROOT)}: unused queries {unused}"


def test_every_sql_file_is_a_packages_named_queries_or_a_migration() -> None:
    """One way to load SQL: a ``queries.sql`` through the loader (migrations are applied in
    order by db.migrate; db/schema.sql is the generated schema, read by people)."""
    others = [
        str(p.relative_to(ROOT))
        for p in sorted(PACKAGE.rglob("*.sql"))
        if p.name != "queries.sql"
        and p.parent.name != "migrations"
        and p != PACKAGE / "db" / "schema.sql"
    ]
    assert not others, f"make these named queries of their package's queries.sql: {others}"
