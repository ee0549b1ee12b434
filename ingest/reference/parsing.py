"""Parsing of reference files (pure: text in, validated records out; no I/O).

Four kinds of file, each loaded as one versioned load (see ``ingest.reference.store``):

``practices``
    The NHS ODS GP practices file ``epraccur.csv``: no header, every field usually quoted,
    27 columns (layout below, as published by ODS; checked from memory of the published
    layout, so verify against the ODS "GP and GP practice related data" documentation when
    the file changes). Dates are ``YYYYMMDD``; empty = none.

``memberships``
    Practice -> commissioner (sub-ICB location) with effective dates. CSV with a header row:
    ``practice_code,commissioner_code,effective_from,effective_to``. Dates ISO
    ``YYYY-MM-DD``, both inclusive; an empty ``effective_to`` = still a member. The periods of
    one practice must not overlap.

``sub_icbs``
    Sub-ICB location -> ICB with effective dates. CSV with a header row:
    ``sub_icb_code,sub_icb_name,icb_code,icb_name,effective_from,effective_to`` (names may
    be empty). Periods of one sub-ICB must not overlap.

``list_sizes``
    Registered patients per practice. CSV with a header row, either the project's layout
    ``practice_code,extract_date,registered_patients`` or the NHS Digital "Patients
    Registered at a GP Practice" totals layout (columns ``EXTRACT_DATE``, ``CODE``,
    ``NUMBER_OF_PATIENTS``, and when present ``TYPE``/``SEX``/``AGE``, of which only the
    ``GP``/``ALL``/``ALL`` rows are kept).

Column names in the files are case-insensitive; extra columns are ignored.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import itertools
import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import astuple, dataclass, fields
from enum import StrEnum
from typing import Any, TypeVar

from ingest.contract.model import PRACTICE_CODE_RE
from ingest.errors import IngestError

# An ODS organisation code of a commissioner / ICB (e.g. "15N", "QHM", "D4U1Y").
ORG_CODE_RE = re.compile(r"^[A-Z0-9]{3,9}$")
MAX_REPORTED_ERRORS = 20


class ReferenceKind(StrEnum):
    """The kinds of reference load (``triage.reference_loads.kind``)."""

    PRACTICES = "practices"
    MEMBERSHIPS = "memberships"
    SUB_ICBS = "sub_icbs"
    LIST_SIZES = "list_sizes"


class ReferenceFileError(IngestError):
    """A reference file could not be parsed; ``problems`` lists (line number, message)."""

    def __init__(self, what: str, problems: Sequence[tuple[int, str]]) -> None:
        shown = list(problems[:MAX_REPORTED_ERRORS])
        more = len(problems) - len(shown)
        lines = "; ".join(f"line {n}: {msg}" for n, msg in shown)
        suffix = f" (and {more} more)" if more > 0 else ""
        super().__init__(f"{what}: {len(problems)} problem(s): {lines}{suffix}")
        self.problems = list(problems)


# ---------------------------------------------------------------------------------------------
# epraccur
# ---------------------------------------------------------------------------------------------

# The published epraccur layout, in order. None marks the columns ODS publishes as null.
EPRACCUR_LAYOUT: tuple[str | None, ...] = (
    "practice_code",  # 1  Organisation Code
    "name",  # 2  Name
    "national_grouping",  # 3  National Grouping (NHS England region, e.g. Y63)
    "high_level_health_geography",  # 4  High Level Health Geography (ICB, e.g. QHM)
    "address_line_1",  # 5
    "address_line_2",  # 6
    "address_line_3",  # 7
    "address_line_4",  # 8
    "address_line_5",  # 9
    "postcode",  # 10
    "open_date",  # 11 YYYYMMDD
    "close_date",  # 12 YYYYMMDD or empty
    "status_code",  # 13 A active, C closed, D dormant, P proposed
    "sub_type_code",  # 14 Organisation Sub-Type Code (B allocated, Z not applicable)
    "commissioner_code",  # 15 Commissioner (parent: sub-ICB location)
    "join_date",  # 16 Join Provider/Purchaser Date
    "left_date",  # 17 Left Provider/Purchaser Date
    "telephone",  # 18 Contact Telephone Number
    None,  # 19 Null
    None,  # 20 Null
    None,  # 21 Null
    "amended_record_indicator",  # 22 Amended Record Indicator
    None,  # 23 Null
    "provider_purchaser_code",  # 24 Provider/Purchaser (commissioner)
    None,  # 25 Null
    "prescribing_setting",  # 26 Prescribing Setting (4 = GP practice)
    None,  # 27 Null
)
EPRACCUR_COLUMNS = len(EPRACCUR_LAYOUT)
STATUS_CODES = frozenset({"A", "C", "D", "P"})

# Prescribing setting codes of the ODS files (documentation only; not enforced).
PRESCRIBING_SETTINGS: dict[int, str] = {
    0: "Other",
    1: "WIC Practice",
    2: "OOH Practice",
    3: "WIC + OOH Practice",
    4: "GP Practice",
    8: "Public Health Service",
    9: "Community Health Service",
    10: "Hospital Service",
    11: "Optometry Service",
    12: "Urgent & Emergency Care",
    13: "Hospice",
    14: "Care Home / Nursing Home",
    15: "Border Force",
    16: "Young Offender Institution",
    17: "Secure Training Centre",
    18: "Secure Children's Home",
    19: "Immigration Removal Centre",
    20: "Court",
    21: "Police Custody",
    22: "Sexual Assault Referral Centre (SARC)",
    24: "Other - Justice Estate",
    25: "Prison",
}


@dataclass(frozen=True, slots=True)
class Practice:
    """One epraccur row; field names are the ``triage.ref_practices`` column names."""

    practice_code: str
    name: str
    national_grouping: str | None
    high_level_health_geography: str | None
    address_line_1: str | None
    address_line_2: str | None
    address_line_3: str | None
    address_line_4: str | None
    address_line_5: str | None
    postcode: str | None
    open_date: dt.date | None
    close_date: dt.date | None
    status_code: str | None
    sub_type_code: str | None
    commissioner_code: str | None
    join_date: dt.date | None
    left_date: dt.date | None
    telephone: str | None
    amended_record_indicator: str | None
    provider_purchaser_code: str | None
    prescribing_setting: int | None


@dataclass(frozen=True, slots=True)
class Membership:
    """Practice -> commissioner (sub-ICB) from ``effective_from`` to ``effective_to``."""

    practice_code: str
    commissioner_code: str
    effective_from: dt.date
    effective_to: dt.date | None


@dataclass(frozen=True, slots=True)
class SubIcb:
    """Sub-ICB location -> ICB from ``effective_from`` to ``effective_to``."""

    sub_icb_code: str
    sub_icb_name: str | None
    icb_code: str
    icb_name: str | None
    effective_from: dt.date
    effective_to: dt.date | None


@dataclass(frozen=True, slots=True)
class ListSize:
    """Registered patients of a practice at an extract date."""

    practice_code: str
    extract_date: dt.date
    registered_patients: int


Record = Practice | Membership | SubIcb | ListSize
R = TypeVar("R", Practice, Membership, SubIcb, ListSize)


def columns_of(record_type: type[Record]) -> tuple[str, ...]:
    """The database column names of a record type (its field names, in order)."""
    return tuple(f.name for f in fields(record_type))


def as_row(record: Record) -> tuple[Any, ...]:
    """The record as a tuple in ``columns_of`` order."""
    return astuple(record)


def decode_text(data: bytes) -> str:
    """File bytes as text: UTF-8 (with or without BOM), else Windows-1252."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace")


