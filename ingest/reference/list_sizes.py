"""Registered patients per practice (pure).

CSV with a header row, either the project's layout
``practice_code,extract_date,registered_patients`` or the NHS Digital "Patients Registered at
a GP Practice" totals layout (columns ``EXTRACT_DATE``, ``CODE``, ``NUMBER_OF_PATIENTS``, and
when present ``TYPE``/``SEX``/``AGE``, of which only the ``GP``/``ALL``/``ALL`` rows are kept).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from ingest.reference.csv_input import (
    Cell,
    ReferenceFileError,
    count,
    flexible_date,
    iso_date,
    parse_table,
    practice_code,
    with_header,
)
from ingest.reference.records import ListSize

LIST_SIZE_HEADER = ("practice_code", "extract_date", "registered_patients")
NHS_LIST_SIZE_HEADER = ("extract_date", "code", "number_of_patients")


def parse_list_sizes(text: str) -> list[ListSize]:
    """Parse list sizes in the project's layout or the NHS Digital totals layout."""
    first_line = next(iter(text.splitlines()), "").lower()
    nhs_layout = "number_of_patients" in first_line

    if nhs_layout:
        index, _rows = with_header(text, "list sizes file", NHS_LIST_SIZE_HEADER)
        filters = {"type": "GP", "sex": "ALL", "age": "ALL"}
        present = {k: v for k, v in filters.items() if k in index}

        def build(cell: Cell) -> ListSize:
            return ListSize(
                practice_code(cell("code"), "CODE"),
                flexible_date(cell("extract_date"), "EXTRACT_DATE"),
                count(cell("number_of_patients"), "NUMBER_OF_PATIENTS"),
            )

        def keep(cell: Cell) -> ListSize | None:
            if any(cell(k).strip().upper() != v for k, v in present.items()):
                return None  # a breakdown row (by sex / age band) or not a GP row
            return build(cell)

        sizes = parse_table(text, "list sizes file", NHS_LIST_SIZE_HEADER, keep)
    else:

        def build_own(cell: Cell) -> ListSize:
            extract = iso_date(cell("extract_date"), "extract_date", required=True)
            assert extract is not None
            return ListSize(
                practice_code(cell("practice_code")),
                extract,
                count(cell("registered_patients"), "registered_patients"),
            )

        sizes = parse_table(text, "list sizes file", LIST_SIZE_HEADER, build_own)

    seen: set[tuple[str, dt.date]] = set()
    problems: list[tuple[int, str]] = []
    for size in sizes:
        key = (size.practice_code, size.extract_date)
        if key in seen:
            problems.append((0, f"{size.practice_code} {size.extract_date} appears twice"))
        seen.add(key)
    if problems:
        raise ReferenceFileError("list sizes file", problems)
    if not sizes:
        raise ReferenceFileError("list sizes file", [(0, "no GP/ALL/ALL rows")])
    return sizes


def merge_list_sizes(current: Iterable[ListSize], new: Iterable[ListSize]) -> list[ListSize]:
    """``current`` with ``new`` added; for the same practice and extract date ``new`` wins.

    Lets monthly list-size files be loaded one at a time while each load is still a complete,
    versioned set (the merged set becomes the new current load).
    """
    merged = {(s.practice_code, s.extract_date): s for s in current}
    merged.update({(s.practice_code, s.extract_date): s for s in new})
    return sorted(merged.values(), key=lambda s: (s.practice_code, s.extract_date))
