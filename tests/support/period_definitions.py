"""The period functions as they were defined before the practice-month summary (migration
0064): triage.practice_period of 0031 and triage.area_period of 0033, read from the migration
files and created in a schema of their own, so that tests and benchmarks compare today's
exports with that definition on the same data."""

from __future__ import annotations

import re

import asyncpg

from ingest.db.migrate import MIGRATIONS_DIR

BEFORE_SUMMARY = "exports_before_0064"
_DEFINITIONS = (("0031_period_exports.sql", "practice_period"),
                ("0033_roster_expected.sql", "area_period"))  # fmt: skip


def _function(file: str, name: str, schema: str) -> str:
    """The CREATE statement of ``triage.<name>`` in a migration file, made to create (and
    call) the functions of ``schema`` instead."""
    text = (MIGRATIONS_DIR / file).read_text()
    match = re.search(
        rf"CREATE OR REPLACE FUNCTION triage\.{name}\(.*?\n\$\$;", text, flags=re.DOTALL
    )
    if match is None:
        raise LookupError(f"{name} not found in {file}")
    return re.sub(r"triage\.(practice_period|area_period)\(", rf"{schema}.\1(", match.group(0))


async def create_before_summary(conn: asyncpg.Connection, schema: str = BEFORE_SUMMARY) -> None:
    """(Re)create the schema with the definitions before the summary."""
    await conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE; CREATE SCHEMA {schema}")
    for file, name in _DEFINITIONS:
        await conn.execute(_function(file, name, schema))


def before_summary_query(query: str, schema: str = BEFORE_SUMMARY) -> str:
    """An export query (ingest.analytics.export.export_query) reading the old definitions."""
    return re.sub(r"triage\.(practice_period|area_period)\(", rf"{schema}.\1(", query)
