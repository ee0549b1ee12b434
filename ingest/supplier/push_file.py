"""Reading a supplier's file of daily per-practice counts and checking each row (pure, no I/O).

Two layouts are read, one row per practice-day:

* CSV with a header line (UTF-8, a leading byte-order mark is ignored);
* JSON lines: one JSON object per line (blank lines are skipped).

Columns (CSV header names = JSON keys):

==============================  =========  ===================================================
column                          required   value
==============================  =========  ===================================================
``practice_code``               yes        ODS GP practice code, e.g. ``A81001``
``activity_date``               yes        ``YYYY-MM-DD``, the UK calendar day counted
``total_requests``              yes        integer >= 0
``clinical_requests``           no         integer >= 0, or empty / null
``admin_requests``              no         integer >= 0, or empty / null
``other_requests``              no         integer >= 0, or empty / null
``revision``                    no         integer >= 1, default 1
``patient_submitted_requests``  no         integer >= 0 (schema v2 only)
``staff_submitted_requests``    no         integer >= 0 (schema v2 only)
``supplier_id``                 no         when present, must be the supplier pushing the file
==============================  =========  ===================================================

Each row is checked with the consumer's own rules (:func:`ingest.contract.validation.check_event`),
so a row that passes here is not rejected later for its content. Every problem is reported
as (line, field, reason, detail); ``reason`` is a contract reason code (e.g.
``invalid_practice_code``) or one of the file-level codes in :class:`FileReason`.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Literal

from ingest.contract.model import BREAKDOWN_FIELDS, COUNT_FIELDS, V1_COUNT_FIELDS, Reason
from ingest.contract.validation import Limits, Problem, check_event
from ingest.errors import IngestError

FileFormat = Literal["csv", "jsonl"]

REQUIRED_COLUMNS: tuple[str, ...] = ("practice_code", "activity_date", "total_requests")
OPTIONAL_COLUMNS: tuple[str, ...] = (
    "clinical_requests",
    "admin_requests",
    "other_requests",
    "revision",
    "patient_submitted_requests",
    "staff_submitted_requests",
    "supplier_id",
)
COLUMNS: tuple[str, ...] = (*REQUIRED_COLUMNS, *OPTIONAL_COLUMNS)
V2_ONLY_FIELDS: tuple[str, ...] = tuple(f for f in COUNT_FIELDS if f not in V1_COUNT_FIELDS)
INT32_MAX = 2**31 - 1
_DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_INT_RE = re.compile(r"^[+-]?\d+$")
SCHEMA_VERSIONS: tuple[int, ...] = (1, 2)
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


class FileError(IngestError):
    """The file as a whole cannot be read (unknown layout, not UTF-8...)."""


class FileReason(StrEnum):
    """Reason codes of problems found before the contract's rules can be applied."""

    MISSING_COLUMN = "missing_column"
    UNKNOWN_COLUMN = "unknown_column"
    DUPLICATE_COLUMN = "duplicate_column"
    MALFORMED_LINE = "malformed_line"
    MISSING_VALUE = "missing_value"
    NOT_AN_INTEGER = "not_an_integer"
    NOT_A_DATE = "not_a_date"
    NEEDS_SCHEMA_V2 = "needs_schema_v2"


@dataclass(frozen=True, slots=True)
class FieldProblem:
    """One thing wrong with one field of an event or a row."""

    field: str
    reason: str  # a Reason or FileReason value
    detail: str


@dataclass(frozen=True, slots=True)
class RowProblem:
    """A FieldProblem located in a file (1-based line number; the CSV header is line 1)."""

    line: int
    field: str
    reason: str
    detail: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.field}: {self.reason}: {self.detail}"


@dataclass(frozen=True, slots=True)
class DailyCounts:
    """One practice-day's counts, as a supplier reports them (the content of one event).

    The v2 fields (``patient_submitted_requests``, ``staff_submitted_requests``) can only be
    sent with schema v2; leave them ``None`` for v1.
    """

    practice_code: str
    activity_date: dt.date
    total_requests: int
    clinical_requests: int | None = None
    admin_requests: int | None = None
    other_requests: int | None = None
    revision: int = 1
    patient_submitted_requests: int | None = None
    staff_submitted_requests: int | None = None

    def counts(self) -> tuple[int | None, ...]:
        """The count fields in COUNT_FIELDS order."""
        return tuple(getattr(self, name) for name in COUNT_FIELDS)

    def identity(self) -> tuple[str, dt.date, int]:
        """(practice_code, activity_date, revision): what the consumer deduplicates on."""
        return (self.practice_code, self.activity_date, self.revision)

    def event(self, supplier_id: str, event_id: str, generated_at: dt.datetime) -> dict[str, Any]:
        """The event in the current (v2) shape; a v1 writer drops the v2 fields."""
        payload: dict[str, Any] = {
            "event_id": event_id,
            "supplier_id": supplier_id,
            "practice_code": self.practice_code,
            "activity_date": self.activity_date,
            "revision": self.revision,
            "generated_at": generated_at,
        }
        payload.update(zip(COUNT_FIELDS, self.counts(), strict=True))
        return payload


