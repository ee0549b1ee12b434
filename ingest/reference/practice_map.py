"""NHS England's practice mapping file ``gp-reg-pat-prac-map.csv`` (pure).

Published monthly with "Patients Registered at a GP Practice": one row per practice with its
commissioner on the extract date. Header required; the columns read are ``EXTRACT_DATE``,
``PRACTICE_CODE`` and the commissioner, ``SUB_ICB_LOCATION_CODE`` (from July 2022) or
``CCG_CODE`` (before); other columns are ignored. Extract dates like ``01Jan2022`` or ISO.
One file is one *snapshot*: where each practice was on its extract date.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from ingest.reference.csv_input import (
    Cell,
    ReferenceFileError,
    csv_rows,
    flexible_date,
    org_code,
    parse_table,
    practice_code,
)

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
