"""Settings of one test: everything it creates is scoped by its token."""

from __future__ import annotations

from typing import Any

from ingest.settings import Settings


def isolated_settings(
    kafka_bootstrap: str, database_url: str, token: str, **changes: Any
) -> Settings:
    """The test's own topics (triage.daily.<token>-*), DLQ topic and consumer group; metrics on
    an ephemeral port of 127.0.0.1; quick metadata refresh and batches; then ``changes``."""
    return Settings(
        **{
            "kafka_bootstrap": kafka_bootstrap,
            "database_url": database_url,
            "topic_pattern": rf"^triage\.daily\.{token}-.*$",
            "dlq_topic": f"triage.dlq.{token}",
            "consumer_group": f"triage-ingest-{token}",
            "metrics_port": 0,
            "metrics_host": "127.0.0.1",
            "metadata_max_age_ms": 500,
            "batch_timeout_ms": 100,
            **changes,
        }
    )
