"""Practice participation on the real broker and database (contract v1.1
section 6): on and off, a new list applied without restart, replay after sign-up, the purge
of rejected bytes by the command and by the service."""

from __future__ import annotations

import asyncio
import datetime as dt
import time

import asyncpg
import pytest

from ingest.contract.participation import ParticipationPeriod
from ingest.reference.records import ReferenceKind
from ingest.reference.store import load_records
from ingest.settings import Settings
from tests.support.cli import cli_env, run_cli
from tests.support.events import encoded, event, key_of, yesterday
from tests.support.kafka import produce
from tests.support.polling import wait_until
from tests.support.service import running, sample, serving, wait_consumed
from tests.support.suppliers import register_with_topic

pytestmark = pytest.mark.integration

REASON = "practice_not_participating"


@pytest.fixture
def fast(settings: Settings) -> Settings:
    """The test's settings with the participation list checked every 0.2 s."""
    return settings.model_copy(update={"participation_check_seconds": 0.2})


async def load_list(pg: asyncpg.Connection, *periods: tuple[str, dt.date, dt.date | None]) -> int:
    result = await load_records(
        pg,
        ReferenceKind.PARTICIPATION,
        [ParticipationPeriod(*p) for p in periods],
        "participation.csv",
    )
    return result.load_id


async def outcome_of(pg: asyncpg.Connection, practice: str, day: dt.date) -> str | None:
    """'stored' when the practice-day is in daily_requests, else the reason of the rejection of
    its last record sent. One practice-day is one key, so all its records are on one partition,
    in the order sent (the contract's per-key order): the highest source offset is the last
    sent. (rejected_id is not: it numbers a batch's rejections in the order they are written,
    and conflicting revisions are written after the others.)"""
    stored = await pg.fetchval(
        "SELECT 1 FROM triage.daily_requests WHERE practice_code = $1 AND activity_date = $2",
        practice,
        day,
    )
    if stored:
        return "stored"
    reason: str | None = await pg.fetchval(
        "SELECT reason FROM triage.rejected_events WHERE key = $1"
        " ORDER BY source_offset DESC LIMIT 1",
        f"{practice}:{day.isoformat()}".encode(),
    )
    return reason


async def send(settings: Settings, topic: str, supplier: str, practice: str, day: dt.date) -> None:
    e = event(supplier, practice, day)
    await produce(settings, topic, [(key_of(e), encoded(e))])


async def test_without_a_list_every_practice_is_stored_and_with_one_only_participants(
    fast: Settings, pg: asyncpg.Connection, token: str
) -> None:
    supplier = f"{token}-askmygp"
    topic = await register_with_topic(pg, fast, supplier)
    day = yesterday()
    async with running(fast):
        await send(fast, topic, supplier, "B82002", day - dt.timedelta(days=1))
        await wait_consumed(pg, fast, [topic])
        assert await outcome_of(pg, "B82002", day - dt.timedelta(days=1)) == "stored"

        await load_list(pg, ("A81001", day - dt.timedelta(days=30), None))
        await asyncio.sleep(0.5)  # the consumer checks for a new list every 0.2 s
        await send(fast, topic, supplier, "A81001", day)
        await send(fast, topic, supplier, "B82002", day)
        await wait_consumed(pg, fast, [topic])
        assert await outcome_of(pg, "A81001", day) == "stored"
        assert await outcome_of(pg, "B82002", day) == REASON


async def test_a_new_list_is_applied_without_restart_within_a_minute(
    settings: Settings, pg: asyncpg.Connection, token: str
) -> None:
    """With the default check interval: an event sent after the new list is loaded is judged
    by it within 60 s (one event a second until one is stored)."""
    supplier = f"{token}-askmygp"
    topic = await register_with_topic(pg, settings, supplier)
    day = yesterday()
    await load_list(pg, ("A81001", day - dt.timedelta(days=30), None))
    async with running(settings):
        await send(settings, topic, supplier, "B82002", day)
        await wait_consumed(pg, settings, [topic])
        assert await outcome_of(pg, "B82002", day) == REASON

        await load_list(pg, ("A81001", day - dt.timedelta(days=30), None), ("B82002", day, None))
        loaded_at = time.monotonic()

        async def stored_after_sending_again() -> bool:
            await send(settings, topic, supplier, "B82002", day)
            await wait_consumed(pg, settings, [topic])
            return await outcome_of(pg, "B82002", day) == "stored"

        await wait_until(stored_after_sending_again, within=90, what="the new list")
        applied_within = time.monotonic() - loaded_at
    print(f"new participation list applied {applied_within:.1f} s after loading")
    assert applied_within < 60


async def test_replay_after_sign_up_stores_the_earlier_events(
    fast: Settings, pg: asyncpg.Connection, token: str
) -> None:
    supplier = f"{token}-askmygp"
    topic = await register_with_topic(pg, fast, supplier)
    days = [yesterday() - dt.timedelta(days=n) for n in (3, 2, 1)]
    await load_list(pg, ("A81001", days[0], None))
    async with running(fast):
        for day in days:
            await send(fast, topic, supplier, "B82002", day)
        await wait_consumed(pg, fast, [topic])
        assert [await outcome_of(pg, "B82002", d) for d in days] == [REASON] * 3

        # B82002 signs up; the new list grants its history from the first day
        await load_list(pg, ("A81001", days[0], None), ("B82002", days[0], None))
        await asyncio.sleep(0.5)  # the consumer checks for a new list every 0.2 s
        replayed = await run_cli(
            "dlq", "replay", "--reason", REASON, "--supplier", supplier, env=cli_env(fast)
        )
        assert replayed.code == 0, replayed.output
        assert "3 rejected events re-submitted" in replayed.stdout
        await wait_consumed(pg, fast, [topic])
    assert [await outcome_of(pg, "B82002", d) for d in days] == ["stored"] * 3


