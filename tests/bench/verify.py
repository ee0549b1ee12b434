"""Checking the final tables against the replayed expectation, row by row."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass, field
from typing import TypeVar

import asyncpg

from ingest.contract.model import COUNT_FIELDS
from tests.bench.data import Expected, Figures, Key

_K = TypeVar("_K")
_V = TypeVar("_V")

_COUNTS = ", ".join(COUNT_FIELDS)
_N = len(COUNT_FIELDS)


@dataclass
class Verification:
    current_rows: int = 0
    revision_rows: int = 0
    rejected_rows: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def _figures(row: asyncpg.Record, start: int) -> Figures:
    return tuple(row[start : start + _N])


async def verify(
    database_url: str,
    expected: Expected,
    activity_since: dt.date | None = None,
    received_since: dt.datetime | None = None,
) -> Verification:
    """Every current row, every revision and the rejections by reason, exactly.

    On a database that held rows before (tests/bench/run_scale.py), only the activity dates
    from ``activity_since`` and the rejections received from ``received_since`` are checked.
    """
    out = Verification()
    day = activity_since or dt.date.min
    received = received_since or dt.datetime.min.replace(tzinfo=dt.UTC)
    conn = await asyncpg.connect(database_url)
    try:
        current: dict[Key, tuple[int, Figures, str]] = {}
        for row in await conn.fetch(
            "SELECT supplier_id, practice_code, activity_date, revision,"
            f" {_COUNTS}, event_id::text FROM triage.daily_requests WHERE activity_date >= $1",
            day,
        ):
            current[(row[0], row[1], row[2])] = (row[3], _figures(row, 4), row[4 + _N])
        out.current_rows = len(current)
        _compare(out, "daily_requests", current, expected.current)
        del current
        revisions: dict[tuple[str, str, dt.date, int], Figures] = {}
        for row in await conn.fetch(
            "SELECT supplier_id, practice_code, activity_date, revision,"
            f" {_COUNTS} FROM triage.daily_request_revisions WHERE activity_date >= $1",
            day,
        ):
            revisions[(row[0], row[1], row[2], row[3])] = _figures(row, 4)
        out.revision_rows = len(revisions)
        _compare(out, "daily_request_revisions", revisions, expected.revisions)
        del revisions
        rejected = Counter(
            {
                r["reason"]: int(r["n"])
                for r in await conn.fetch(
                    "SELECT reason, count(*) AS n FROM triage.rejected_events"
                    " WHERE received_at >= $1 GROUP BY reason",
                    received,
                )
            }
        )
        out.rejected_rows = sum(rejected.values())
        if rejected != expected.rejected:
            out.problems.append(
                f"rejected_events by reason {dict(rejected)} != {dict(expected.rejected)}"
            )
    finally:
        await conn.close()
    return out


def _compare(out: Verification, table: str, got: dict[_K, _V], want: dict[_K, _V]) -> None:
    if len(got) != len(want):
        out.problems.append(f"{table}: {len(got)} rows, expected {len(want)}")
    wrong = [k for k, v in want.items() if got.get(k) != v]
    if wrong:
        k = wrong[0]
        out.problems.append(
            f"{table}: {len(wrong)} rows differ, e.g. {k}: {got.get(k)} != {want[k]}"
        )
