"""Reading the rows of a supplier's file of daily per-practice counts (pure, no I/O).

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
``patient_submitted_requests``  no         integer >= 0 (schema v2 or v3)
``staff_submitted_requests``    no         integer >= 0 (schema v2 or v3)
``requests_00_06`` ...          no         the nine time bands, integers >= 0 (schema v3):
``requests_18_24``,                        ``requests_00_06``, ``requests_06_08``, ...
``requests_time_unknown``                  ``requests_18_24``, ``requests_time_unknown``;
                                           all empty, or all given and summing to
                                           ``total_requests``
``supplier_id``                 no         when present, must be the supplier pushing the file
==============================  =========  ===================================================
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from ingest.contract.model import BAND_FIELDS
from ingest.supplier.problems import FileError, FileReason, RowProblem

FileFormat = Literal["csv", "jsonl"]

REQUIRED_COLUMNS: tuple[str, ...] = ("practice_code", "activity_date", "total_requests")
OPTIONAL_COLUMNS: tuple[str, ...] = (
    "clinical_requests",
    "admin_requests",
    "other_requests",
    "revision",
    "patient_submitted_requests",
    "staff_submitted_requests",
    *BAND_FIELDS,
    "supplier_id",
)
COLUMNS: tuple[str, ...] = (*REQUIRED_COLUMNS, *OPTIONAL_COLUMNS)


@dataclass(frozen=True, slots=True)
class RawRow:
    """One row as read: the 1-based line it starts on and its values (str, int, None...)."""

    line: int
    values: Mapping[str, Any]


def format_of(name: str, declared: str | None = None) -> FileFormat:
    """The layout of a file: ``declared`` (csv / jsonl) or its suffix."""
    choice = (declared or name.rsplit(".", 1)[-1]).lower()
    if choice == "csv":
        return "csv"
    if choice in ("jsonl", "ndjson", "json"):
        return "jsonl"
    if declared is not None:
        raise FileError(f"--format {declared!r} is not a layout: use csv or jsonl")
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
        while True:
            try:
                cells = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:  # e.g. a field over the csv module's 128 KiB limit
                line, start = start, reader.line_num + 1
                yield RawRow(line, {"": f"unreadable CSV: {exc}"})
                continue
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
        except RecursionError:
            yield RawRow(number, {"": "JSON nested too deeply (a row is one flat object)"})
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
