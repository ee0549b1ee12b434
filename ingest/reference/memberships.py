"""Practice -> commissioner (sub-ICB location) memberships with effective dates (pure).

The project's layout: CSV with a header row
``practice_code,commissioner_code,effective_from,effective_to``. Dates ISO ``YYYY-MM-DD``,
both inclusive; an empty ``effective_to`` = still a member. The periods of one practice must
not overlap.
"""

from __future__ import annotations

from ingest.reference.csv_input import (
    Cell,
    ReferenceFileError,
    org_code,
    overlaps,
    parse_table,
    period,
    practice_code,
)
from ingest.reference.records import Membership

MEMBERSHIP_HEADER = ("practice_code", "commissioner_code", "effective_from", "effective_to")


def parse_memberships(text: str) -> list[Membership]:
    """Parse a memberships CSV; periods of one practice must not overlap."""

    def build(cell: Cell) -> Membership:
        start, end = period(cell)
        commissioner = org_code(cell("commissioner_code"), "commissioner_code")
        assert commissioner is not None
        return Membership(practice_code(cell("practice_code")), commissioner, start, end)

    records = parse_table(text, "memberships file", MEMBERSHIP_HEADER, build)
    problems = overlaps(
        "practice", ((m.practice_code, m.effective_from, m.effective_to) for m in records)
    )
    if problems:
        raise ReferenceFileError("memberships file", problems)
    return records
