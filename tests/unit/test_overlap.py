"""The next batch's triage, done in chunks on the event loop while the previous batch is
written, gives exactly the whole batch's triage and key check; and the write in flight holds
the assignment lock until its transaction is over, one write at a time."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Callable, Coroutine
from typing import Any

import pytest

from ingest.consumer.decoding import Decoder
from ingest.consumer.key_check import mismatched_keys
from ingest.consumer.overlap import WriteInFlight, triage_in_chunks
from ingest.consumer.pipeline import triage
from ingest.consumer.types import RawRecord
from ingest.contract.validation import Limits
from tests.support.events import TODAY, encoded, event, key_of

pytestmark = pytest.mark.unit

LIMITS = Limits(today=TODAY, horizon_days=400, plausibility_cap=100_000)
REGISTERED = {"askmygp", "klinik"}
DAY = TODAY - dt.timedelta(days=1)


def mixed_records() -> list[RawRecord]:
    """Two partitions of a registered supplier's topic and one of an unregistered one:
    valid events, refused ones (too large a count, a date in the future, bytes that are no
    Avro), events whose key names another practice, records with no key."""
    records = []
    for i in range(23):
        supplier = "askmygp" if i % 5 else "nobody"
        payload = event(supplier, f"A{81000 + i}", DAY, total=i * 10)
        if i % 7 == 3:
            payload["total_requests"] = 100_001
        if i % 11 == 4:
            payload["activity_date"] = TODAY + dt.timedelta(days=3)
        value = b"\x00garbage" if i % 9 == 8 else encoded(payload)
        key: bytes | None = key_of(payload)
        if i % 4 == 1:
            key = b"B99999:" + DAY.isoformat().encode()  # names another practice
        if i % 6 == 2:
            key = None
        partition = i % 2
        offset = 100 + i // 2
        records.append(RawRecord(f"triage.daily.{supplier}", partition, offset, key, value))
    return records


@pytest.mark.parametrize("chunk", [1, 2, 5, 23, 1000])
async def test_triage_in_chunks_is_the_whole_batchs_triage_and_key_check(chunk: int) -> None:
    records = mixed_records()
    decoder = Decoder()
    whole = triage(records, decoder, REGISTERED, LIMITS)
    triaged, mismatched = await triage_in_chunks(
        records, decoder, REGISTERED, LIMITS, {}, chunk=chunk
    )
    assert whole.valid and whole.rejections  # the batch has both kinds
    assert triaged == whole
    expected = mismatched_keys(whole.valid, whole.valid_records)
    assert expected  # and key mismatches
    assert mismatched == expected


async def test_triage_in_chunks_lets_other_tasks_run_between_chunks() -> None:
    records = mixed_records()
    chunk = 5
    ran: list[int] = []

    async def beside() -> None:
        while True:
            ran.append(1)
            await asyncio.sleep(0)

    other = asyncio.create_task(beside())
    await asyncio.sleep(0)
    before = len(ran)
    await triage_in_chunks(records, Decoder(), REGISTERED, LIMITS, {}, chunk=chunk)
    other.cancel()
    chunks = -(-len(records) // chunk)
    assert len(ran) - before >= chunks - 1


Write = Callable[[Callable[[], None]], Coroutine[Any, Any, None]]


def writer(log: list[str], name: str, hold: asyncio.Event) -> Write:
    async def write(release: Callable[[], None]) -> None:
        log.append(f"{name} begins")
        await hold.wait()
        log.append(f"{name} stored")
        release()

    return write


async def test_the_write_in_flight_holds_the_lock_until_it_releases_it() -> None:
    lock = asyncio.Lock()
    in_flight = WriteInFlight(lock)
    log: list[str] = []
    hold = asyncio.Event()

    async def admit() -> bool:
        return True

    await in_flight.start(admit, writer(log, "N", hold))
    await asyncio.sleep(0)
    assert lock.locked() and log == ["N begins"]
    with pytest.raises(RuntimeError):  # the next batch waits for this one
        await in_flight.start(admit, writer(log, "N+1", hold))
    hold.set()
    await in_flight.drain()
    assert log == ["N begins", "N stored"]
    assert not lock.locked()


async def test_a_batch_not_admitted_is_not_written_and_the_lock_is_free() -> None:
    lock = asyncio.Lock()
    in_flight = WriteInFlight(lock)
    log: list[str] = []

    async def refuse() -> bool:
        assert lock.locked()  # admission is decided with the lock held
        return False

    await in_flight.start(refuse, writer(log, "N", asyncio.Event()))
    await in_flight.drain()
    assert log == [] and not lock.locked()


@pytest.mark.parametrize("begun", [False, True])
async def test_an_abandoned_write_is_cancelled_and_the_lock_freed(begun: bool) -> None:
    lock = asyncio.Lock()
    in_flight = WriteInFlight(lock)
    log: list[str] = []

    async def admit() -> bool:
        return True

    await in_flight.start(admit, writer(log, "N", asyncio.Event()))
    if begun:
        await asyncio.sleep(0)
    await in_flight.abandon()
    assert "N stored" not in log
    assert log == (["N begins"] if begun else [])
    assert not lock.locked()
