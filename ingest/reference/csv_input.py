"""Shared reading of reference files: bytes to text, CSV rows with line numbers, headers,
field checks, and the one error every loader raises (pure; no I/O).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import itertools
import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import TypeVar

from ingest.contract.model import PRACTICE_CODE_RE
from ingest.errors import IngestError

# An ODS organisation code of a commissioner / ICB (e.g. "15N", "QHM", "D4U1Y").
ORG_CODE_RE = re.compile(r"\A[A-Z0-9]{3,9}\Z")
MAX_REPORTED_ERRORS = 20
# The published files' lines are a few hundred characters; a longer one is refused before the
# CSV reader splits it (a line of millions of cells would take many times its size).
MAX_LINE_CHARS = 64 * 1024
T = TypeVar("T")


class ReferenceFileError(IngestError):
    """A reference file could not be parsed; ``problems`` lists (line number, message)."""

    def __init__(self, what: str, problems: Sequence[tuple[int, str]]) -> None:
        shown = list(problems[:MAX_REPORTED_ERRORS])
        more = len(problems) - len(shown)
        lines = "; ".join(f"line {n}: {msg}" for n, msg in shown)
        suffix = f" (and {more} more)" if more > 0 else ""
        super().__init__(f"{what}: {len(problems)} problem(s): {lines}{suffix}")
        self.problems = list(problems)


class ReferenceFieldError(IngestError):
    """A problem with one field (becomes a line of ReferenceFileError)."""


def decode_text(data: bytes) -> str:
    """File bytes as text: UTF-8 (with or without BOM), else Windows-1252."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace")


# --- fields ----------------------------------------------------------------------------------


def optional(value: str) -> str | None:
    """The stripped value, or None when empty."""
    value = value.strip()
    return value or None


def yyyymmdd(value: str, column: str) -> dt.date | None:
    """A ``YYYYMMDD`` date (ODS files); empty = None."""
    value = value.strip()
    if not value:
        return None
    if not re.fullmatch(r"[0-9]{8}", value):
        raise ReferenceFieldError(f"{column} {value!r} is not a YYYYMMDD date")
    try:
        return dt.date(int(value[:4]), int(value[4:6]), int(value[6:]))
    except ValueError as exc:
        raise ReferenceFieldError(f"{column} {value!r} is not a valid date") from exc


def iso_date(value: str, column: str, *, required: bool) -> dt.date | None:
    """An ISO ``YYYY-MM-DD`` date; empty = None unless ``required``."""
    value = value.strip()
    if not value:
        if required:
            raise ReferenceFieldError(f"{column} is empty")
        return None
    try:
        if not re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", value):
            raise ValueError(value)
        return dt.date.fromisoformat(value)
    except ValueError as exc:
        raise ReferenceFieldError(f"{column} {value!r} is not an ISO date YYYY-MM-DD") from exc


_NHS_DATE_FORMATS = ("%Y-%m-%d", "%d%b%Y", "%d-%b-%Y", "%d-%b-%y", "%d/%m/%Y", "%Y%m%d")


def flexible_date(value: str, column: str) -> dt.date:
    """A date in any of the layouts NHS England / NHS Digital files use (``01Jan2022``...)."""
    value = value.strip()
    for fmt in _NHS_DATE_FORMATS:
        try:
            return dt.datetime.strptime(value, fmt).date()
        except ValueError:
            continue
    raise ReferenceFieldError(f"{column} {value!r} is not a date")


def practice_code(value: str, column: str = "practice_code") -> str:
    """An English/Welsh ODS GP practice code (A12345), upper-cased."""
    code = value.strip().upper()
    if not PRACTICE_CODE_RE.fullmatch(code):
        raise ReferenceFieldError(f"{column} {value!r} is not an ODS practice code (A12345)")
    return code


def org_code(value: str, column: str, *, required: bool = True) -> str | None:
    """An ODS organisation code (commissioner, ICB...), upper-cased; empty = None if allowed."""
    code = value.strip().upper()
    if not code:
        if required:
            raise ReferenceFieldError(f"{column} is empty")
        return None
    if not ORG_CODE_RE.fullmatch(code):
        raise ReferenceFieldError(f"{column} {value!r} is not an ODS organisation code")
    return code


