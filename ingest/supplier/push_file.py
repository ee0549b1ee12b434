"""Checking each row of a supplier's file of daily counts, as the consumer would (pure, no I/O).

The file's layouts and columns are described in :mod:`ingest.supplier.file_reading`.

Each row is checked with the consumer's own rules (:func:`ingest.supplier.counts.check_counts`),
so a row that passes here is not rejected later for its content. Every problem is reported
as (line, field, reason, detail); ``reason`` is a contract reason code (e.g.
``invalid_practice_code``) or one of the file-level codes in
:class:`~ingest.supplier.problems.FileReason`.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from ingest.contract.model import COUNT_FIELDS, Reason
from ingest.contract.validation import Limits
from ingest.supplier.counts import SCHEMA_VERSIONS, DailyCounts, check_counts
from ingest.supplier.file_reading import COLUMNS, FileFormat, RawRow, read_rows
from ingest.supplier.problems import FieldProblem, FileError, FileReason, RowProblem

INT32_MAX = 2**31 - 1
# ASCII digits only ("\d" would read "١٢" as 12); fullmatch (no trailing newline)
_DATE_RE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_INT_RE = re.compile(r"[+-]?[0-9]+")


@dataclass(frozen=True, slots=True)
class CheckedRow:
    """A row after checking: its counts when it is good, else every problem found."""

    line: int
    counts: DailyCounts | None
    problems: tuple[RowProblem, ...] = ()
    repeat_of: int | None = None  # the earlier line with the same row (sent once)

    @property
    def ok(self) -> bool:
        return self.counts is not None and not self.problems


@dataclass
class FileCheck:
    """Running totals of a file's check."""

    rows: int = 0
    good: int = 0
    bad: int = 0
    repeats: int = 0
    header_problems: list[RowProblem] = field(default_factory=list)

    def add(self, row: CheckedRow) -> None:
        self.rows += 1
        if row.repeat_of is not None:
            self.repeats += 1
        elif row.ok:
            self.good += 1
        else:
            self.bad += 1

    @property
    def clean(self) -> bool:
        return not self.bad and not self.header_problems


def _text(value: Any) -> str | None:
    """A cell as text; None when empty or null."""
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def _integer(name: str, value: Any) -> int | FieldProblem | None:
    if isinstance(value, bool):
        return FieldProblem(name, FileReason.NOT_AN_INTEGER, f"{name} {value!r} is not an integer")
    if isinstance(value, int):
        number = value
    elif isinstance(value, float) and value.is_integer():
        number = int(value)
    else:
        text = _text(value)
        if text is None:
            return None
        if not _INT_RE.fullmatch(text):
            return FieldProblem(
                name, FileReason.NOT_AN_INTEGER, f"{name} {text!r} is not a whole number"
            )
        number = int(text)
    if abs(number) > INT32_MAX:
        return FieldProblem(
            name, Reason.IMPLAUSIBLE_COUNT, f"{name} {number} does not fit a 32-bit integer"
        )
    return number


def _date(value: Any) -> dt.date | FieldProblem | None:
    text = _text(value)
    if text is None:
        return None
    if _DATE_RE.fullmatch(text):
        try:
            return dt.date.fromisoformat(text)
        except ValueError as exc:
            return FieldProblem("activity_date", FileReason.NOT_A_DATE, f"{text!r}: {exc}")
    return FieldProblem(
        "activity_date", FileReason.NOT_A_DATE, f"activity_date {text!r} is not YYYY-MM-DD"
    )


