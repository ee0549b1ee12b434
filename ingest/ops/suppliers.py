"""The supplier registry in ``triage.suppliers`` (Postgres edge)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import asyncpg

from ingest.contract.model import check_supplier_id
from ingest.contract.outcomes import feedback_topic
from ingest.db.queries import queries
from ingest.errors import SupplierError
from ingest.kafka import ensure_topics, feedback_topic_spec
from ingest.settings import Settings

SQL = queries("ingest.ops")


@dataclass(frozen=True)
class Supplier:
    supplier_id: str
    name: str
    warn_after: dt.timedelta
    error_after: dt.timedelta
    active: bool


def _check_thresholds(warn_after: dt.timedelta, error_after: dt.timedelta) -> None:
    if error_after < warn_after:
        raise SupplierError(
            f"error_after ({error_after}) must not be shorter than warn_after ({warn_after})"
        )


async def add_supplier(
    conn: asyncpg.Connection,
    supplier_id: str,
    name: str,
    warn_after: dt.timedelta,
    error_after: dt.timedelta,
) -> Supplier:
    """Register (or re-activate and update) a supplier."""
    check_supplier_id(supplier_id)
    _check_thresholds(warn_after, error_after)
    row = await conn.fetchrow(
        SQL["add_supplier"],
        supplier_id,
        name,
        warn_after,
        error_after,
    )
    return Supplier(**dict(row))


async def update_supplier(
    conn: asyncpg.Connection,
    supplier_id: str,
    name: str | None = None,
    warn_after: dt.timedelta | None = None,
    error_after: dt.timedelta | None = None,
) -> Supplier:
    """Change a registered supplier's name or thresholds."""
    current = await get_supplier(conn, supplier_id)
    warn = warn_after or current.warn_after
    error = error_after or current.error_after
    _check_thresholds(warn, error)
    row = await conn.fetchrow(
        SQL["update_supplier"],
        supplier_id,
        name or current.name,
        warn,
        error,
    )
    return Supplier(**dict(row))


async def get_supplier(conn: asyncpg.Connection, supplier_id: str) -> Supplier:
    row = await conn.fetchrow(
        SQL["get_supplier"],
        supplier_id,
    )
    if row is None:
        raise SupplierError(f"supplier {supplier_id!r} is not registered (ingest suppliers add)")
    return Supplier(**dict(row))


async def remove_supplier(conn: asyncpg.Connection, supplier_id: str) -> Supplier:
    """Deactivate a supplier: its history stays, new events are rejected unknown_supplier."""
    await get_supplier(conn, supplier_id)
    row = await conn.fetchrow(
        SQL["remove_supplier"],
        supplier_id,
    )
    return Supplier(**dict(row))


async def list_suppliers(conn: asyncpg.Connection, include_inactive: bool = True) -> list[Supplier]:
    rows = await conn.fetch(
        SQL["list_suppliers"],
        include_inactive,
    )
    return [Supplier(**dict(r)) for r in rows]


async def ensure_feedback_topics(conn: asyncpg.Connection, settings: Settings) -> list[str]:
    """Create the feedback topic of every registered supplier that has none (a supplier
    registered before feedback topics existed); the topics created."""
    suppliers = await list_suppliers(conn)
    if not suppliers:
        return []
    topics = [feedback_topic(s.supplier_id) for s in suppliers]
    return await ensure_topics(settings, topics, feedback_topic_spec(settings))
