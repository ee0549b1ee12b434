"""CONTRACT section 3 on the real broker and database: every outcome, every reason code."""

from __future__ import annotations

import datetime as dt

import asyncpg
import pytest

from ingest.analytics.quality_report import collect, render_html, render_markdown
from ingest.consumer.dead_letters import headers_dict
from ingest.settings import Settings
from tests.support.bad_records import bad_records
from tests.support.events import encoded, event, key_of, yesterday
from tests.support.kafka import produce, read_topic
from tests.support.service import running, sample, wait_consumed
from tests.support.suppliers import register_with_topic

pytestmark = pytest.mark.integration


async def current_rows(pg: asyncpg.Connection) -> list[tuple[object, ...]]:
    rows = await pg.fetch(
        "SELECT practice_code, revision, total_requests FROM triage.daily_requests"
        " ORDER BY practice_code"
    )
    return [tuple(r) for r in rows]


async def revisions(pg: asyncpg.Connection, practice: str) -> list[tuple[int, int]]:
    rows = await pg.fetch(
        "SELECT revision, total_requests FROM triage.daily_request_revisions"
        " WHERE practice_code = $1 ORDER BY revision",
        practice,
    )
    return [(r[0], r[1]) for r in rows]


async def test_every_row_of_the_outcome_table(
    settings: Settings, pg: asyncpg.Connection, token: str
) -> None:
    supplier = f"{token}-askmygp"
    topic = await register_with_topic(pg, settings, supplier)
    day = yesterday()
    sent = [
        event(supplier, "A81001", day, 1, 10),  # accepted (new key)
        event(supplier, "A81001", day, 3, 30),  # accepted (higher revision)
        event(supplier, "A81001", day, 2, 20),  # superseded (late, lower)
        event(supplier, "A81001", day, 3, 30),  # duplicate (same figures, new event_id)
        event(supplier, "A81001", day, 3, 31),  # conflicting_revision
    ]
    await produce(settings, topic, [(key_of(e), encoded(e)) for e in sent], partition=0)
    async with running(settings) as service:
        await wait_consumed(pg, settings, [topic])
    assert sample(service, "triage_events_total", supplier=supplier, outcome="accepted") == 2
    assert sample(service, "triage_events_total", supplier=supplier, outcome="superseded") == 1
    assert sample(service, "triage_events_total", supplier=supplier, outcome="duplicate") == 1
    assert sample(service, "triage_events_total", supplier=supplier, outcome="rejected") == 1
    conflicts = sample(
        service, "triage_rejected_events_total", supplier=supplier, reason="conflicting_revision"
    )
    assert conflicts == 1
    assert await current_rows(pg) == [("A81001", 3, 30)]
    assert await revisions(pg, "A81001") == [(1, 10), (2, 20), (3, 30)]
    rejected = await pg.fetch(
        "SELECT reason, detail, value, source_offset FROM triage.rejected_events"
    )
    assert [(r["reason"], r["source_offset"]) for r in rejected] == [("conflicting_revision", 4)]
    assert rejected[0]["value"] == encoded(sent[4])
    assert "total_requests 30 stored vs 31 sent" in rejected[0]["detail"]


async def test_out_of_order_restatements_keep_the_highest_revision(
    settings: Settings, pg: asyncpg.Connection, token: str
) -> None:
    supplier = f"{token}-klinik"
    topic = await register_with_topic(pg, settings, supplier)
    day = yesterday()
    sent = [event(supplier, "B82001", day, r, r * 10) for r in (3, 1, 2)]
    await produce(settings, topic, [(key_of(e), encoded(e)) for e in sent], partition=1)
    async with running(settings) as service:
        await wait_consumed(pg, settings, [topic])
    assert sample(service, "triage_events_total", supplier=supplier, outcome="superseded") == 2
    assert await current_rows(pg) == [("B82001", 3, 30)]
    assert await revisions(pg, "B82001") == [(1, 10), (2, 20), (3, 30)]


async def test_restatement_across_batches_and_restarts(
    settings: Settings, pg: asyncpg.Connection, token: str
) -> None:
    supplier = f"{token}-accurx"
    topic = await register_with_topic(pg, settings, supplier)
    day = yesterday()
    first = event(supplier, "C83001", day, 1, 5)
    async with running(settings):
        await produce(settings, topic, [(key_of(first), encoded(first))])
        await wait_consumed(pg, settings, [topic])
    restated = event(supplier, "C83001", day, 2, 7)
    resend = event(supplier, "C83001", day, 1, 5)
    await produce(settings, topic, [(key_of(e), encoded(e)) for e in (restated, resend)])
    async with running(settings) as service:
        await wait_consumed(pg, settings, [topic])
    assert sample(service, "triage_events_total", supplier=supplier, outcome="accepted") == 1
    assert sample(service, "triage_events_total", supplier=supplier, outcome="duplicate") == 1
    assert await current_rows(pg) == [("C83001", 2, 7)]
    assert await revisions(pg, "C83001") == [(1, 5), (2, 7)]