class _Problem(Exception):
    """A problem with one field (internal; becomes a line of ReferenceFileError)."""


def _opt(value: str) -> str | None:
    value = value.strip()
    return value or None


def _yyyymmdd(value: str, column: str) -> dt.date | None:
    value = value.strip()
    if not value:
        return None
    if not re.fullmatch(r"\d{8}", value):
        raise _Problem(f"{column} {value!r} is not a YYYYMMDD date")
    try:
        return dt.date(int(value[:4]), int(value[4:6]), int(value[6:]))
    except ValueError as exc:
        raise _Problem(f"{column} {value!r} is not a valid date") from exc


def _iso_date(value: str, column: str, *, required: bool) -> dt.date | None:
    value = value.strip()
    if not value:
        if required:
            raise _Problem(f"{column} is empty")
        return None
    try:
        if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
            raise ValueError(value)
        return dt.date.fromisoformat(value)
    except ValueError as exc:
        raise _Problem(f"{column} {value!r} is not an ISO date YYYY-MM-DD") from exc


def _practice_code(value: str, column: str = "practice_code") -> str:
    code = value.strip().upper()
    if not PRACTICE_CODE_RE.match(code):
        raise _Problem(f"{column} {value!r} is not an ODS practice code (A12345)")
    return code


def _org_code(value: str, column: str, *, required: bool = True) -> str | None:
    code = value.strip().upper()
    if not code:
        if required:
            raise _Problem(f"{column} is empty")
        return None
    if not ORG_CODE_RE.match(code):
        raise _Problem(f"{column} {value!r} is not an ODS organisation code")
    return code