def parse_row(row: RawRow, supplier_id: str) -> DailyCounts | list[FieldProblem]:
    """The counts of a row, or what prevents reading them (before the contract's rules)."""
    values = row.values
    if "" in values:
        return [FieldProblem("-", FileReason.MALFORMED_LINE, str(values[""]))]
    problems: list[FieldProblem] = [
        FieldProblem(key, FileReason.UNKNOWN_COLUMN, f"field {key!r} is not one of the columns")
        for key in values
        if key not in COLUMNS
    ]
    claimed = _text(values.get("supplier_id"))
    if claimed is not None and claimed != supplier_id:
        problems.append(
            FieldProblem(
                "supplier_id",
                Reason.SUPPLIER_MISMATCH,
                f"supplier_id {claimed!r} differs from the supplier pushing the file"
                f" {supplier_id!r}",
            )
        )
    code = _text(values.get("practice_code"))
    if code is None:
        problems.append(FieldProblem("practice_code", FileReason.MISSING_VALUE, "empty"))
    day = _date(values.get("activity_date"))
    if day is None:
        problems.append(FieldProblem("activity_date", FileReason.MISSING_VALUE, "empty"))
    elif isinstance(day, FieldProblem):
        problems.append(day)
    numbers: dict[str, int | None] = {}
    for name in (*COUNT_FIELDS, "revision"):
        parsed = _integer(name, values.get(name))
        if isinstance(parsed, FieldProblem):
            problems.append(parsed)
        else:
            numbers[name] = parsed
    if "total_requests" in numbers and numbers["total_requests"] is None:
        problems.append(FieldProblem("total_requests", FileReason.MISSING_VALUE, "empty"))
    if problems or code is None or not isinstance(day, dt.date):
        return problems
    total = numbers["total_requests"]
    revision = numbers["revision"]
    if total is None:  # reported above; narrows the type
        return problems
    optional = {name: numbers[name] for name in COUNT_FIELDS if name != "total_requests"}
    return DailyCounts(
        practice_code=code,
        activity_date=day,
        total_requests=total,
        revision=1 if revision is None else revision,
        **optional,
    )


def check_row(row: RawRow, supplier_id: str, limits: Limits, schema_version: int = 1) -> CheckedRow:
    """Parse a row and apply the consumer's rules to it."""
    parsed = parse_row(row, supplier_id)
    if isinstance(parsed, list):
        problems = parsed
        counts = None
    else:
        counts = parsed
        problems = check_counts(parsed, supplier_id, limits, schema_version)
    located = tuple(RowProblem(row.line, p.field, p.reason, p.detail) for p in problems)
    return CheckedRow(row.line, counts, located)


class RepeatTracker:
    """Rows that say the same practice-day and revision twice in one file.

    Same figures: a harmless repeat (sent once). Different figures: the later row is refused
    ``conflicting_revision``, as the consumer would refuse it.
    """

    def __init__(self) -> None:
        self._seen: dict[tuple[str, dt.date, int], tuple[int, tuple[int | None, ...]]] = {}

    def check(self, row: CheckedRow) -> CheckedRow:
        if not row.ok or row.counts is None:
            return row
        identity = row.counts.identity()
        earlier = self._seen.get(identity)
        if earlier is None:
            self._seen[identity] = (row.line, row.counts.counts())
            return row
        line, figures = earlier
        if figures == row.counts.counts():
            return CheckedRow(row.line, row.counts, (), repeat_of=line)
        code, day, revision = identity
        problem = RowProblem(
            row.line,
            "revision",
            Reason.CONFLICTING_REVISION.value,
            f"line {line} already has revision {revision} of {code} {day.isoformat()} with"
            " different figures: a restatement needs a higher revision",
        )
        return CheckedRow(row.line, None, (problem,))


def check_lines(
    lines: Iterable[str],
    fmt: FileFormat,
    supplier_id: str,
    limits: Limits,
    schema_version: int = 1,
) -> tuple[list[RowProblem], Iterator[CheckedRow]]:
    """Header problems and every checked row of a file's lines, lazily (large files stream)."""
    if schema_version not in SCHEMA_VERSIONS:
        raise FileError(
            f"schema version {schema_version} cannot be written by the push tool"
            f" (choose {' or '.join(map(str, SCHEMA_VERSIONS))})"
        )
    problems, raw = read_rows(lines, fmt)
    tracker = RepeatTracker()

    def checked() -> Iterator[CheckedRow]:
        for row in raw:
            yield tracker.check(check_row(row, supplier_id, limits, schema_version))

    return problems, checked()