async def test_every_reason_code_lands_in_the_table_and_on_the_dlq_with_headers(
    settings: Settings, pg: asyncpg.Connection, token: str
) -> None:
    supplier = f"{token}-patchs"
    topic = await register_with_topic(pg, settings, supplier)
    unregistered_topic = f"triage.daily.{token}-nobody"
    from ingest.kafka import ensure_topics

    await ensure_topics(settings, [unregistered_topic], 1)
    day = yesterday()
    bad = bad_records(supplier, f"{token}-other", day)
    good = [event(supplier, f"D8400{i}", day, total=i) for i in range(3)]
    mixed = [
        (key_of(good[0]), encoded(good[0])),
        *bad.values(),
        *[(key_of(e), encoded(e)) for e in good[1:]],
    ]
    await produce(settings, topic, mixed, partition=0)
    stray = event(f"{token}-nobody", "A81001", day)
    await produce(settings, unregistered_topic, [(key_of(stray), encoded(stray))])
    conflict = [event(supplier, "E85001", day, 1, 1), event(supplier, "E85001", day, 1, 2)]
    await produce(settings, topic, [(key_of(e), encoded(e)) for e in conflict], partition=1)

    async with running(settings):
        await wait_consumed(pg, settings, [topic, unregistered_topic])
    rows = await pg.fetch("SELECT * FROM triage.rejected_events ORDER BY rejected_id")
    by_reason = {r["reason"]: r for r in rows}
    expected = {*bad, "unknown_supplier", "conflicting_revision"}
    assert set(by_reason) == expected
    assert len(rows) == len(expected)
    for reason, (key, value) in bad.items():
        assert (by_reason[reason]["key"], by_reason[reason]["value"]) == (key, value), reason
        assert by_reason[reason]["supplier_id"] == supplier
    assert by_reason["unknown_supplier"]["supplier_id"] is None
    assert "is not registered" in by_reason["unknown_supplier"]["detail"]
    # the good events around the bad ones are all stored
    stored = await pg.fetchval("SELECT count(*) FROM triage.daily_requests")
    assert stored == len(good) + 1

    letters = await read_topic(settings, settings.dlq_topic, len(expected))
    assert len(letters) == len(expected)
    seen = {}
    for letter in letters:
        headers = headers_dict(letter.headers)
        seen[headers["triage.error.reason"]] = (letter, headers)
    assert set(seen) == expected
    letter, headers = seen["negative_count"]
    original = by_reason["negative_count"]
    assert letter.value == original["value"]
    assert headers["triage.source.topic"] == topic
    assert headers["triage.source.partition"] == str(original["source_partition"])
    assert headers["triage.source.offset"] == str(original["source_offset"])
    assert headers["triage.error.detail"] == original["detail"]


async def test_new_supplier_topic_is_picked_up_without_restart(
    settings: Settings, pg: asyncpg.Connection, token: str
) -> None:
    async with running(settings):
        await pg.execute("SELECT 1")
        topic = await register_with_topic(pg, settings, f"{token}-late")
        e = event(f"{token}-late", "F86001", yesterday())
        await produce(settings, topic, [(key_of(e), encoded(e))])
        await wait_consumed(pg, settings, [topic], timeout=60)
    assert await current_rows(pg) == [("F86001", 1, 10)]


async def test_freshness_activity_is_recorded_with_the_batch(
    settings: Settings, pg: asyncpg.Connection, token: str
) -> None:
    supplier = f"{token}-fresh"
    topic = await register_with_topic(pg, settings, supplier)
    days = [yesterday() - dt.timedelta(days=n) for n in (0, 3)]
    events_ = [event(supplier, "G87001", d) for d in days]
    await produce(settings, topic, [(key_of(e), encoded(e)) for e in events_])
    async with running(settings):
        await wait_consumed(pg, settings, [topic])
    row = await pg.fetchrow(
        "SELECT status, latest_activity_date FROM triage.supplier_freshness WHERE supplier_id = $1",
        supplier,
    )
    assert (row["status"], row["latest_activity_date"]) == ("ok", yesterday())


