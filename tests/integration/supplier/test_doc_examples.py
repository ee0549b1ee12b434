"""The suppliers' guide's Python producer example, run as a supplier would run it, against the
real broker; the real consumer then stores what it sent."""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import sys

import asyncpg

from ingest.contract.model import topic_for
from ingest.settings import Settings
from tests.support.doc_examples import example
from tests.support.kafka import CreateTopics
from tests.support.polling import wait_until
from tests.support.service import running
from tests.support.suppliers import register


async def test_the_producer_example_sends_what_the_consumer_stores(
    settings: Settings, token: str, pg: asyncpg.Connection, create_topics: CreateTopics
) -> None:
    supplier = f"{token}-askmygp"  # the example's supplier, scoped to this test
    code = example("supplier-producer").text.replace('"askmygp"', f'"{supplier}"')
    assert supplier in code
    await register(pg, supplier)
    await create_topics(topic_for(supplier), settings.dlq_topic, partitions=3)
    clean = {k: v for k, v in os.environ.items() if not k.startswith("INGEST_")}
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        code,
        env={**clean, "INGEST_KAFKA_BOOTSTRAP": settings.kafka()},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    async with asyncio.timeout(60):
        out, err = await proc.communicate()

    assert proc.returncode == 0, err.decode()
    lines = out.decode().splitlines()
    assert len(lines) == 3, lines
    assert all(f": sent to {topic_for(supplier)}[" in line for line in lines), lines

    async with running(settings):

        async def landed() -> bool:
            stored = await pg.fetchval(
                "SELECT count(*) FROM triage.daily_requests WHERE supplier_id = $1", supplier
            )
            return bool(stored == 3)

        await wait_until(landed, what="the example's 3 rows in triage.daily_requests")

    day = dt.date.today() - dt.timedelta(days=1)
    found = await pg.fetch(
        "SELECT practice_code, activity_date, revision, total_requests, clinical_requests,"
        " admin_requests, other_requests FROM triage.daily_requests WHERE supplier_id = $1"
        " ORDER BY practice_code, activity_date",
        supplier,
    )
    assert [tuple(r) for r in found] == [
        ("A81001", day - dt.timedelta(days=3), 2, 98, None, None, None),
        ("A81001", day, 1, 120, 70, 40, 10),
        ("A81002", day, 1, 35, None, None, None),
    ]
