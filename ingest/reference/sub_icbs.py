"""Sub-ICB location -> ICB with effective dates (pure).

The project's layout: CSV with a header row
``sub_icb_code,sub_icb_name,icb_code,icb_name,effective_from,effective_to`` (names may be
empty). Periods of one sub-ICB must not overlap.
"""

from __future__ import annotations

from ingest.reference.csv_input import (
    Cell,
    ReferenceFileError,
    optional,
    org_code,
    overlaps,
    parse_table,
    period,
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


def parse_sub_icbs(text: str) -> list[SubIcb]:
    """Parse a sub-ICB -> ICB CSV; periods of one sub-ICB must not overlap."""

    def build(cell: Cell) -> SubIcb:
        start, end = period(cell)
        sub_icb = org_code(cell("sub_icb_code"), "sub_icb_code")
        icb = org_code(cell("icb_code"), "icb_code")
        assert sub_icb is not None and icb is not None
        return SubIcb(
            sub_icb, optional(cell("sub_icb_name")), icb, optional(cell("icb_name")), start, end
        )

    records = parse_table(text, "sub-ICB file", SUB_ICB_HEADER, build)
    problems = overlaps(
        "sub-ICB", ((s.sub_icb_code, s.effective_from, s.effective_to) for s in records)
    )
    if problems:
        raise ReferenceFileError("sub-ICB file", problems)
    return records
