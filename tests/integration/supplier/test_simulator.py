"""The simulator's traffic means what it says: checked by the consumer's own pipeline (pure,
no broker), every bad record is rejected for the rule it was built to break, every other
record passes, and the weekly pattern and the silent supplier are there."""

from __future__ import annotations

import datetime as dt
from collections import Counter

from ingest.consumer.decoding import Decoder
from ingest.consumer.pipeline import check_record
from ingest.consumer.types import RawRecord
from ingest.contract.model import DailyEvent, Rejection
from ingest.contract.validation import Limits
from ingest.supplier.simulator import BAD_KINDS, SILENT_SUPPLIER, Kind, demo_suppliers, traffic

TODAY = dt.date(2026, 3, 4)  # a Wednesday


def test_bad_records_break_exactly_their_rule_and_the_rest_pass() -> None:
    suppliers = demo_suppliers("sim-", 300, seed=3)
    records = traffic(suppliers, TODAY, days=28, seed=3)
    registered = {s.supplier_id for s in suppliers}
    decoder = Decoder()
    broken: Counter[str] = Counter()
    for offset, r in enumerate(records):
        result = check_record(
            RawRecord(r.topic, 0, offset, r.key, r.value), decoder, registered, Limits(TODAY)
        )
        if r.kind is Kind.BAD:
            assert isinstance(result, Rejection), r
            assert result.reason.value == r.note, (result.detail, r.note)
            broken[r.note] += 1
        else:
            assert isinstance(result, DailyEvent), result
    assert set(broken) == set(BAD_KINDS)  # 28 days x 300 practices draw every kind


def test_weekly_pattern_resends_restatements_and_a_silent_supplier() -> None:
    suppliers = demo_suppliers("sim-", 300, seed=3)
    records = traffic(suppliers, TODAY, days=28, seed=3)
    decoder = Decoder()
    by_weekday: Counter[int] = Counter()
    last_day: dict[str, dt.date] = {}
    for r in records:
        if r.kind is not Kind.DAILY:
            continue
        event = decoder.decode(r.value)
        by_weekday[event["activity_date"].weekday()] += event["total_requests"]
        last_day[r.supplier_id] = max(
            last_day.get(r.supplier_id, TODAY.min), event["activity_date"]
        )
    monday, friday, saturday, sunday = (by_weekday[d] for d in (0, 4, 5, 6))
    assert monday > friday > 5 * saturday
    assert saturday > sunday > 0
    kinds = Counter(r.kind for r in records)
    assert all(kinds[k] > 0 for k in Kind)
    silent = next(s for s in suppliers if s.supplier_id.endswith(SILENT_SUPPLIER))
    assert last_day[silent.supplier_id] == TODAY - dt.timedelta(days=1 + silent.silent_days)
    others = {d for sid, d in last_day.items() if sid != silent.supplier_id}
    assert others == {TODAY - dt.timedelta(days=1)}
    assert len({p.code for s in suppliers for p in s.practices}) == 300  # one supplier each