def check_counts(
    counts: DailyCounts, supplier_id: str, limits: Limits, schema_version: int = 1
) -> list[FieldProblem]:
    """Every problem the consumer would find with this event, plus what schema v1 cannot carry.

    The consumer's rules are applied as they are (``check_event``), in the contract's order of
    reason codes; each problem is tied to the field it is about.
    """
    problems: list[FieldProblem] = []
    if schema_version == 1:
        for name in V2_ONLY_FIELDS:
            if getattr(counts, name) is not None:
                problems.append(
                    FieldProblem(
                        name,
                        FileReason.NEEDS_SCHEMA_V2.value,
                        f"{name} exists from schema v2 on: send with schema version 2"
                        " (--schema-version 2) or leave it empty",
                    )
                )
    event = counts.event(supplier_id, "", _EPOCH)
    problems.extend(
        FieldProblem(field_of(p), p.reason.value, p.detail)
        for p in check_event(event, supplier_id, limits)
    )
    return problems


def field_of(problem: Problem) -> str:
    """The field a validation problem is about."""
    match problem.reason:
        case Reason.SUPPLIER_MISMATCH:
            return "supplier_id"
        case Reason.INVALID_PRACTICE_CODE:
            return "practice_code"
        case Reason.ACTIVITY_DATE_OUT_OF_RANGE:
            return "activity_date"
        case Reason.INVALID_REVISION:
            return "revision"
        case Reason.INCONSISTENT_BREAKDOWN:
            return "+".join(BREAKDOWN_FIELDS)
        case Reason.NEGATIVE_COUNT | Reason.IMPLAUSIBLE_COUNT:
            named = problem.detail.split(" ", 1)[0]  # details start with the field name
            return named if named in COUNT_FIELDS else "total_requests"
        case _:
            return "-"


# --------------------------------------------------------------------------------------
# reading rows
# --------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RawRow:
    """One row as read: the 1-based line it starts on and its values (str, int, None...)."""

    line: int
    values: Mapping[str, Any]


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


def format_of(name: str, declared: str | None = None) -> FileFormat:
    """The layout of a file: ``declared`` (csv / jsonl) or its suffix."""
    choice = (declared or name.rsplit(".", 1)[-1]).lower()
    if choice == "csv":
        return "csv"
    if choice in ("jsonl", "ndjson", "json"):
        return "jsonl"
    raise FileError(
        f"cannot tell the layout of {name!r}: name it *.csv or *.jsonl (or *.ndjson), or pass"
        " --format csv|jsonl"
    )


def header_problems(columns: list[str]) -> list[RowProblem]:
    """What is wrong with a CSV header (reported on line 1)."""
    problems: list[RowProblem] = []
    seen: set[str] = set()
    for column in columns:
        if column in seen:
            problems.append(
                RowProblem(1, column, FileReason.DUPLICATE_COLUMN, f"column {column!r} twice")
            )
        seen.add(column)
        if column not in COLUMNS:
            problems.append(
                RowProblem(
                    1,
                    column,
                    FileReason.UNKNOWN_COLUMN,
                    f"column {column!r} is not one of {', '.join(COLUMNS)}",
                )
            )
    for column in REQUIRED_COLUMNS:
        if column not in seen:
            problems.append(
                RowProblem(1, column, FileReason.MISSING_COLUMN, f"required column {column!r}")
            )
    return problems


def read_csv(lines: Iterable[str]) -> tuple[list[RowProblem], Iterator[RawRow]]:
    """Header problems, and the rows of a CSV file (blank lines skipped).

    When the header has a problem no row is read: every row would carry it.
    """
    iterator = iter(lines)
    reader = csv.reader(iterator)
    try:
        header = [h.strip().lstrip("\ufeff").strip() for h in next(reader)]
    except StopIteration:
        return [RowProblem(1, "-", FileReason.MISSING_COLUMN, "the file is empty")], iter(())
    problems = header_problems(header)
    if problems:
        return problems, iter(())

    def rows() -> Iterator[RawRow]:
        start = reader.line_num + 1
        for cells in reader:
            line, start = start, reader.line_num + 1
            if not any(c.strip() for c in cells):
                continue
            if len(cells) != len(header):
                yield RawRow(line, {"": f"{len(cells)} cells, the header has {len(header)}"})
                continue
            yield RawRow(line, dict(zip(header, cells, strict=True)))

    return [], rows()


def read_jsonl(lines: Iterable[str]) -> Iterator[RawRow]:
    """The rows of a JSON-lines file (blank lines skipped)."""
    for number, text in enumerate(lines, start=1):
        stripped = text.strip().lstrip("\ufeff")
        if not stripped:
            continue
        try:
            value = json.loads(stripped)
        except json.JSONDecodeError as exc:
            yield RawRow(number, {"": f"not JSON: {exc.msg} at column {exc.colno}"})
            continue
        if not isinstance(value, dict):
            yield RawRow(number, {"": f"a JSON {type(value).__name__}, not an object"})
            continue
        yield RawRow(number, value)


def read_rows(lines: Iterable[str], fmt: FileFormat) -> tuple[list[RowProblem], Iterator[RawRow]]:
    """Header problems (CSV only) and the rows of a file in either layout."""
    if fmt == "csv":
        return read_csv(lines)
    return [], read_jsonl(lines)


# --------------------------------------------------------------------------------------
# checking rows
# --------------------------------------------------------------------------------------


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
        if not _INT_RE.match(text):
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
    if _DATE_RE.match(text):
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
    return DailyCounts(
        practice_code=code,
        activity_date=day,
        total_requests=total,
        clinical_requests=numbers["clinical_requests"],
        admin_requests=numbers["admin_requests"],
        other_requests=numbers["other_requests"],
        revision=1 if revision is None else revision,
        patient_submitted_requests=numbers["patient_submitted_requests"],
        staff_submitted_requests=numbers["staff_submitted_requests"],
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
