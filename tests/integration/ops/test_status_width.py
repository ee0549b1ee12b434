"""``ingest status`` at 80 columns (COLUMNS=80): every line fits and every supplier id, date
and column title is whole (the table is stacked, the supplier id repeated)."""

from __future__ import annotations

import datetime as dt

import asyncpg
import pytest

from ingest.settings import Settings
from tests.support.cli import cli_env, run_cli
from tests.support.suppliers import register

pytestmark = pytest.mark.integration

TITLES = [
    "supplier", "status", "last valid event", "age", "latest day", "late / silent after",
    "missing practices", "stored 24h", "rejected 24h",
]  # fmt: skip


async def test_ingest_status_at_80_columns_shows_every_id_date_and_title_whole(
    settings: Settings, token: str, pg: asyncpg.Connection
) -> None:
    suppliers = [f"{token}-{name}" for name in ("askmygp-online", "patchs-health", "accurx")]
    latest = {s: dt.date.today() - dt.timedelta(days=n) for n, s in enumerate(suppliers, 1)}
    for supplier in suppliers:
        await register(pg, supplier)
        await pg.execute(
            "INSERT INTO triage.supplier_activity VALUES ($1, now() - interval '1 hour', $2)",
            supplier,
            latest[supplier],
        )

    result = await run_cli("status", env=cli_env(settings) | {"COLUMNS": "80"})

    assert result.code == 0, result.output
    lines = result.stdout.splitlines()
    assert max(len(line) for line in lines) <= 80, result.stdout
    assert "…" not in result.stdout
    parts = sum(1 for line in lines if line.strip().startswith("Supplier freshness at"))
    for supplier in suppliers:
        assert result.stdout.count(supplier) == parts, result.stdout  # in every part
        assert latest[supplier].isoformat() in result.stdout
    for title in TITLES:
        assert title in result.stdout, title
