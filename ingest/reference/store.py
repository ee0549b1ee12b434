"""Versioned, idempotent loading of reference data into Postgres (asyncpg, COPY).

A load of kind K (practices, memberships, sub_icbs, list_sizes) in one transaction:

1. takes a transaction-level advisory lock for K (concurrent loads of K queue up);
2. compares the content fingerprint with the current load of K: equal -> nothing changes
   (``LoadResult.created`` is False), so running a loader twice is harmless;
3. otherwise marks the current load superseded, registers the new load, and COPYs its rows
   (``copy_records_to_table``) tagged with the new ``load_id``.

Old loads and their rows are never deleted: ``triage.reference_load_history`` lists them and
their rows stay in the ``triage.ref_*`` tables; the ``triage.current_*`` views show the current
load only.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import asyncpg

from ingest.db.connection import MISSING_SCHEMA_ERRORS
from ingest.db.queries import queries
from ingest.errors import IngestError
from ingest.reference.csv_input import decode_text
from ingest.reference.icb_names import parse_icb_names, with_icb_names
from ingest.reference.list_sizes import merge_list_sizes
from ingest.reference.parsing import read_capped, read_reference, read_snapshot
from ingest.reference.practice_map import merge_dated
from ingest.reference.records import (
    RECORD_TYPES,
    ListSize,
    PracticePcn,
    Record,
    ReferenceKind,
    SubIcb,
    as_row,
    columns_of,
    fingerprint,
)
from ingest.reference.snapshots import memberships_from_snapshots

TABLES: dict[ReferenceKind, str] = {
    ReferenceKind.PRACTICES: "ref_practices",
    ReferenceKind.MEMBERSHIPS: "ref_memberships",
    ReferenceKind.SUB_ICBS: "ref_sub_icbs",
    ReferenceKind.LIST_SIZES: "ref_list_sizes",
    ReferenceKind.PARTICIPATION: "ref_participation",
    ReferenceKind.ROSTER: "ref_roster",
    ReferenceKind.PCNS: "ref_pcns",
}
SQL = queries("ingest.reference")
LOCK_CLASS = 0x7265_6600  # "ref\0": first key of the advisory lock, the kind is the second


class ReferenceStoreError(IngestError):
    """Reference data could not be stored or read."""


@dataclass(frozen=True, slots=True)
class LoadResult:
    """What a load did."""

    kind: ReferenceKind
    load_id: int  # the current load after the call
    row_count: int
    created: bool  # False: same content as the current load, nothing changed
    replaced_load_id: int | None  # the load this one superseded, if any
    summary: tuple[str, ...] = ()  # what the file held or what was inferred, line by line


@dataclass(frozen=True, slots=True)
class LoadInfo:
    """One row of ``triage.reference_load_history``."""

    load_id: int
    kind: str
    source_name: str
    content_sha256: str
    row_count: int
    loaded_at: dt.datetime
    loaded_by: str
    superseded_at: dt.datetime | None
    is_current: bool


async def load_records(
    conn: asyncpg.Connection,
    kind: ReferenceKind,
    records: Sequence[Record],
    source_name: str,
) -> LoadResult:
    """Make ``records`` the current load of ``kind`` (no-op when the content is unchanged)."""
    record_type = RECORD_TYPES[kind]
    wrong = [r for r in records if not isinstance(r, record_type)]
    if wrong:
        raise ReferenceStoreError(f"{kind} load given {type(wrong[0]).__name__} records")
    digest = fingerprint(records)
    try:
        async with conn.transaction():
            await conn.execute(SQL["lock_kind_for_transaction"], LOCK_CLASS, kind.value)
            current = await conn.fetchrow(
                SQL["current_load"],
                kind.value,
            )
            if current is not None and current["content_sha256"] == digest:
                return LoadResult(kind, current["load_id"], len(records), False, None)
            previous: int | None = None if current is None else current["load_id"]
            if previous is not None:
                await conn.execute(
                    SQL["supersede_load"],
                    previous,
                )
            load_id: int = await conn.fetchval(
                SQL["add_load"],
                kind.value,
                source_name,
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
                TABLES[kind],
                schema_name="triage",
                columns=["load_id", *columns_of(record_type)],
                records=[(load_id, *as_row(r)) for r in records],
            )
    except MISSING_SCHEMA_ERRORS as exc:
        raise ReferenceStoreError(
            f"the reference tables are missing ({exc}); apply the migrations first"
        ) from exc
    except asyncpg.InsufficientPrivilegeError as exc:
        raise ReferenceStoreError(
            f"permission denied ({exc}): loading reference data needs the database owner's "
            "role (the one that applies the migrations), not triage_reader"
        ) from exc
    return LoadResult(kind, load_id, len(records), True, previous)


def _read_file(path: Path) -> bytes:
    """A reference file's bytes, at most MAX_REFERENCE_BYTES (read no further)."""
    with path.open("rb") as stream:
        return read_capped(stream, str(path.name))