def _parse_practice(cells: list[str]) -> Practice:
    if len(cells) != EPRACCUR_COLUMNS:
        raise _Problem(f"expected {EPRACCUR_COLUMNS} columns (epraccur layout), got {len(cells)}")
    named = {name: cells[i] for i, name in enumerate(EPRACCUR_LAYOUT) if name is not None}
    name = named["name"].strip()
    if not name:
        raise _Problem("name is empty")
    status = _opt(named["status_code"])
    if status is not None and status not in STATUS_CODES:
        raise _Problem(f"status code {status!r} is not one of A, C, D, P")
    setting_text = named["prescribing_setting"].strip()
    if setting_text and not setting_text.isdigit():
        raise _Problem(f"prescribing setting {setting_text!r} is not a number")
    open_date = _yyyymmdd(named["open_date"], "open date")
    close_date = _yyyymmdd(named["close_date"], "close date")
    if open_date and close_date and close_date < open_date:
        raise _Problem(f"close date {close_date} is before open date {open_date}")
    return Practice(
        practice_code=_practice_code(named["practice_code"], "organisation code"),
        name=name,
        national_grouping=_opt(named["national_grouping"]),
        high_level_health_geography=_opt(named["high_level_health_geography"]),
        address_line_1=_opt(named["address_line_1"]),
        address_line_2=_opt(named["address_line_2"]),
        address_line_3=_opt(named["address_line_3"]),
        address_line_4=_opt(named["address_line_4"]),
        address_line_5=_opt(named["address_line_5"]),
        postcode=_opt(named["postcode"]),
        open_date=open_date,
        close_date=close_date,
        status_code=status,
        sub_type_code=_opt(named["sub_type_code"]),
        commissioner_code=_org_code(named["commissioner_code"], "commissioner", required=False),
        join_date=_yyyymmdd(named["join_date"], "join date"),
        left_date=_yyyymmdd(named["left_date"], "left date"),
        telephone=_opt(named["telephone"]),
        amended_record_indicator=_opt(named["amended_record_indicator"]),
        provider_purchaser_code=_org_code(
            named["provider_purchaser_code"], "provider/purchaser", required=False
        ),
        prescribing_setting=int(setting_text) if setting_text else None,
    )


def parse_epraccur(text: str) -> list[Practice]:
    """Parse an epraccur file (no header). Raises ReferenceFileError listing every problem."""
    problems: list[tuple[int, str]] = []
    practices: list[Practice] = []
    seen: dict[str, int] = {}
    for line_no, cells in _csv_rows(text):
        try:
            practice = _parse_practice(cells)
        except _Problem as exc:
            problems.append((line_no, str(exc)))
            continue
        if practice.practice_code in seen:
            problems.append(
                (line_no, f"{practice.practice_code} repeats line {seen[practice.practice_code]}")
            )
            continue
        seen[practice.practice_code] = line_no
        practices.append(practice)
    if problems:
        raise ReferenceFileError("epraccur file", problems)
    if not practices:
        raise ReferenceFileError("epraccur file", [(0, "no practices in the file")])
    return practices