async def backdate(pg: asyncpg.Connection, days: int) -> None:
    await pg.execute(
        "UPDATE triage.rejected_events SET received_at = now() - make_interval(days => $1)",
        days,
    )


async def bytes_of_rejections(pg: asyncpg.Connection) -> list[tuple[object, ...]]:
    """(reason, backdated, bytes held, bytes purged) of every rejection, sorted: records of
    different keys sent together may be stored in any order, so the test names each rejection
    by what it is, never by its position."""
    rows = await pg.fetch(
        "SELECT reason, received_at < now() - interval '1 day' AS backdated,"
        " key IS NOT NULL AND value IS NOT NULL AS held,"
        " bytes_purged_at IS NOT NULL AS purged FROM triage.rejected_events"
        " ORDER BY 1, 2, 3, 4"
    )
    return [tuple(r) for r in rows]


async def test_the_purge_command_drops_old_bytes_and_keeps_rows_and_reasons(
    fast: Settings, pg: asyncpg.Connection, token: str
) -> None:
    supplier = f"{token}-askmygp"
    topic = await register_with_topic(pg, fast, supplier)
    day = yesterday()
    await load_list(pg, ("A81001", day, None))
    async with running(fast):
        await send(fast, topic, supplier, "B82002", day)
        await send(fast, topic, supplier, "A81001", day + dt.timedelta(days=5))  # future: other
        await wait_consumed(pg, fast, [topic])
    await backdate(pg, 31)
    await send(fast, topic, supplier, "C83003", day)
    async with running(fast):
        await wait_consumed(pg, fast, [topic])
    assert await bytes_of_rejections(pg) == sorted(
        [
            (REASON, True, True, False),  # sent before the backdating
            ("activity_date_out_of_range", True, True, False),
            (REASON, False, True, False),  # sent after it
        ]
    )

    purged = await run_cli("dlq", "purge", env=cli_env(fast))
    assert purged.code == 0, purged.output
    assert "of 1 practice_not_participating rejections received more than 30 days" in (
        purged.stdout
    )
    assert await bytes_of_rejections(pg) == sorted(
        [
            (REASON, True, False, True),  # past the 30 days
            ("activity_date_out_of_range", True, True, False),  # another reason: kept 90 days
            (REASON, False, True, False),  # recent: kept
        ]
    )
    assert "of 0 other rejections received more than 90 days ago" in purged.stdout
    replayed = await run_cli("dlq", "replay", "--reason", REASON, env=cli_env(fast))
    assert "1 rejected events re-submitted" in replayed.stdout  # the purged one cannot be


async def test_the_service_purges_on_its_schedule(
    fast: Settings, pg: asyncpg.Connection, token: str
) -> None:
    supplier = f"{token}-askmygp"
    topic = await register_with_topic(pg, fast, supplier)
    day = yesterday()
    await load_list(pg, ("A81001", day, None))
    async with running(fast):
        await send(fast, topic, supplier, "B82002", day)
        await wait_consumed(pg, fast, [topic])
    await backdate(pg, 31)
    scheduled = fast.model_copy(update={"purge_interval_seconds": 0.5})
    async with serving(scheduled) as service:

        async def counted() -> bool:
            metric = "triage_rejection_bytes_purged_total"
            return sample(service, metric, kind="not_participating") == 1

        await wait_until(counted, within=30, what="the service's purge")
        others = sample(service, "triage_rejection_bytes_purged_total", kind="other")
    assert await bytes_of_rejections(pg) == [(REASON, True, False, True)]
    assert others == 0


async def test_the_bytes_of_other_rejections_are_purged_after_their_own_retention(
    fast: Settings, pg: asyncpg.Connection, token: str
) -> None:
    """Rejections must not grow without bound. Every reason's bytes go after
    INGEST_REJECTION_BYTES_RETENTION_DAYS (90 by default); the row, reason and detail stay."""
    supplier = f"{token}-askmygp"
    topic = await register_with_topic(pg, fast, supplier)
    day = yesterday()
    async with running(fast):
        await send(fast, topic, supplier, "A81001", day + dt.timedelta(days=5))  # future date
        await wait_consumed(pg, fast, [topic])
    await backdate(pg, 89)
    kept = await run_cli("dlq", "purge", env=cli_env(fast))
    assert "of 0 other rejections received more than 90 days ago" in kept.stdout, kept.output
    assert await bytes_of_rejections(pg) == [("activity_date_out_of_range", True, True, False)]

    await backdate(pg, 91)
    purged = await run_cli("dlq", "purge", env=cli_env(fast))
    assert purged.code == 0, purged.output
    assert "of 1 other rejections received more than 90 days ago" in purged.stdout
    assert await bytes_of_rejections(pg) == [("activity_date_out_of_range", True, False, True)]
    detail = await pg.fetchval("SELECT detail FROM triage.rejected_events")
    assert "activity_date" in detail  # the reason's detail stays