async def test_latency_histograms_count_each_stored_revision_and_batch(
    settings: Settings, pg: asyncpg.Connection, token: str
) -> None:
    supplier = f"{token}-askmygp"
    topic = await register_with_topic(pg, settings, supplier)
    day = yesterday()
    two_hours_ago = dt.datetime.now(dt.UTC) - dt.timedelta(hours=2)
    sent = [
        event(supplier, "A81001", day, 2, 20),  # stored (accepted)
        event(supplier, "A81001", day, 1, 10, generated_at=two_hours_ago),  # stored (superseded)
        event(supplier, "A81001", day, 2, 20),  # duplicate: nothing stored
        event(supplier, "A81002", day, -1, 10),  # rejected: nothing stored
    ]
    await produce(settings, topic, [(key_of(e), encoded(e)) for e in sent], partition=0)
    async with running(settings) as service:
        await wait_consumed(pg, settings, [topic])
    delay = "triage_ingest_delay_seconds"
    assert sample(service, f"{delay}_count", supplier=supplier) == 2
    assert sample(service, f"{delay}_bucket", supplier=supplier, le="3600.0") == 1
    assert sample(service, f"{delay}_bucket", supplier=supplier, le="7200.0") == 1
    assert sample(service, f"{delay}_bucket", supplier=supplier, le="21600.0") == 2
    assert sample(service, "triage_batch_records_sum") == len(sent)
    batches = sample(service, "triage_batch_records_count")
    assert batches >= 1
    assert sample(service, "triage_batch_store_duration_seconds_count") == batches
    assert 0 < sample(service, "triage_batch_store_duration_seconds_sum") < 30


@pytest.mark.security
async def test_a_key_that_disagrees_with_the_body_is_stored_and_counted(
    pg: asyncpg.Connection, settings: Settings, token: str
) -> None:
    """Keys stay advisory (the body decides), but a disagreeing one is
    counted in triage_record_key_mismatches_total."""
    supplier = f"{token}-keys"
    topic = await register_with_topic(pg, settings, supplier, partitions=1)
    right, wrong = event(supplier_id=supplier), event(supplier_id=supplier, practice_code="B82001")
    other = dict(wrong, practice_code="C83001")  # the key names C83001, the body B82001
    async with running(settings) as service:
        await produce(
            settings, topic, [(key_of(right), encoded(right)), (key_of(other), encoded(wrong))]
        )
        await wait_consumed(pg, settings, [topic])
        mismatches = sample(service, "triage_record_key_mismatches_total", supplier=supplier)
    stored = await pg.fetch(
        "SELECT practice_code FROM triage.daily_requests WHERE supplier_id = $1 ORDER BY 1",
        supplier,
    )
    assert [r["practice_code"] for r in stored] == [right["practice_code"], "B82001"]
    assert mismatches == 1


@pytest.mark.security
async def test_keys_that_disagree_with_the_body_are_counted_per_day_and_in_the_quality_report(
    pg: asyncpg.Connection, settings: Settings, token: str
) -> None:
    """A key that disagrees with its body is seen: the disagreeing keys are stored per supplier and
    activity date in the batch's transaction (each record once) and shown in the supplier's quality
    report."""
    supplier = f"{token}-keyreport"
    topic = await register_with_topic(pg, settings, supplier, partitions=1)
    day, other_day = yesterday(2), yesterday(3)
    bodies = [
        event(supplier_id=supplier, practice_code="A81001", activity_date=day),
        event(supplier_id=supplier, practice_code="A81002", activity_date=day),
        event(supplier_id=supplier, practice_code="A81003", activity_date=other_day),
        event(supplier_id=supplier, practice_code="A81004", activity_date=other_day),
    ]
    keys = [
        key_of(dict(bodies[0], practice_code="Z99999")),  # another practice
        key_of(dict(bodies[1], activity_date=other_day)),  # another day
        b"A81003:" + other_day.isoformat().encode() + b" ",  # not the same bytes
        key_of(bodies[3]),  # the body's own key
    ]
    async with running(settings):
        await produce(settings, topic, [(k, encoded(b)) for k, b in zip(keys, bodies, strict=True)])
        await wait_consumed(pg, settings, [topic])
    counted = await pg.fetch(
        "SELECT activity_date, mismatches FROM triage.record_key_mismatches"
        " WHERE supplier_id = $1 ORDER BY activity_date",
        supplier,
    )
    data = await collect(pg, supplier, days=7)

    assert [(r["activity_date"], r["mismatches"]) for r in counted] == [(other_day, 1), (day, 2)]
    assert (data.key_mismatches, data.key_mismatch_days) == (3, 2)
    assert "| Records whose key disagreed with the body | 3 on 2 activity date(s)" in (
        render_markdown(data)
    )
    assert "3 on 2 activity date(s)" in render_html(data)
