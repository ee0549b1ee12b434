"""Supplier data is shown, never interpreted: rich markup in supplier data (a practice code ``[/x]``
in a rejection's detail, a supplier named ``[/x]``) crashed ``ingest dlq list`` and ``ingest
suppliers list`` (rich read it as a closing tag). Every such value is shown as it is."""

from __future__ import annotations

import asyncpg
import pytest

from ingest.settings import Settings
from tests.support.cli import cli_env, run_cli

pytestmark = pytest.mark.security

MARKUP = "[/x] [bold red]loud[/] [link=https://evil.example]click[/link]"


async def test_a_rejection_detail_with_markup_is_listed_as_it_is(
    settings: Settings, db_url: str
) -> None:
    pg = await asyncpg.connect(db_url)
    try:
        await pg.execute(
            "INSERT INTO triage.rejected_events (source_topic, source_partition, source_offset,"
            " supplier_id, reason, detail) VALUES ('triage.daily.sa', 0, 7, 'sa',"
            " 'invalid_practice_code', $1)",
            f"practice_code {MARKUP!r} is not an ODS GP practice code",
        )
    finally:
        await pg.close()

    listed = await run_cli("dlq", "list", env=cli_env(settings))

    assert listed.code == 0, listed.output
    assert "Traceback" not in listed.output
    assert MARKUP in listed.stdout.replace("\n", "")


async def test_a_supplier_named_with_markup_is_added_updated_and_listed_as_it_is(
    settings: Settings, token: str
) -> None:
    env = cli_env(settings)
    supplier = f"{token}-markup"
    added = await run_cli("suppliers", "add", supplier, "--name", "[/x]", env=env)
    assert added.code == 0, added.output
    assert "([/x])" in added.stdout

    updated = await run_cli("suppliers", "update", supplier, "--name", MARKUP, env=env)
    assert updated.code == 0, updated.output
    listed = await run_cli("suppliers", "list", env=env)

    assert listed.code == 0, listed.output
    assert "Traceback" not in listed.output
    line = next(line for line in listed.stdout.splitlines() if supplier in line)
    assert "[/x] [bold red]loud[/]" in line
