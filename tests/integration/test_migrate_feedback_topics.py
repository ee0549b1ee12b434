"""The upgrade creates the feedback topics of suppliers registered before they existed
(security review: such a supplier's outcomes waited in the outbox for ever on a broker where
the service may not create topics)."""

from __future__ import annotations

import asyncpg
import pytest

from ingest.contract.outcomes import feedback_topic
from ingest.kafka import FEEDBACK_MAX_MESSAGE_BYTES, feedback_topic_spec, make_admin
from ingest.settings import Settings
from tests.support.cli import cli_env, run_cli
from tests.support.kafka import topic_layout
from tests.support.suppliers import register

pytestmark = [pytest.mark.integration, pytest.mark.security]


async def test_migrate_creates_the_feedback_topic_of_a_supplier_registered_before_them(
    settings: Settings, pg: asyncpg.Connection, token: str
) -> None:
    """Reproduction: a supplier registered by an older release has a row in triage.suppliers
    but no triage.feedback.<id> topic. Before, `ingest migrate` left it so; now it creates it,
    sized like every feedback topic, and says so."""
    supplier = f"{token}-veteran"
    await register(pg, supplier)  # the row only, as an older release left it
    env = cli_env(settings) | {"INGEST_MIGRATION_DATABASE_URL": settings.database()}

    result = await run_cli("migrate", env=env)

    assert result.code == 0, result.output
    assert f"created feedback topic {feedback_topic(supplier)}" in result.stdout
    spec = feedback_topic_spec(settings)
    admin = make_admin(settings)
    await admin.start()
    try:
        layout = await topic_layout(admin, feedback_topic(supplier), spec)
    finally:
        await admin.close()
    assert layout == (int(env["INGEST_TOPIC_PARTITIONS"]), spec.configs())
    assert spec.configs()["max.message.bytes"] == str(FEEDBACK_MAX_MESSAGE_BYTES)
