"""Rows of ``triage.daily_requests`` and ``triage.daily_request_revisions`` written straight
into the database, for read-side tests (analytics views, exports, reports) that need a known
series without running the consumer."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence

import asyncpg

from ingest.contract.model import BAND_FIELDS, topic_for


async def insert_days(
    pg: asyncpg.Connection,
    supplier: str,
    practice: str,
    first: dt.date,
    last: dt.date,
    total: int,
    breakdown: bool = True,
    bands: Sequence[int] | None = None,
) -> None:
    """One current row per day in [first, last] for (supplier, practice); ``bands``: the nine
    time bands of each day (schema v3, summing to ``total``), else null."""
    if bands is not None and (len(bands) != len(BAND_FIELDS) or sum(bands) != total):
        raise ValueError(f"nine bands summing to {total}, not {bands}")
    # the band columns only when bands are given: a database migrated below schema v3's
    # migration (the upgrade tests') has none
    band_columns = f", {', '.join(BAND_FIELDS)}" if bands is not None else ""
    band_values = "".join(f", ($7::int[])[{i + 1}]" for i in range(len(BAND_FIELDS)))
    await pg.execute(
        f"""INSERT INTO triage.daily_requests (supplier_id, practice_code, activity_date, revision,
               total_requests, clinical_requests, admin_requests, other_requests, event_id,
               generated_at{band_columns})
           SELECT $1, $2, d::date, 1, $5,
                  CASE WHEN $6 THEN $5 - 2 END, CASE WHEN $6 THEN 1 END, CASE WHEN $6 THEN 1 END,
                  gen_random_uuid(), now(){band_values if bands is not None else ""}
           FROM generate_series($3::date, $4::date, interval '1 day') d""",
        supplier,
        practice,
        first,
        last,
        total,
        breakdown,
        *([] if bands is None else [list(bands)]),
    )


async def insert_revision(
    pg: asyncpg.Connection,
    supplier: str,
    practice: str,
    day: dt.date,
    revision: int,
    total: int,
    ingested_at: dt.datetime,
    offset: int,
    *,
    current: bool = True,
    bands: Sequence[int] | None = None,
) -> None:
    """A stored revision (generated and ingested at ``ingested_at``, at ``offset`` of partition
    0 of the supplier's topic) and, with ``current``, the current row (the highest revision
    wins); ``bands``: the revision's nine time bands (else null)."""
    event_id = uuid.uuid4()
    args = (supplier, practice, day, revision, total, event_id, ingested_at)
    await pg.execute(
        f"""INSERT INTO triage.daily_request_revisions (supplier_id, practice_code, activity_date,
               revision, total_requests, event_id, generated_at, ingested_at, source_topic,
               source_partition, source_offset, {", ".join(BAND_FIELDS)})
           VALUES ($1, $2, $3, $4, $5, $6, $7, $7, $8, 0, $9,
                   {", ".join(f"($10::int[])[{i + 1}]" for i in range(len(BAND_FIELDS)))})""",
        *args,
        topic_for(supplier),
        offset,
        None if bands is None else list(bands),
    )
    if not current:
        return
    await pg.execute(
        """INSERT INTO triage.daily_requests (supplier_id, practice_code, activity_date,
               revision, total_requests, event_id, generated_at, ingested_at)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $7)
           ON CONFLICT (supplier_id, practice_code, activity_date) DO UPDATE SET
               revision = excluded.revision, total_requests = excluded.total_requests,
               event_id = excluded.event_id, ingested_at = excluded.ingested_at
           WHERE triage.daily_requests.revision < excluded.revision""",
        *args,
    )


def spread(total: int, days: int) -> list[int]:
    """``total`` split over ``days`` days as evenly as whole numbers allow (sums to total)."""
    base, extra = divmod(total, days)
    return [base + (1 if i < extra else 0) for i in range(days)]


async def insert_month(
    pg: asyncpg.Connection,
    supplier: str,
    practice: str,
    first: dt.date,
    days: int,
    clinical: int,
    admin: int,
    other: int,
) -> None:
    """Current rows for ``days`` days from ``first`` whose month sums are the given figures,
    each day typed (clinical, administrative, other); ``insert_untyped_month`` for a supplier
    that sends no type."""
    rows = []
    for i, (c, a, o) in enumerate(
        zip(spread(clinical, days), spread(admin, days), spread(other, days), strict=True)
    ):
        rows.append(
            (supplier, practice, first + dt.timedelta(days=i), 1, c + a + o, c, a, o,
             uuid.uuid4(), dt.datetime.now(dt.UTC))
        )  # fmt: skip
    await pg.copy_records_to_table(
        "daily_requests",
        schema_name="triage",
        columns=[
            "supplier_id", "practice_code", "activity_date", "revision", "total_requests",
            "clinical_requests", "admin_requests", "other_requests", "event_id", "generated_at",
        ],
        records=rows,
    )  # fmt: skip


async def insert_untyped_month(
    pg: asyncpg.Connection, supplier: str, practice: str, first: dt.date, days: int, total: int
) -> None:
    """Current rows for ``days`` days from ``first`` summing to ``total``, without a type."""
    rows = [
        (supplier, practice, first + dt.timedelta(days=i), 1, n, None, None, None,
         uuid.uuid4(), dt.datetime.now(dt.UTC))
        for i, n in enumerate(spread(total, days))
    ]  # fmt: skip
    await pg.copy_records_to_table(
        "daily_requests",
        schema_name="triage",
        columns=[
            "supplier_id", "practice_code", "activity_date", "revision", "total_requests",
            "clinical_requests", "admin_requests", "other_requests", "event_id", "generated_at",
        ],
        records=rows,
    )  # fmt: skip
