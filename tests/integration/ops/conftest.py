"""Fixtures of the ops suite."""

from __future__ import annotations

from collections.abc import AsyncIterator
from urllib.parse import urlsplit, urlunsplit

import pytest_asyncio

from tests.support.tcp_proxy import TcpProxy, tcp_proxy


@pytest_asyncio.fixture(loop_scope="session")
async def pg_proxy(db_url: str) -> AsyncIterator[tuple[TcpProxy, str]]:
    """A cuttable proxy to the test database and the URL that goes through it."""
    parts = urlsplit(db_url)
    async with tcp_proxy(parts.hostname or "127.0.0.1", parts.port or 5432) as proxy:
        userinfo = parts.netloc.rpartition("@")[0]
        netloc = f"{userinfo}@127.0.0.1:{proxy.port}" if userinfo else f"127.0.0.1:{proxy.port}"
        yield proxy, urlunsplit(parts._replace(netloc=netloc))
