"""The feedback topic on the secure broker (each supplier reads only its own outcomes): ``ingest
suppliers add`` creates ``triage.feedback.<supplier_id>``; the supplier reads its own outcomes with
its credentials alone, and another supplier's credentials cannot read them."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import asyncpg
import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.errors import TopicAuthorizationFailedError

from ingest.contract.model import Outcome, topic_for
from ingest.contract.outcomes import feedback_topic
from ingest.devstack.kafka_config import REAUTH_MS
from ingest.kafka import client_options, ensure_topics
from ingest.settings import Settings
from ingest.supplier.counts import DailyCounts
from ingest.supplier.producer import SupplierProducer
from tests.support.events import encoded, event, key_of, yesterday
from tests.support.kafka import end_offsets, produce
from tests.support.outcomes import read_outcomes, wait_outbox_empty
from tests.support.service import running, wait_consumed

from .conftest import SecureBroker, add_with_credentials, cli_env, run_cli

pytestmark = pytest.mark.security


async def test_only_the_supplier_reads_its_feedback_topic(
    settings: Settings, secure_broker: SecureBroker, token: str, pg: asyncpg.Connection
) -> None:
    a, b = f"{token}-alpha", f"{token}-bravo"
    as_a = await add_with_credentials(settings, secure_broker, a)
    as_b = await add_with_credentials(settings, secure_broker, b)
    await ensure_topics(secure_broker.admin(settings), [settings.dlq_topic], 1)

    payload = event(supplier_id=a, practice_code="A81001")
    await produce(as_a, topic_for(a), [(key_of(payload), encoded(payload))])
    async with running(secure_broker.consumer(settings)):
        await wait_consumed(pg, secure_broker.admin(settings), [topic_for(a)])
        await wait_outbox_empty(pg)  # written with the batch, then relayed
        assert await pg.fetchval("SELECT count(*) FROM triage.daily_requests") == 1

    # A reads its outcome with its own credentials alone.
    ((key, outcome),) = await read_outcomes(as_a, a, at_least=1)
    assert (key, outcome.outcome.value, outcome.event_id) == (
        key_of(payload),
        "accepted",
        payload["event_id"],
    )

    # B does not even see A's feedback topic, and cannot read it by partition.
    admin = AIOKafkaAdminClient(**client_options(as_b))
    await admin.start()
    try:
        visible = set(await admin.list_topics())
    finally:
        await admin.close()
    assert feedback_topic(a) not in visible
    assert feedback_topic(b) in visible
    snoop = AIOKafkaConsumer(**client_options(as_b), group_id=None)
    await snoop.start()
    try:
        snoop.assign([TopicPartition(feedback_topic(a), 0)])
        try:
            got = await snoop.getmany(timeout_ms=5000)
        except TopicAuthorizationFailedError:
            got = {}
        assert got == {}
    finally:
        await snoop.stop()


async def supplier_with_feed(
    settings: Settings, broker: SecureBroker, supplier: str, folder: Path
) -> tuple[Settings, dict[str, str], Path]:
    """A supplier added with credentials on the secure stack, its CLI environment (its
    credentials alone: no database URL) and a feed of two good rows (lines 2 and 3)."""
    as_supplier = await add_with_credentials(settings, broker, supplier)
    await ensure_topics(broker.admin(settings), [settings.dlq_topic], 1)
    day = yesterday()
    feed = folder / "feed.csv"
    feed.write_text(
        "practice_code,activity_date,total_requests,revision\n"
        f"A81001,{day},5,1\n"  # line 2: accepted
        f"A81002,{day},6,1\n"  # line 3: accepted
    )
    env = cli_env(as_supplier)
    del env["INGEST_DATABASE_URL"]  # the supplier has no database access
    return as_supplier, env, feed


async def test_push_wait_works_with_the_supplier_s_credentials_alone(
    settings: Settings, secure_broker: SecureBroker, token: str, tmp_path: Path
) -> None:
    supplier = f"{token}-alpha"
    _, env, feed = await supplier_with_feed(settings, secure_broker, supplier, tmp_path)
    async with running(secure_broker.consumer(settings)):
        result = await run_cli(
            "push", "--supplier", supplier, str(feed), "--wait", "--wait-timeout", "60", env=env
        )
    assert result.code == 0, result.output
    fates = [line for line in result.stdout.splitlines() if line.startswith("line ")]
    assert fates == ["line 2: accepted", "line 3: accepted"], result.output


@pytest.mark.slow
async def test_outcomes_are_awaited_across_the_broker_s_re_authentication(
    settings: Settings,
    secure_broker: SecureBroker,
    token: str,
    tmp_path: Path,
    pg: asyncpg.Connection,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The secure broker ends every client session after connections.max.reauth.ms (60 s):
    aiokafka does not re-authenticate, so the broker closes its connections (a fetch in flight
    fails). ``ingest push --wait`` and ``SupplierProducer.await_outcomes``, started before
    that, must still get every outcome when the service starts only ~65 s after the rows were
    sent."""
    supplier = f"{token}-alpha"
    as_supplier, env, feed = await supplier_with_feed(settings, secure_broker, supplier, tmp_path)
    began = time.monotonic()
    args = ("push", "--supplier", supplier, str(feed), "--wait", "--wait-timeout", "200")
    push = asyncio.create_task(run_cli(*args, env=env, within=260))
    day = yesterday()
    counts = [DailyCounts("B82001", day, 3), DailyCounts("B82002", day, 4)]
    async with SupplierProducer(supplier, as_supplier) as producer:
        deliveries = await producer.send_many(counts)
        waiting = asyncio.create_task(producer.await_outcomes(deliveries, within=200))
        while sum((await end_offsets(as_supplier, [topic_for(supplier)])).values()) < 4:
            assert not push.done(), push.result().output
            await asyncio.sleep(0.5)
        await asyncio.sleep(REAUTH_MS / 1000 + 5)  # both wait on, past the sessions' end
        assert not push.done() and not waiting.done()
        async with running(secure_broker.consumer(settings)):
            await wait_consumed(pg, secure_broker.admin(settings), [topic_for(supplier)])
            result = await push
            outcomes = await waiting
    waited = time.monotonic() - began
    assert waited > REAUTH_MS / 1000, waited
    closed = [  # the in-process waiter's fetch connection, closed by the broker meanwhile
        r for r in caplog.records if r.name == "aiokafka.consumer.fetcher" and "closed" in r.message
    ]
    assert closed, "the broker closed no fetch connection: nothing re-authentication tested"
    assert result.code == 0, result.output
    fates = [line for line in result.stdout.splitlines() if line.startswith("line ")]
    assert fates == ["line 2: accepted", "line 3: accepted"], result.output
    assert [o and o.outcome for o in outcomes] == [Outcome.ACCEPTED, Outcome.ACCEPTED]
    assert [o and o.source_offset for o in outcomes] == [d.offset for d in deliveries]
