"""Record keys that disagree with their body are counted per supplier and activity date in the
batch's transaction (keys stay advisory, disagreements are seen): a record another consumer already
stored (before the fence) is not counted again."""

from __future__ import annotations

import datetime as dt

import asyncpg
import pytest

from ingest.consumer.decoding import Decoder
from ingest.consumer.key_check import mismatched_keys
from ingest.consumer.pipeline import triage
from ingest.consumer.store import BatchResult, Store
from ingest.consumer.types import RawRecord
from ingest.contract.validation import Limits
from tests.support.events import TODAY, encoded, event, key_of

pytestmark = pytest.mark.security

LIMITS = Limits(today=TODAY)
TOPIC = "triage.daily.askmygp"
DAY = TODAY - dt.timedelta(days=1)


def _record(offset: int, practice: str, key_practice: str) -> RawRecord:
    payload = event(practice_code=practice, activity_date=DAY)
    key = key_of(dict(payload, practice_code=key_practice))
    return RawRecord(TOPIC, 0, offset, key, encoded(payload))


async def _store(store: Store, records: list[RawRecord]) -> BatchResult:
    triaged = triage(records, Decoder(), {"askmygp"}, LIMITS)
    return await store.write_batch(
        "g",
        triaged,
        {(TOPIC, 0): records[-1].offset + 1},
        key_mismatched=mismatched_keys(triaged.valid, triaged.valid_records),
    )


async def test_a_record_stored_before_the_fence_is_not_counted_again(
    pg: asyncpg.Connection,
) -> None:
    await pg.execute(
        "INSERT INTO triage.suppliers (supplier_id, name) VALUES ('askmygp', 'AskMyGP')"
        " ON CONFLICT DO NOTHING"
    )
    store = Store(pg)
    first = [_record(0, "A81001", "Z99999"), _record(1, "A81002", "A81002")]
    counted_first = await _store(store, first)
    counted_again = await _store(store, [*first, _record(2, "A81003", "A81004")])

    rows = await pg.fetch(
        "SELECT supplier_id, activity_date, mismatches FROM triage.record_key_mismatches"
    )
    assert [tuple(r) for r in rows] == [("askmygp", DAY, 2)]
    assert counted_first.key_mismatches == {"askmygp": 1}
    assert counted_again.key_mismatches == {"askmygp": 1}  # the redelivered one left out
