"""Attacker-sized fields must not double the rejections' storage: an invalid record's stored detail
repeated the attacker's 1 MB field beside the stored value, so sixty 1 MB records took twice their
size in ``triage.rejected_events``. The value is kept (nothing lost); the detail is bounded."""

from __future__ import annotations

import datetime as dt
import os

import asyncpg
import pytest

from ingest.consumer.decoding import Decoder
from ingest.consumer.pipeline import triage
from ingest.consumer.store import Store
from ingest.consumer.types import RawRecord
from ingest.contract.model import Outcome
from ingest.contract.validation import Limits
from tests.support.events import TODAY, encoded, event

pytestmark = [pytest.mark.security, pytest.mark.slow]

LIMITS = Limits(today=TODAY)
TOPIC = "triage.daily.askmygp"
RECORDS = 60
FIELD_BYTES = 1_000_000


def _huge_record(offset: int) -> RawRecord:
    code = os.urandom(FIELD_BYTES // 2).hex()  # incompressible text: TOAST cannot hide a copy
    payload = event(practice_code=code, activity_date=TODAY - dt.timedelta(days=1))
    return RawRecord(TOPIC, 0, offset, None, encoded(payload))


async def test_sixty_1_mb_invalid_records_take_little_more_than_their_values(
    pg: asyncpg.Connection,
) -> None:
    await pg.execute(
        "INSERT INTO triage.suppliers (supplier_id, name) VALUES ('askmygp', 'AskMyGP')"
        " ON CONFLICT DO NOTHING"
    )
    records = [_huge_record(n) for n in range(RECORDS)]
    values = sum(len(r.value or b"") for r in records)
    size = "SELECT pg_total_relation_size('triage.rejected_events')"
    before = await pg.fetchval(size)

    triaged = triage(records, Decoder(), {"askmygp"}, LIMITS)
    result = await Store(pg).write_batch("g", triaged, {(TOPIC, 0): RECORDS})
    grown = await pg.fetchval(size) - before

    assert result.outcomes[("askmygp", Outcome.REJECTED)] == RECORDS
    stored = await pg.fetchval(
        "SELECT sum(octet_length(value)) FROM triage.rejected_events WHERE supplier_id = 'askmygp'"
    )
    assert stored == values  # every value kept whole
    longest = await pg.fetchval("SELECT max(length(detail)) FROM triage.rejected_events")
    assert longest < 300  # the practice code quoted to 100 characters: the whole detail is stored
    # measured: 62.7 MB for 60.0 MB of values; 124.9 MB with the detail uncut (before ef0b447)
    assert grown < 1.15 * values, f"{grown / 1e6:.1f} MB for {values / 1e6:.1f} MB of values"
