"""Helpers shared by the command modules: settings, database connections, async running."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Coroutine
from typing import Any, TypeVar

import asyncpg
from rich.text import Text

from ingest.db.connection import connect
from ingest.errors import StoreUnavailableError
from ingest.redaction import redact_text, redact_url
from ingest.settings import Settings, load_settings

T = TypeVar("T")


def run_async(coro: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine to completion from a synchronous command."""
    return asyncio.run(coro)


def shown(value: object) -> Text:
    """Data as it is for a rich table or line: never read as console markup (a supplier's
    ``[/x]`` would otherwise end a style, or crash the command)."""
    return Text("" if value is None else str(value))


def settings() -> Settings:
    return load_settings()


@contextlib.asynccontextmanager
async def database(cfg: Settings) -> AsyncIterator[asyncpg.Connection]:
    """A connection to the configured database, closed afterwards."""
    url = cfg.database()
    try:
        conn = await connect(url)
    except (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
        raise StoreUnavailableError(
            f"cannot connect to Postgres at {redact_url(url)}: {redact_text(str(exc))}"
            " (is it running? `ingest stack up`, or set INGEST_DATABASE_URL)"
        ) from exc
    try:
        yield conn
    finally:
        await conn.close()
