"""Sub-ICB location -> ICB with effective dates (pure). Two layouts:

- the project's: CSV with a header row
  ``sub_icb_code,sub_icb_name,icb_code,icb_name,effective_from,effective_to`` (names may be
  empty). Periods of one sub-ICB must not overlap.
- the ODS ``eccg`` file as published (sub-ICB locations, formerly CCGs): no header, 27
  columns like ``epraccur``; column 1 the code, 2 the name, 4 the parent (the ICB), 11 and 12
  the open and close dates (``YYYYMMDD``). Each row is one period, open date to close date.
  ICB names are not in the file (empty).
"""

from __future__ import annotations

from ingest.reference.csv_input import (
    Cell,
    ReferenceFieldError,
    ReferenceFileError,
    csv_rows,
    optional,
    org_code,
    overlaps,
    parse_table,
    period,
    yyyymmdd,
)
from ingest.reference.records import SubIcb

SUB_ICB_HEADER = (
    "sub_icb_code",
    "sub_icb_name",
    "icb_code",
    "icb_name",
    "effective_from",
    "effective_to",
)
ECCG_COLUMNS = 27
_ECCG = {"code": 0, "name": 1, "parent": 3, "open": 10, "close": 11}


def parse_sub_icbs(text: str) -> list[SubIcb]:
    """Parse a sub-ICB -> ICB file (either layout); periods of one sub-ICB must not overlap."""
    first = next(csv_rows(text), None)
    if first is not None and len(first[1]) == ECCG_COLUMNS:
        records = parse_eccg(text)
    else:
        records = _parse_own_layout(text)
    problems = overlaps(
        "sub-ICB", ((s.sub_icb_code, s.effective_from, s.effective_to) for s in records)
    )
    if problems:
        raise ReferenceFileError("sub-ICB file", problems)
    return records


def _parse_own_layout(text: str) -> list[SubIcb]:
    def build(cell: Cell) -> SubIcb:
        start, end = period(cell)
        sub_icb = org_code(cell("sub_icb_code"), "sub_icb_code")
        icb = org_code(cell("icb_code"), "icb_code")
        assert sub_icb is not None and icb is not None
        return SubIcb(
            sub_icb, optional(cell("sub_icb_name")), icb, optional(cell("icb_name")), start, end
        )

    return parse_table(text, "sub-ICB file", SUB_ICB_HEADER, build)


def _eccg_row(cells: list[str]) -> SubIcb:
    if len(cells) != ECCG_COLUMNS:
        raise ReferenceFieldError(
            f"expected {ECCG_COLUMNS} columns (eccg layout), got {len(cells)}"
        )
    code = org_code(cells[_ECCG["code"]], "organisation code")
    parent = org_code(cells[_ECCG["parent"]], "parent (column 4, the ICB)")
    opened = yyyymmdd(cells[_ECCG["open"]], "open date")
    closed = yyyymmdd(cells[_ECCG["close"]], "close date")
    assert code is not None and parent is not None
    if opened is None:
        raise ReferenceFieldError("open date is empty")
    if closed is not None and closed < opened:
        raise ReferenceFieldError(f"close date {closed} is before open date {opened}")
    return SubIcb(code, optional(cells[_ECCG["name"]]), parent, None, opened, closed)


def parse_eccg(text: str) -> list[SubIcb]:
    """Parse the ODS ``eccg`` file (no header, 27 columns). Every broken line is reported."""
    problems: list[tuple[int, str]] = []
    records: list[SubIcb] = []
    for line_no, cells in csv_rows(text):
        try:
            records.append(_eccg_row(cells))
        except ReferenceFieldError as exc:
            problems.append((line_no, str(exc)))
    if problems:
        raise ReferenceFileError("eccg file", problems)
    if not records:
        raise ReferenceFileError("eccg file", [(0, "no sub-ICB locations in the file")])
    return records