async def load_file(
    conn: asyncpg.Connection,
    kind: ReferenceKind,
    path: Path,
    *,
    merge: bool = False,
    icb_names: Path | None = None,
) -> LoadResult:
    """Parse the file at ``path`` and load it (see ``load_records``).

    ``merge`` (list sizes and PCNs, both dated by extract): the new load is the current one
    plus the file's, the file winning for the same practice and extract date, so monthly
    extracts accumulate.
    """
    try:
        data = await asyncio.to_thread(_read_file, path)
    except OSError as exc:
        raise ReferenceStoreError(f"cannot read {path}: {exc.strerror or exc}") from exc
    parsed = read_reference(kind, data, path.name)
    records = parsed.records
    summary = list(parsed.summary)
    if icb_names is not None:
        if kind is not ReferenceKind.SUB_ICBS:
            raise ReferenceStoreError("--icb-names applies to sub-ICBs only")
        try:
            names = parse_icb_names(decode_text(await asyncio.to_thread(_read_file, icb_names)))
        except OSError as exc:
            raise ReferenceStoreError(f"cannot read {icb_names}: {exc.strerror or exc}") from exc
        sub_icbs = with_icb_names([r for r in records if isinstance(r, SubIcb)], names)
        records = list(sub_icbs)
        icbs = {r.icb_code for r in sub_icbs}
        named = {r.icb_code for r in sub_icbs if r.icb_name is not None}
        summary.append(f"ICB names from {icb_names.name}: {len(named)} of {len(icbs)} ICBs named")
    if merge:
        if kind not in (ReferenceKind.LIST_SIZES, ReferenceKind.PCNS):
            raise ReferenceStoreError("--merge applies to list sizes and PCNs only")
        # Hold the kind's lock from the read of the current set to the load, or a concurrent
        # load in between would be lost by the merge. Advisory locks are re-entrant within a
        # session, so load_records' transaction-level lock on the same key is granted.
        await conn.execute(SQL["lock_kind"], LOCK_CLASS, kind.value)
        try:
            merged: Sequence[Record]
            if kind is ReferenceKind.PCNS:
                pcns = [r for r in records if isinstance(r, PracticePcn)]
                merged = merge_dated(await current_pcns(conn), pcns)
            else:
                sizes = [r for r in records if isinstance(r, ListSize)]
                merged = merge_list_sizes(await current_list_sizes(conn), sizes)
            result = await load_records(conn, kind, merged, f"{path.name} (merged)")
        finally:
            await conn.execute(SQL["unlock_kind"], LOCK_CLASS, kind.value)
    else:
        result = await load_records(conn, kind, records, path.name)
    return dataclasses.replace(result, summary=tuple(summary))


async def load_membership_snapshots(
    conn: asyncpg.Connection, files: Sequence[tuple[Path, dt.date | None]]
) -> LoadResult:
    """Memberships inferred from several snapshots in date order (``snapshots``): each file an
    ODS epraccur (``.csv``/``.zip``; its date given, else the latest date it mentions) or an
    NHS England ``gp-reg-pat-prac-map.csv`` (its extract date)."""
    snapshots = []
    for path, taken_on in files:
        try:
            data = await asyncio.to_thread(_read_file, path)
        except OSError as exc:
            raise ReferenceStoreError(f"cannot read {path}: {exc.strerror or exc}") from exc
        snapshots.append(read_snapshot(path.name, data, taken_on))
    inferred = memberships_from_snapshots(snapshots)
    source = "snapshots: " + ", ".join(path.name for path, _ in files)
    result = await load_records(conn, ReferenceKind.MEMBERSHIPS, inferred.memberships, source)
    return dataclasses.replace(result, summary=tuple(inferred.report))


async def current_list_sizes(conn: asyncpg.Connection) -> list[ListSize]:
    """The list sizes of the current load."""
    try:
        rows = await conn.fetch(SQL["current_list_sizes"])
    except MISSING_SCHEMA_ERRORS as exc:
        raise ReferenceStoreError(
            f"the reference tables are missing ({exc}); apply the migrations first"
        ) from exc
    return [ListSize(r["practice_code"], r["extract_date"], r["registered_patients"]) for r in rows]


async def current_pcns(conn: asyncpg.Connection) -> list[PracticePcn]:
    """The practice PCN rows of the current load."""
    try:
        rows = await conn.fetch(SQL["current_pcns"])
    except MISSING_SCHEMA_ERRORS as exc:
        raise ReferenceStoreError(
            f"the reference tables are missing ({exc}); apply the migrations first"
        ) from exc
    return [PracticePcn(**dict(r)) for r in rows]


async def load_history(
    conn: asyncpg.Connection, kind: ReferenceKind | None = None
) -> list[LoadInfo]:
    """Every load (newest first), optionally of one kind."""
    try:
        rows = await conn.fetch(
            SQL["load_history"],
            None if kind is None else kind.value,
        )
    except MISSING_SCHEMA_ERRORS as exc:
        raise ReferenceStoreError(
            f"the reference tables are missing ({exc}); apply the migrations first"
        ) from exc
    return [LoadInfo(**dict(r)) for r in rows]
