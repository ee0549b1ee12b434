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

from collections import Counter

import pytest

from tests.faults.driver import produce
from tests.faults.scenario import Scenario
from tests.faults.traffic import disagreements
from tests.support.service import wait_consumed

pytestmark = [pytest.mark.faults, pytest.mark.integration]

SEED = 20260407


async def test_poison_never_crashes_or_stalls_the_consumer_and_lands_rejected(
    scenario: Scenario,
) -> None:
    traffic = await scenario.prepare(SEED, partitions=3)
    fuzz_topic = traffic.feed_topics[0]
    poison = traffic.poison(random_values=10_000, avro_mutations=2_000, fuzz_topic=fuzz_topic)
    valid = traffic.mixed(practice_days=300, bad_events=0)
    records = [*valid[:150], *poison, *valid[150:]]
    assert disagreements(records, scenario.classify) == []
    fleet = scenario.fleet(INGEST_BATCH_MAX_RECORDS="2000")

    consumer = await fleet.spawn()
    await produce(scenario.settings, records)
    took = await wait_consumed(
        scenario.pg, scenario.settings, traffic.topics, timeout=120, alive=fleet.assert_alive
    )
    assert consumer.alive, consumer.log()[-4000:]
    log = consumer.log()
    assert "Traceback" not in log, log[-4000:]
    codes = await fleet.stop_all()
    assert codes == {consumer.name: 0}, log[-4000:]

    verdict = await scenario.verify(await scenario.history(records))
    kinds = Counter(r.kind for r in records)
    scenario.report(
        "poison",
        verdict,
        {
            "bad input built": ", ".join(f"{k} {n}" for k, n in sorted(kinds.items())),
            "consumed in": f"{took:.1f} s after the last record was produced",
        },
    )
    verdict.assert_clean()
    assert verdict.expected.reasons["undecodable"] > 8_000
    assert verdict.expected.reasons["unknown_schema"] > 1_000
