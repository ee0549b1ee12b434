"""The store's cheap paths keep the general path's effect.

Current rows of keys with no stored revision are COPied straight into ``daily_requests`` in a
savepoint; a row there that nothing predicted (here planted by hand) sends them through the
guarded upsert instead. Records before the fence are still dropped when the batch holds some.
"""

from __future__ import annotations

import datetime as dt
import uuid

import asyncpg

from ingest.consumer.decoding import Decoder
from ingest.consumer.pipeline import triage
from ingest.consumer.store import Store
from ingest.consumer.types import RawRecord
from ingest.contract.model import Outcome
from ingest.contract.validation import Limits
from tests.support.events import TODAY, encoded, event

LIMITS = Limits(today=TODAY)
TOPIC = "triage.daily.askmygp"
DAY = TODAY - dt.timedelta(days=1)


async def _supplier(pg: asyncpg.Connection) -> None:
    await pg.execute(
        "INSERT INTO triage.suppliers (supplier_id, name) VALUES ('askmygp', 'AskMyGP')"
        " ON CONFLICT DO NOTHING"
    )


def _record(offset: int, practice: str, revision: int, total: int) -> RawRecord:
    payload = event(practice_code=practice, activity_date=DAY, revision=revision, total=total)
    return RawRecord(TOPIC, 0, offset, None, encoded(payload, 2))


async def test_an_unexpected_current_row_sends_fresh_keys_through_the_guarded_upsert(
    pg: asyncpg.Connection,
) -> None:
    await _supplier(pg)
    await pg.execute(
        "INSERT INTO triage.daily_requests (supplier_id, practice_code, activity_date, revision,"
        " total_requests, event_id, generated_at) VALUES ('askmygp', 'A81001', $1, 5, 99, $2,"
        " now())",
        DAY,
        uuid.uuid4(),
    )
    records = [_record(0, "A81001", 1, 10), _record(1, "A81002", 1, 20)]
    triaged = triage(records, Decoder(), {"askmygp"}, LIMITS)
    result = await Store(pg).write_batch("g", triaged, {(TOPIC, 0): 2})
    assert result.outcomes[("askmygp", Outcome.ACCEPTED)] == 2
    rows = await pg.fetch(
        "SELECT practice_code, revision, total_requests FROM triage.daily_requests"
        " ORDER BY practice_code"
    )
    # the planted row keeps its higher revision (the upsert's guard); the other key is added
    assert [tuple(r) for r in rows] == [("A81001", 5, 99), ("A81002", 1, 20)]
    assert await pg.fetchval("SELECT count(*) FROM triage.daily_request_revisions") == 2


async def test_records_before_the_fence_are_dropped(pg: asyncpg.Connection) -> None:
    await _supplier(pg)
    store = Store(pg)
    first = [_record(0, "A81001", 1, 10), _record(1, "A81002", 1, 20)]
    await store.write_batch("g", triage(first, Decoder(), {"askmygp"}, LIMITS), {(TOPIC, 0): 2})
    again = [*first, _record(2, "A81003", 1, 30)]
    result = await store.write_batch(
        "g", triage(again, Decoder(), {"askmygp"}, LIMITS), {(TOPIC, 0): 3}
    )
    assert result.skipped == 2
    assert result.outcomes[("askmygp", Outcome.ACCEPTED)] == 1
    assert await pg.fetchval("SELECT count(*) FROM triage.daily_requests") == 3
