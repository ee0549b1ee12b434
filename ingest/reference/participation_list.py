"""The practice participation list file (contract v1.1 section 6; pure).

CSV with a header row ``practice_code,participating_from,participating_to`` (column names
case-insensitive, extra columns ignored). Dates ISO ``YYYY-MM-DD``, both inclusive; an empty
``participating_to`` = still participating. The periods of one practice must not overlap.
"""

from __future__ import annotations

from ingest.contract.participation import ParticipationPeriod
from ingest.reference.csv_input import (
    Cell,
    ReferenceFieldError,
    ReferenceFileError,
    iso_date,
    overlaps,
    parse_table,
    practice_code,
)

PARTICIPATION_HEADER = ("practice_code", "participating_from", "participating_to")


def parse_participation(text: str) -> list[ParticipationPeriod]:
    """Parse a participation list; periods of one practice must not overlap."""

    def build(cell: Cell) -> ParticipationPeriod:
        start = iso_date(cell("participating_from"), "participating_from", required=True)
        end = iso_date(cell("participating_to"), "participating_to", required=False)
        assert start is not None
        if end is not None and end < start:
            raise ReferenceFieldError(
                f"participating_to {end} is before participating_from {start}"
            )
        return ParticipationPeriod(practice_code(cell("practice_code")), start, end)

    records = parse_table(text, "participation file", PARTICIPATION_HEADER, build)
    problems = overlaps(
        "practice",
        ((p.practice_code, p.participating_from, p.participating_to) for p in records),
    )
    if problems:
        raise ReferenceFileError("participation file", problems)
    return records