def count(value: str, column: str) -> int:
    """A non-negative whole number (thousands separators allowed)."""
    value = value.strip().replace(",", "")
    if not value.isdigit():
        raise ReferenceFieldError(f"{column} {value!r} is not a non-negative whole number")
    return int(value)


# --- rows ------------------------------------------------------------------------------------


def csv_rows(text: str) -> Iterator[tuple[int, list[str]]]:
    """(line number of the row's start, cells) for each non-blank CSV row (CRLF or LF)."""
    reader = csv.reader(_bounded_lines(text), strict=True)
    line_no = 1
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            raise ReferenceFileError("CSV", [(reader.line_num, str(exc))]) from exc
        if any(cell.strip() for cell in cells):
            yield line_no, cells
        line_no = reader.line_num + 1


def _bounded_lines(text: str) -> Iterator[str]:
    """The lines of ``text`` one at a time (no list of them all), each at most
    MAX_LINE_CHARS long (else one ReferenceFileError)."""
    for number, line in enumerate(io.StringIO(text, newline=""), start=1):
        if len(line) > MAX_LINE_CHARS:
            raise ReferenceFileError(
                "CSV", [(number, f"line longer than {MAX_LINE_CHARS:,} characters ({len(line):,})")]
            )
        yield line


def with_header(
    text: str, what: str, required: Sequence[str]
) -> tuple[dict[str, int], Iterator[tuple[int, list[str]]]]:
    """The header's column index (lower-cased names) and the rows after it."""
    rows = csv_rows(text)
    first = next(rows, None)
    if first is None:
        raise ReferenceFileError(what, [(1, "the file is empty")])
    _, header = first
    index = {name.strip().lower(): i for i, name in enumerate(header)}
    missing = [name for name in required if name not in index]
    if missing:
        raise ReferenceFileError(
            what, [(1, f"header lacks {', '.join(missing)} (expected {','.join(required)})")]
        )
    return index, rows


Cell = Callable[[str], str]


def cell_getter(index: dict[str, int], cells: list[str]) -> Cell:
    """A function from column name to the row's cell ("" when the row is short)."""

    def cell(name: str) -> str:
        i = index[name]
        return cells[i] if i < len(cells) else ""

    return cell


def parse_table(
    text: str,
    what: str,
    header: Sequence[str],
    build: Callable[[Cell], T | None],
) -> list[T]:
    """Rows after the header through ``build`` (None = row skipped), problems collected."""
    index, rows = with_header(text, what, header)
    problems: list[tuple[int, str]] = []
    records: list[T] = []
    for line_no, cells in rows:
        try:
            record = build(cell_getter(index, cells))
        except ReferenceFieldError as exc:
            problems.append((line_no, str(exc)))
            continue
        if record is not None:
            records.append(record)
    if problems:
        raise ReferenceFileError(what, problems)
    if not records:
        raise ReferenceFileError(what, [(2, "no usable rows after the header")])
    return records


# --- periods ---------------------------------------------------------------------------------


def period(cell: Cell) -> tuple[dt.date, dt.date | None]:
    """(effective_from, effective_to) of a row; both inclusive, an empty end = open."""
    start = iso_date(cell("effective_from"), "effective_from", required=True)
    end = iso_date(cell("effective_to"), "effective_to", required=False)
    assert start is not None
    if end is not None and end < start:
        raise ReferenceFieldError(f"effective_to {end} is before effective_from {start}")
    return start, end


def overlaps(
    what: str,
    periods: Iterable[tuple[str, dt.date, dt.date | None]],
) -> list[tuple[int, str]]:
    """Problems for codes whose periods overlap (line numbers unknown here: 0)."""
    by_code: dict[str, list[tuple[dt.date, dt.date | None]]] = defaultdict(list)
    for code, start, end in periods:
        by_code[code].append((start, end))
    problems: list[tuple[int, str]] = []
    for code, spans in sorted(by_code.items()):
        spans.sort(key=lambda s: s[0])
        for (s1, e1), (s2, _) in itertools.pairwise(spans):
            if e1 is None or e1 >= s2:
                problems.append(
                    (0, f"{what} {code}: period from {s1} to {e1 or 'open'} overlaps one from {s2}")
                )
    return problems
