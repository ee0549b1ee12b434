"""``ingest demo`` end to end on the real stack (small: 60 practices, 4 days), isolated by
the test's token (supplier prefix, DLQ topic, database)."""

from __future__ import annotations

import asyncpg
from aiokafka.admin import AIOKafkaAdminClient

from ingest.settings import Settings
from ingest.supplier.simulator import SUPPLIER_PROFILES

from .conftest import cli_env, run_cli


async def test_demo_pushes_lands_and_reports_every_supplier_quietly_at_80_columns(
    settings: Settings, token: str, pg: asyncpg.Connection, kafka_admin: AIOKafkaAdminClient
) -> None:
    prefix = f"{token}-"
    env = cli_env(settings) | {
        "INGEST_DLQ_TOPIC": settings.dlq_topic,
        "INGEST_CONSUMER_GROUP": settings.consumer_group,
        "COLUMNS": "80",
    }
    try:
        result = await run_cli(
            "demo", "--practices", "60", "--days", "4", "--prefix", prefix, env=env, within=240
        )
    finally:  # the demo created its topics on the shared broker: remove them
        created = [t for t in await kafka_admin.list_topics() if token in t]
        if created:
            await kafka_admin.delete_topics(created)
    assert result.code == 0, result.output
    for title in ("pushed", "outcomes", "rejections by reason", "freshness"):
        assert title in result.stdout
    assert "all processed" in result.stdout
    assert "other members of consumer group" not in result.stdout
    # quiet: the new topics' leaders are waited for, nothing produced before (no warning)
    assert "NotLeaderForPartitionError" not in result.stderr, result.stderr
    assert "WARNING" not in result.stderr, result.stderr

    suppliers = [f"{prefix}{p[0]}" for p in SUPPLIER_PROFILES]
    # readable at 80 columns: every line fits, every supplier id and date is whole
    assert max(len(line) for line in result.stdout.splitlines()) <= 80, result.stdout
    assert "…" not in result.stdout
    for supplier in suppliers:
        assert supplier in result.stdout
    latest_days = await pg.fetch("SELECT latest_activity_date FROM triage.supplier_freshness")
    for row in latest_days:
        assert row["latest_activity_date"].isoformat() in result.stdout
    rows = dict(
        await pg.fetch(
            "SELECT supplier_id, count(*) FROM triage.daily_requests GROUP BY 1 ORDER BY 1"
        )
    )
    assert set(rows) == set(suppliers)
    status = dict(await pg.fetch("SELECT supplier_id, status FROM triage.supplier_freshness"))
    assert status[f"{prefix}quietcare"] == "silent"
    assert {status[s] for s in suppliers if not s.endswith("quietcare")} == {"ok"}
    latest = dict(
        await pg.fetch("SELECT supplier_id, latest_activity_date FROM triage.supplier_freshness")
    )
    assert latest[f"{prefix}quietcare"] < latest[f"{prefix}askfirst"]  # it went quiet earlier
    v2_rows = await pg.fetchval(
        "SELECT count(*) FROM triage.daily_requests WHERE patient_submitted_requests IS NOT NULL"
    )
    assert v2_rows == rows[f"{prefix}triagely"]  # the v2 supplier fills the new columns
