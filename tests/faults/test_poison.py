"""Bad input: the consumer never crashes or stalls, and each record lands where it must.

10,000 seeded random byte strings (spread over registered, inactive, unregistered and badly
named supplier topics), 2,000 truncated or bit-flipped Avro events, empty and null values,
1 MB values (random bytes, a 1 MB practice code, 1 MB of trailing bytes, a 1 MB Confluent
frame), wrong magic bytes, unknown fingerprints and keys that are not UTF-8, interleaved
with valid traffic. One consumer process takes it all; at the end the database equals the
oracle (each bad record rejected once, with the reason its construction meant or, for a
bit-flipped body, the one the decoder and validator give it) and every rejection is on the
DLQ with its original key and value.
"""

from __future__ import annotations

import time
from collections import Counter

import asyncpg
import pytest

from ingest.settings import Settings
from tests.faults.conftest import ARTIFACTS, PrivateStack
from tests.faults.driver import (
    Fleet,
    check_database,
    check_dead_letters,
    consumer_env,
    create_topics,
    expected_from,
    history,
    produce,
    register,
    summary,
    wait_consumed,
)
from tests.faults.traffic import Classifier, Traffic, disagreements

pytestmark = [pytest.mark.faults, pytest.mark.integration]

SEED = 20260407


async def test_poison_never_crashes_or_stalls_the_consumer_and_lands_rejected(
    fault_settings: Settings,
    fault_token: str,
    private_stack: PrivateStack,
    capsys: pytest.CaptureFixture[str],
) -> None:
    began = time.monotonic()
    settings = fault_settings
    traffic = Traffic(fault_token, seed=SEED, partitions=3)
    fuzz_topic = traffic.feed_topics[0]
    poison = traffic.poison(random_values=10_000, avro_mutations=2_000, fuzz_topic=fuzz_topic)
    valid = traffic.mixed(practice_days=300, bad_events=0)
    records = [*valid[:150], *poison, *valid[150:]]
    classify = Classifier(traffic.registered, traffic.today)
    assert disagreements(records, classify) == []

    pg = await asyncpg.connect(settings.database())
    await register(pg, traffic.suppliers, [traffic.inactive])
    await create_topics(
        settings, {t: traffic.partitions if t in traffic.feed_topics else 2 for t in traffic.topics}
    )
    fleet = Fleet(
        settings,
        consumer_env(settings, INGEST_BATCH_MAX_RECORDS="2000"),
        ARTIFACTS / fault_token,
        private_stack.postgres_port,
    )
    try:
        consumer = await fleet.spawn()
        await produce(settings, records)
        took = await wait_consumed(pg, settings, traffic.topics, timeout=120, fleet=fleet)
        assert consumer.alive, consumer.log()[-4000:]
        log = consumer.log()
        assert "Traceback" not in log, log[-4000:]
        codes = await fleet.stop_all()
        assert codes == {consumer.name: 0}, log[-4000:]

        broker = await history(settings, traffic.topics, records, classify)
        expected = expected_from(broker, traffic.registered)
        db = await check_database(pg, settings, expected)
        dlq = await check_dead_letters(settings, expected)
        kinds = Counter(r.kind for r in records)
        with capsys.disabled():
            print(
                "\n"
                + summary(
                    "poison",
                    expected,
                    db,
                    dlq,
                    {
                        "bad input built": ", ".join(f"{k} {n}" for k, n in sorted(kinds.items())),
                        "consumed in": f"{took:.1f} s after the last record was produced",
                        "test took": f"{time.monotonic() - began:.1f} s",
                    },
                )
            )
        assert not db.problems, "\n".join(db.problems)
        assert not dlq.problems, "\n".join(dlq.problems)
        assert expected.reasons["undecodable"] > 8_000
        assert expected.reasons["unknown_schema"] > 1_000
    finally:
        await fleet.close()
        await pg.close()
