"""Waiting for a condition in integration tests."""

from __future__ import annotations

import asyncio
import inspect
import time
from collections.abc import Awaitable, Callable


async def wait_until(
    check: Callable[[], Awaitable[object]] | Callable[[], object],
    within: float = 60.0,
    what: str = "condition",
) -> None:
    """Poll ``check`` (plain or async) every 0.1 s until it is truthy; AssertionError naming
    ``what`` after ``within`` seconds."""
    deadline = time.monotonic() + within
    while True:
        result = check()
        if inspect.isawaitable(result):
            result = await result
        if result:
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {within}s waiting for {what}")
        await asyncio.sleep(0.1)
