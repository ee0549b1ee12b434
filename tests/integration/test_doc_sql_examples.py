"""The analysts' guide's SQL example, run as triage_reader on reference data and figures
loaded from the guide's own file examples."""

from __future__ import annotations

import datetime as dt

import asyncpg

from ingest.reference.memberships import parse_memberships
from ingest.reference.records import ReferenceKind
from ingest.reference.store import load_records
from ingest.reference.sub_icbs import parse_sub_icbs
from tests.support.daily_rows import insert_days
from tests.support.doc_examples import example


async def test_the_sub_icb_series_example_counts_each_practice_day_once_under_the_vintage(
    pg: asyncpg.Connection,
) -> None:
    memberships = parse_memberships(example("reference-memberships").text)
    await load_records(pg, ReferenceKind.MEMBERSHIPS, memberships, "guide memberships")
    sub_icbs = parse_sub_icbs(example("reference-sub-icbs").text)
    await load_records(pg, ReferenceKind.SUB_ICBS, sub_icbs, "guide sub-icbs")
    # B99002 moved from 91A to 91B on 2024-10-01; its figures of March 2024 and March 2025
    await insert_days(pg, "alpha", "B99002", dt.date(2024, 3, 1), dt.date(2024, 3, 2), 7)
    await insert_days(pg, "alpha", "B99002", dt.date(2025, 3, 1), dt.date(2025, 3, 2), 9)

    await pg.execute("SET ROLE triage_reader")
    try:
        rows = await pg.fetch(example("analytics-sub-icb-series").text)
    finally:
        await pg.execute("RESET ROLE")

    # Under the example's vintage (2025-04-01) B99002 belongs to 91B, which the guide's sub-ICB
    # file does not list: its whole series is unmapped (NULL codes), each day counted once.
    got = [
        (r["activity_date"], r["sub_icb_code"], r["practices"], r["total_requests"]) for r in rows
    ]
    assert got == [
        (dt.date(2024, 3, 1), None, 1, 7),
        (dt.date(2024, 3, 2), None, 1, 7),
        (dt.date(2025, 3, 1), None, 1, 9),
        (dt.date(2025, 3, 2), None, 1, 9),
    ]
