"""Schema v1 and v2 producers side by side on the real broker: both land; v1 leaves the v2
columns null."""

from __future__ import annotations

import datetime as dt

import asyncpg

from ingest.contract.model import topic_for
from ingest.settings import Settings
from ingest.supplier.problems import FileReason
from ingest.supplier.producer import DailyCounts, DeliveryStatus, SupplierProducer
from tests.support.kafka import CreateTopics
from tests.support.polling import wait_until
from tests.support.service import running
from tests.support.suppliers import register


async def test_v1_and_v2_producers_push_side_by_side_and_both_land(
    settings: Settings, token: str, pg: asyncpg.Connection, create_topics: CreateTopics
) -> None:
    supplier = f"{token}-mixed"
    await register(pg, supplier)
    await create_topics(topic_for(supplier), settings.dlq_topic, partitions=3)
    day = dt.date.today() - dt.timedelta(days=1)
    old = [DailyCounts(f"C8{n:04d}", day, total_requests=10 + n) for n in range(20)]
    new = [
        DailyCounts(
            f"D8{n:04d}",
            day,
            total_requests=10 + n,
            patient_submitted_requests=7 + n,
            staff_submitted_requests=3,
        )
        for n in range(20)
    ]
    async with (
        SupplierProducer(supplier, settings, schema_version=1) as v1,
        SupplierProducer(supplier, settings, schema_version=2) as v2,
    ):
        sent_v1, sent_v2 = await v1.send_many(old), await v2.send_many(new)
        refused = await v1.send(
            DailyCounts("E80000", day, total_requests=1, patient_submitted_requests=1)
        )
    assert {d.status for d in sent_v1 + sent_v2} == {DeliveryStatus.SENT}
    assert refused.status is DeliveryStatus.INVALID  # v1 cannot carry a v2 field: not sent
    assert [p.reason for p in refused.problems] == [FileReason.NEEDS_SCHEMA_V2]

    async with running(settings):

        async def landed() -> bool:
            n = await pg.fetchval(
                "SELECT count(*) FROM triage.daily_requests WHERE supplier_id = $1", supplier
            )
            return bool(n == 40)

        await wait_until(landed, what="40 rows")

    stored = {
        r["practice_code"]: (
            r["total_requests"],
            r["patient_submitted_requests"],
            r["staff_submitted_requests"],
        )
        for r in await pg.fetch(
            "SELECT practice_code, total_requests, patient_submitted_requests,"
            " staff_submitted_requests FROM triage.daily_requests WHERE supplier_id = $1",
            supplier,
        )
    }
    for n in range(20):
        assert stored[f"C8{n:04d}"] == (10 + n, None, None)  # v1: new columns null
        assert stored[f"D8{n:04d}"] == (10 + n, 7 + n, 3)  # v2: carried through
    revisions = await pg.fetchval(
        "SELECT count(*) FROM triage.daily_request_revisions WHERE supplier_id = $1"
        " AND patient_submitted_requests IS NULL",
        supplier,
    )
    assert revisions == 20
    assert await pg.fetchval("SELECT count(*) FROM triage.rejected_events") == 0