# ---------------------------------------------------------------------------------------------
# CSV files with a header
# ---------------------------------------------------------------------------------------------

MEMBERSHIP_HEADER = ("practice_code", "commissioner_code", "effective_from", "effective_to")
SUB_ICB_HEADER = (
    "sub_icb_code",
    "sub_icb_name",
    "icb_code",
    "icb_name",
    "effective_from",
    "effective_to",
)
LIST_SIZE_HEADER = ("practice_code", "extract_date", "registered_patients")
NHS_LIST_SIZE_HEADER = ("extract_date", "code", "number_of_patients")


def _csv_rows(text: str) -> Iterator[tuple[int, list[str]]]:
    """(line number of the row's start, cells) for each non-blank CSV row."""
    reader = csv.reader(text.splitlines(keepends=True), strict=True)
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


def _with_header(
    text: str, what: str, required: Sequence[str]
) -> tuple[dict[str, int], Iterator[tuple[int, list[str]]]]:
    rows = _csv_rows(text)
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


def _cell_getter(index: dict[str, int], cells: list[str]) -> Callable[[str], str]:
    def cell(name: str) -> str:
        i = index[name]
        return cells[i] if i < len(cells) else ""

    return cell


def _parse_table(
    text: str,
    what: str,
    header: Sequence[str],
    build: Callable[[Callable[[str], str]], R | None],
) -> list[R]:
    """Rows after the header through ``build`` (None = row skipped), problems collected."""
    index, rows = _with_header(text, what, header)
    problems: list[tuple[int, str]] = []
    records: list[R] = []
    for line_no, cells in rows:
        try:
            record = build(_cell_getter(index, cells))
        except _Problem as exc:
            problems.append((line_no, str(exc)))
            continue
        if record is not None:
            records.append(record)
    if problems:
        raise ReferenceFileError(what, problems)
    if not records:
        raise ReferenceFileError(what, [(2, "no usable rows after the header")])
    return records


def _period(cell: Callable[[str], str]) -> tuple[dt.date, dt.date | None]:
    start = _iso_date(cell("effective_from"), "effective_from", required=True)
    end = _iso_date(cell("effective_to"), "effective_to", required=False)
    assert start is not None
    if end is not None and end < start:
        raise _Problem(f"effective_to {end} is before effective_from {start}")
    return start, end


