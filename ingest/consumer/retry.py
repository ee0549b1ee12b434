"""The one retry loop of the consumer: capped exponential back-off, a failure callback (e.g.
readiness drops) and a stop event that cuts the wait short.

Every wait on something outside the process (Postgres, Kafka, the DLQ, the schema registry)
goes through :func:`retry`, so they all back off, log and stop the same way.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import TypeVar

from ingest.errors import RetryStoppedError

log = logging.getLogger(__name__)

T = TypeVar("T")

FIRST_DELAY_SECONDS = 0.2


class Backoff:
    """Capped exponential back-off: ``start``, twice that, ... up to ``cap``."""

    def __init__(self, cap: float, start: float = FIRST_DELAY_SECONDS) -> None:
        self._start, self._cap, self._next = start, cap, start

    def reset(self) -> None:
        self._next = self._start

    def next_delay(self) -> float:
        delay, self._next = self._next, min(self._next * 2, self._cap)
        return delay


async def pause(seconds: float, stop: asyncio.Event | None = None) -> None:
    """Sleep ``seconds``, cut short when ``stop`` is set."""
    if stop is None:
        await asyncio.sleep(seconds)
        return
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), timeout=seconds)


async def retry(
    attempt: Callable[[], Awaitable[T]],
    *,
    retry_on: tuple[type[BaseException], ...],
    cap: float,
    describe: Callable[[BaseException], str],
    on_failure: Callable[[BaseException], None] | None = None,
    stop: asyncio.Event | None = None,
    logger: logging.Logger = log,
    start: float = FIRST_DELAY_SECONDS,
) -> T:
    """``attempt()`` until it returns; its result.

    After each failure of a type in ``retry_on``: ``on_failure(error)``, a warning
    ``"<describe(error)>; retrying in <delay>s"``, then a wait of the next back-off delay
    (from ``start``, doubling, at most ``cap``). Any other exception propagates at once.

    ``stop``: when it is set after a failure (before or during the wait), no further attempt
    is made and :class:`RetryStoppedError` is raised from the last failure. The first attempt
    is always made, so work in hand can still finish after a stop request. Without ``stop``
    the loop only ends when an attempt succeeds (or the task is cancelled).
    """
    backoff = Backoff(cap, start)
    while True:
        try:
            return await attempt()
        except retry_on as error:
            if on_failure is not None:
                on_failure(error)
            what = describe(error)
            if stop is not None and stop.is_set():
                raise RetryStoppedError(f"{what}; stopping, not retried") from error
            delay = backoff.next_delay()
            logger.warning("%s; retrying in %.1fs", what, delay)
            await pause(delay, stop)
            if stop is not None and stop.is_set():
                raise RetryStoppedError(f"{what}; stopped while waiting to retry") from error
