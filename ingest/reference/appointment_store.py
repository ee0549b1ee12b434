"""Loading GPAD crosstab months into Postgres, versioned per month (asyncpg, COPY).

Every month the files hold becomes, in one transaction for all of them, the current load of
kind ``appointments`` for that month: a month whose folded content equals its current load
changes nothing; otherwise the current load of the month is superseded (recorded in
``triage.reference_loads``) and the new rows are COPYed. The files are read and checked whole
before the transaction begins, so a bad file leaves the database as it was.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import astuple, dataclass
from pathlib import Path

import asyncpg

from ingest.db.connection import MISSING_SCHEMA_ERRORS
from ingest.reference.appointment_files import read_crosstabs
from ingest.reference.appointments import AppointmentsFileError, MonthOfAppointments
from ingest.reference.records import ReferenceKind
from ingest.reference.store import LOCK_CLASS, SQL, ReferenceStoreError

KIND = ReferenceKind.APPOINTMENTS.value


@dataclass(frozen=True, slots=True)
class MonthLoad:
    """What the load did to one month."""

    month: str  # YYYY-MM
    load_id: int
    practices: int
    row_count: int  # folded rows stored (practice x mode x status)
    crosstab_rows: int
    created: bool  # False: same content as the month's current load
    replaced_load_id: int | None


async def load_appointment_files(
    conn: asyncpg.Connection, paths: Sequence[Path]
) -> tuple[list[MonthLoad], list[str]]:
    """Read, check and fold every file, then load each month they hold."""
    aggregator, notes = await asyncio.to_thread(read_crosstabs, paths)
    if not aggregator.months:
        raise AppointmentsFileError(
            f"{', '.join(p.name for p in paths)}: no appointment rows after the header"
        )
    source = ", ".join(p.name for p in paths)
    months = [aggregator.months[m] for m in sorted(aggregator.months)]
    try:
        async with conn.transaction():
            await conn.execute(SQL["lock_kind_for_transaction"], LOCK_CLASS, KIND)
            loads = [await _load_month(conn, month, source) for month in months]
    except MISSING_SCHEMA_ERRORS as exc:
        raise ReferenceStoreError(
            f"the reference tables are missing ({exc}); apply the migrations first"
        ) from exc
    except asyncpg.InsufficientPrivilegeError as exc:
        raise ReferenceStoreError(
            f"permission denied ({exc}): loading reference data needs the database owner's "
            "role (the one that applies the migrations), not triage_reader"
        ) from exc
    return loads, notes


async def _load_month(
    conn: asyncpg.Connection, month: MonthOfAppointments, source: str
) -> MonthLoad:
    digest = month.fingerprint()
    records = month.records()
    label = f"{month.month:%Y-%m}"
    current = await conn.fetchrow(
        SQL["current_month_load"],
        KIND,
        month.month,
    )
    if current is not None and current["content_sha256"] == digest:
        return MonthLoad(
            label, current["load_id"], len(month.practices), len(records), month.rows, False, None
        )
    previous: int | None = None if current is None else current["load_id"]
    if previous is not None:
        await conn.execute(
            SQL["supersede_load"],
            previous,
        )
    load_id: int = await conn.fetchval(
        SQL["add_month_load"],
        KIND,
        month.month,
        f"{source} (month {label})",
        digest,
        len(records),
    )
    if previous is not None:
        await conn.execute(
            SQL["link_superseded_load"],
            load_id,
            previous,
        )
    await conn.copy_records_to_table(
        "ref_appointments",
        schema_name="triage",
        columns=["load_id", "practice_code", "appt_mode", "appt_status", "appointments"],
        records=[(load_id, *astuple(r)) for r in records],
    )
    await conn.copy_records_to_table(
        "ref_appointment_practices",
        schema_name="triage",
        columns=["load_id", "practice_code", "gp_name", "pcn_code", "sub_icb_location_code"],
        records=[(load_id, *astuple(p)) for p in month.practice_records()],
    )
    return MonthLoad(label, load_id, len(month.practices), len(records), month.rows, True, previous)
