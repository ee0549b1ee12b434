"""NHS England's practice mapping file ``gp-reg-pat-prac-map.csv`` (pure).

Published monthly with "Patients Registered at a GP Practice": one row per practice with its
commissioner on the extract date. Header required; the columns read are ``EXTRACT_DATE``,
``PRACTICE_CODE`` and the commissioner, ``SUB_ICB_LOCATION_CODE`` (from July 2022) or
``CCG_CODE`` (before); other columns are ignored. Extract dates like ``01Jan2022`` or ISO.
One file is one *snapshot*: where each practice was on its extract date.

The same file carries each practice's primary care network (``PCN_CODE``, ``PCN_NAME``) and
NHS England region (``COMM_REGION_CODE``, ``COMM_REGION_NAME``): ``parse_practice_pcns``
reads those, dated by the extract date, for the monthly publication.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from ingest.reference.csv_input import (
    Cell,
    ReferenceFileError,
    csv_rows,
    flexible_date,
    optional,
    org_code,
    parse_table,
    practice_code,
)
from ingest.reference.records import PracticePcn

WHAT = "practice mapping file (gp-reg-pat-prac-map)"
COMMISSIONER_COLUMNS = ("sub_icb_location_code", "ccg_code")


@dataclass(frozen=True, slots=True)
class MappedPractice:
    """One row of a mapping file: the practice's commissioner on the extract date."""

    practice_code: str
    commissioner_code: str
    extract_date: dt.date


def is_practice_map(text: str) -> bool:
    """Whether the header is that of a mapping file (practice, extract date, commissioner)."""
    first = next(csv_rows(text), None)
    if first is None:
        return False
    names = {cell.strip().lower() for cell in first[1]}
    return {"practice_code", "extract_date"} <= names and any(
        c in names for c in COMMISSIONER_COLUMNS
    )


def parse_practice_map(text: str) -> list[MappedPractice]:
    """Parse a mapping file; every practice once, one extract date for the whole file."""
    first = next(csv_rows(text), None)
    names = {cell.strip().lower() for cell in first[1]} if first else set()
    column = next((c for c in COMMISSIONER_COLUMNS if c in names), COMMISSIONER_COLUMNS[0])

    def build(cell: Cell) -> MappedPractice:
        commissioner = org_code(cell(column), column.upper())
        assert commissioner is not None
        return MappedPractice(
            practice_code(cell("practice_code"), "PRACTICE_CODE"),
            commissioner,
            flexible_date(cell("extract_date"), "EXTRACT_DATE"),
        )

    rows = parse_table(text, WHAT, ("practice_code", "extract_date", column), build)
    problems: list[tuple[int, str]] = []
    dates = sorted({r.extract_date for r in rows})
    if len(dates) > 1:
        problems.append((0, f"more than one EXTRACT_DATE ({dates[0]} .. {dates[-1]})"))
    seen: set[str] = set()
    for row in rows:
        if row.practice_code in seen:
            problems.append((0, f"{row.practice_code} appears twice"))
        seen.add(row.practice_code)
    if problems:
        raise ReferenceFileError(WHAT, problems)
    return rows


PCN_HEADER = ("practice_code", "extract_date", "pcn_code", "pcn_name")


def parse_practice_pcns(text: str) -> list[PracticePcn]:
    """Each practice's PCN (and region, when the file has ``COMM_REGION_CODE``/``_NAME``) on
    the file's extract date. ``PCN_CODE`` ``U`` with ``PCN_NAME`` ``Unallocated`` is kept as
    published (a practice in no PCN)."""
    first = next(csv_rows(text), None)
    names = {cell.strip().lower() for cell in first[1]} if first else set()
    regions = {"comm_region_code", "comm_region_name"} <= names

    def build(cell: Cell) -> PracticePcn:
        return PracticePcn(
            practice_code(cell("practice_code"), "PRACTICE_CODE"),
            flexible_date(cell("extract_date"), "EXTRACT_DATE"),
            optional(cell("pcn_code").upper()),
            optional(cell("pcn_name")),
            optional(cell("comm_region_code").upper()) if regions else None,
            optional(cell("comm_region_name")) if regions else None,
        )

    rows = parse_table(text, WHAT, PCN_HEADER, build)
    seen: set[tuple[str, dt.date]] = set()
    problems: list[tuple[int, str]] = []
    for row in rows:
        key = (row.practice_code, row.extract_date)
        if key in seen:
            problems.append((0, f"{row.practice_code} {row.extract_date} appears twice"))
        seen.add(key)
    if problems:
        raise ReferenceFileError(WHAT, problems)
    return rows


def merge_dated(current: list[PracticePcn], new: list[PracticePcn]) -> list[PracticePcn]:
    """``current`` with ``new`` added; for the same practice and extract date ``new`` wins
    (monthly mapping files loaded one at a time accumulate)."""
    merged = {(r.practice_code, r.extract_date): r for r in current}
    merged.update({(r.practice_code, r.extract_date): r for r in new})
    return sorted(merged.values(), key=lambda r: (r.practice_code, r.extract_date))
