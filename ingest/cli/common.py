"""Helpers shared by the command modules: settings, database connections, async running."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Coroutine
from typing import Any, TypeVar

import asyncpg

from ingest.settings import Settings, load_settings

T = TypeVar("T")


def run_async(coro: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine to completion from a synchronous command."""
    return asyncio.run(coro)


def settings() -> Settings:
    return load_settings()


@contextlib.asynccontextmanager
async def database(cfg: Settings) -> AsyncIterator[asyncpg.Connection]:
    """A connection to the configured database, closed afterwards."""
    conn = await asyncpg.connect(cfg.database(), timeout=10)
    try:
        yield conn
    finally:
        await conn.close()
