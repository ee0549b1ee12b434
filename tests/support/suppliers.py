"""Registering suppliers in the test database, as ``ingest suppliers add`` does."""

from __future__ import annotations

import asyncpg

from ingest.contract.model import topic_for
from ingest.durations import parse_duration
from ingest.kafka import ensure_topics
from ingest.ops.suppliers import add_supplier
from ingest.settings import Settings


async def register(
    pg: asyncpg.Connection, supplier: str, warn: str = "26h", error: str = "50h"
) -> None:
    """Register (or reactivate) a supplier named after its id in capitals."""
    await add_supplier(pg, supplier, supplier.upper(), parse_duration(warn), parse_duration(error))


async def register_with_topic(
    pg: asyncpg.Connection, settings: Settings, supplier: str, partitions: int = 3
) -> str:
    """Register a supplier and create its topic; returns the topic."""
    await register(pg, supplier)
    topic = topic_for(supplier)
    await ensure_topics(settings, [topic], partitions)
    return topic
