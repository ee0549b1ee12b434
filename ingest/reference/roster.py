"""The supplier roster file (contract v1.1 section 6; pure): which practices each supplier
serves, from the installation date.

CSV with a header row ``supplier_id,practice_code,installed_on,removed_on`` (column names
case-insensitive, extra columns ignored). Dates ISO ``YYYY-MM-DD``; an empty ``removed_on`` =
still installed. The periods of one supplier at one practice must not overlap.
"""

from __future__ import annotations

from ingest.contract.model import SUPPLIER_ID_RE
from ingest.reference.csv_input import (
    Cell,
    ReferenceFieldError,
    ReferenceFileError,
    iso_date,
    overlaps,
    parse_table,
    practice_code,
)
from ingest.reference.records import RosterEntry

ROSTER_HEADER = ("supplier_id", "practice_code", "installed_on", "removed_on")


def _supplier_id(value: str) -> str:
    supplier = value.strip()
    if not SUPPLIER_ID_RE.fullmatch(supplier):
        raise ReferenceFieldError(f"supplier_id {value!r} is not a supplier id (a-z, 0-9 and '-')")
    return supplier


def parse_roster(text: str) -> list[RosterEntry]:
    """Parse a roster; periods of one supplier at one practice must not overlap."""

    def build(cell: Cell) -> RosterEntry:
        start = iso_date(cell("installed_on"), "installed_on", required=True)
        end = iso_date(cell("removed_on"), "removed_on", required=False)
        assert start is not None
        if end is not None and end < start:
            raise ReferenceFieldError(f"removed_on {end} is before installed_on {start}")
        return RosterEntry(
            _supplier_id(cell("supplier_id")), practice_code(cell("practice_code")), start, end
        )

    records = parse_table(text, "roster file", ROSTER_HEADER, build)
    problems = overlaps(
        "supplier at practice",
        ((f"{r.supplier_id} {r.practice_code}", r.installed_on, r.removed_on) for r in records),
    )
    if problems:
        raise ReferenceFileError("roster file", problems)
    return records