def _overlaps(
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


def parse_memberships(text: str) -> list[Membership]:
    """Parse a memberships CSV; periods of one practice must not overlap."""

    def build(cell: Callable[[str], str]) -> Membership:
        start, end = _period(cell)
        commissioner = _org_code(cell("commissioner_code"), "commissioner_code")
        assert commissioner is not None
        return Membership(_practice_code(cell("practice_code")), commissioner, start, end)

    records = _parse_table(text, "memberships file", MEMBERSHIP_HEADER, build)
    problems = _overlaps(
        "practice", ((m.practice_code, m.effective_from, m.effective_to) for m in records)
    )
    if problems:
        raise ReferenceFileError("memberships file", problems)
    return records


def parse_sub_icbs(text: str) -> list[SubIcb]:
    """Parse a sub-ICB -> ICB CSV; periods of one sub-ICB must not overlap."""

    def build(cell: Callable[[str], str]) -> SubIcb:
        start, end = _period(cell)
        sub_icb = _org_code(cell("sub_icb_code"), "sub_icb_code")
        icb = _org_code(cell("icb_code"), "icb_code")
        assert sub_icb is not None and icb is not None
        return SubIcb(sub_icb, _opt(cell("sub_icb_name")), icb, _opt(cell("icb_name")), start, end)

    records = _parse_table(text, "sub-ICB file", SUB_ICB_HEADER, build)
    problems = _overlaps(
        "sub-ICB", ((s.sub_icb_code, s.effective_from, s.effective_to) for s in records)
    )
    if problems:
        raise ReferenceFileError("sub-ICB file", problems)
    return records


_NHS_DATE_FORMATS = ("%Y-%m-%d", "%d%b%Y", "%d-%b-%Y", "%d-%b-%y", "%d/%m/%Y", "%Y%m%d")


def _flexible_date(value: str, column: str) -> dt.date:
    value = value.strip()
    for fmt in _NHS_DATE_FORMATS:
        try:
            return dt.datetime.strptime(value, fmt).date()
        except ValueError:
            continue
    raise _Problem(f"{column} {value!r} is not a date")


def _count(value: str, column: str) -> int:
    value = value.strip().replace(",", "")
    if not value.isdigit():
        raise _Problem(f"{column} {value!r} is not a non-negative whole number")
    return int(value)


def parse_list_sizes(text: str) -> list[ListSize]:
    """Parse list sizes in the project's layout or the NHS Digital totals layout."""
    first_line = next(iter(text.splitlines()), "").lower()
    nhs_layout = "number_of_patients" in first_line

    if nhs_layout:
        index, _rows = _with_header(text, "list sizes file", NHS_LIST_SIZE_HEADER)
        filters = {"type": "GP", "sex": "ALL", "age": "ALL"}
        present = {k: v for k, v in filters.items() if k in index}

        def build(cell: Callable[[str], str]) -> ListSize:
            return ListSize(
                _practice_code(cell("code"), "CODE"),
                _flexible_date(cell("extract_date"), "EXTRACT_DATE"),
                _count(cell("number_of_patients"), "NUMBER_OF_PATIENTS"),
            )

        def keep(cell: Callable[[str], str]) -> ListSize | None:
            if any(cell(k).strip().upper() != v for k, v in present.items()):
                return None  # a breakdown row (by sex / age band) or not a GP row
            return build(cell)

        sizes = _parse_table(text, "list sizes file", NHS_LIST_SIZE_HEADER, keep)
    else:

        def build_own(cell: Callable[[str], str]) -> ListSize:
            extract = _iso_date(cell("extract_date"), "extract_date", required=True)
            assert extract is not None
            return ListSize(
                _practice_code(cell("practice_code")),
                extract,
                _count(cell("registered_patients"), "registered_patients"),
            )

        sizes = _parse_table(text, "list sizes file", LIST_SIZE_HEADER, build_own)

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


# ---------------------------------------------------------------------------------------------
# Content fingerprint (idempotent loads)
# ---------------------------------------------------------------------------------------------


def fingerprint(records: Iterable[Record]) -> str:
    """SHA-256 of the records' content, independent of their order in the file."""
    lines = sorted("\x1f".join("" if v is None else str(v) for v in as_row(r)) for r in records)
    digest = hashlib.sha256()
    for line in lines:
        digest.update(line.encode())
        digest.update(b"\x1e")
    return digest.hexdigest()


def parse_reference(kind: ReferenceKind, data: bytes) -> list[Record]:
    """Parse the bytes of a reference file of the given kind."""
    text = decode_text(data)
    parsers: dict[ReferenceKind, Callable[[str], Sequence[Record]]] = {
        ReferenceKind.PRACTICES: parse_epraccur,
        ReferenceKind.MEMBERSHIPS: parse_memberships,
        ReferenceKind.SUB_ICBS: parse_sub_icbs,
        ReferenceKind.LIST_SIZES: parse_list_sizes,
    }
    return list(parsers[kind](text))


RECORD_TYPES: dict[ReferenceKind, type[Record]] = {
    ReferenceKind.PRACTICES: Practice,
    ReferenceKind.MEMBERSHIPS: Membership,
    ReferenceKind.SUB_ICBS: SubIcb,
    ReferenceKind.LIST_SIZES: ListSize,
}


def merge_list_sizes(current: Iterable[ListSize], new: Iterable[ListSize]) -> list[ListSize]:
    """``current`` with ``new`` added; for the same practice and extract date ``new`` wins.

    Lets monthly list-size files be loaded one at a time while each load is still a complete,
    versioned set (the merged set becomes the new current load).
    """
    merged = {(s.practice_code, s.extract_date): s for s in current}
    merged.update({(s.practice_code, s.extract_date): s for s in new})
    return sorted(merged.values(), key=lambda s: (s.practice_code, s.extract_date))
