"""The consumer's one retry loop (ingest/consumer/retry.py)."""

from __future__ import annotations

import asyncio
import time

import pytest

from ingest.consumer.retry import Backoff, retry
from ingest.errors import RetryStoppedError


class Flaky:
    """An attempt that fails ``failures`` times with ``error`` then returns ``"done"``."""

    def __init__(self, failures: int, error: type[BaseException] = ConnectionError) -> None:
        self.failures, self.error, self.calls = failures, error, 0

    async def __call__(self) -> str:
        self.calls += 1
        if self.calls <= self.failures:
            raise self.error(f"failure {self.calls}")
        return "done"


def test_backoff_doubles_from_its_start_up_to_its_cap() -> None:
    backoff = Backoff(cap=1.0, start=0.2)
    assert [backoff.next_delay() for _ in range(6)] == [0.2, 0.4, 0.8, 1.0, 1.0, 1.0]


def test_backoff_reset_starts_again_from_the_first_delay() -> None:
    backoff = Backoff(cap=1.0, start=0.2)
    backoff.next_delay(), backoff.next_delay()
    backoff.reset()
    assert backoff.next_delay() == 0.2


async def test_retry_returns_the_result_once_an_attempt_succeeds() -> None:
    attempt = Flaky(failures=3)
    result = await retry(attempt, retry_on=(ConnectionError,), cap=0.01, start=0.001, describe=str)
    assert (result, attempt.calls) == ("done", 4)


async def test_retry_calls_the_failure_callback_with_every_retried_error() -> None:
    seen: list[str] = []
    await retry(
        Flaky(failures=2),
        retry_on=(ConnectionError,),
        cap=0.01,
        start=0.001,
        describe=str,
        on_failure=lambda error: seen.append(str(error)),
    )
    assert seen == ["failure 1", "failure 2"]


async def test_retry_lets_other_errors_through_at_once() -> None:
    attempt = Flaky(failures=5, error=KeyError)
    seen: list[BaseException] = []
    with pytest.raises(KeyError):
        await retry(
            attempt,
            retry_on=(ConnectionError,),
            cap=0.01,
            start=0.001,
            describe=str,
            on_failure=seen.append,
        )
    assert (attempt.calls, seen) == (1, [])


async def test_retry_logs_what_failed_and_the_delay(caplog: pytest.LogCaptureFixture) -> None:
    await retry(
        Flaky(failures=1),
        retry_on=(ConnectionError,),
        cap=1.0,
        start=0.05,
        describe=lambda error: f"Postgres unreachable ({error})",
    )
    assert "Postgres unreachable (failure 1); retrying in 0.1s" in caplog.messages


async def test_a_stop_during_the_wait_ends_it_at_once_with_retry_stopped() -> None:
    stop = asyncio.Event()
    attempt = Flaky(failures=10)
    asyncio.get_running_loop().call_later(0.05, stop.set)
    started = time.monotonic()
    with pytest.raises(RetryStoppedError) as raised:
        await retry(
            attempt, retry_on=(ConnectionError,), cap=60.0, start=60.0, describe=str, stop=stop
        )
    assert time.monotonic() - started < 5.0  # not the 60 s back-off
    assert attempt.calls == 1
    assert isinstance(raised.value.__cause__, ConnectionError)


async def test_with_stop_already_set_the_first_attempt_is_still_made() -> None:
    stop = asyncio.Event()
    stop.set()
    attempt = Flaky(failures=0)
    result = await retry(attempt, retry_on=(ConnectionError,), cap=1.0, describe=str, stop=stop)
    assert (result, attempt.calls) == ("done", 1)


async def test_with_stop_set_a_failed_attempt_is_not_tried_again() -> None:
    stop = asyncio.Event()
    stop.set()
    attempt = Flaky(failures=1)
    with pytest.raises(RetryStoppedError):
        await retry(attempt, retry_on=(ConnectionError,), cap=1.0, describe=str, stop=stop)
    assert attempt.calls == 1
