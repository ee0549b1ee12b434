"""The CSV files of a monthly publication (pure: rows in, text out; no I/O).

Contract v1.2 section 7, NHS England's definitions:

- ``practices.csv`` (Table 2): one row per open English GP practice with a list size in the
  month, participating or not. A non-participating practice has ``participation`` 0 and no
  figures. Submissions a supplier sent without a type count as ``other_submissions``
  (NHS England's "Other/unknown type"): other = submissions - clinical - administrative.
  ``submissions_per_1000`` = submissions / registered patients x 1,000.
- ``national.csv`` (Table 1): one row per month of the window. A practice is *included* when
  open, active, with registered patients and participating; it *receives submissions* when
  its submissions are above zero. Totals are over included practices; the national rate is
  submissions / registered patients of the practices receiving submissions x 1,000.

Our own coverage-aware figures (days reporting, coverage) stay as further columns under
names of their own. Text from reference files and suppliers is made spreadsheet-safe.
"""

from __future__ import annotations

import calendar
import csv
import datetime as dt
import io
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from ingest.spreadsheet_safety import safe_text_cell

PRACTICE_COLUMNS = (
    "month",
    "practice_code",
    "practice_name",
    "pcn_code",
    "pcn_name",
    "sub_icb_code",
    "sub_icb_name",
    "icb_code",
    "icb_name",
    "region_code",
    "region_name",
    "suppliers",
    "submissions",
    "clinical_submissions",
    "admin_submissions",
    "other_submissions",
    "registered_patients",
    "submissions_per_1000",
    "participation",
    # our own
    "mapping_basis",
    "list_size_extract_date",
    "days_in_month",
    "days_reporting",
    "day_coverage",
)
NATIONAL_COLUMNS = (
    "month",
    "open_active_practices",
    "practices_included",
    "practices_receiving_submissions",
    "registered_patients_open_active",
    "registered_patients_receiving",
    "submissions",
    "clinical_submissions",
    "admin_submissions",
    "other_submissions",
    "submissions_per_1000",
    # our own
    "practices_included_without_data",
    "practice_days_reporting",
    "practice_days_in_month",
    "day_coverage",
)
FIGURES = ("submissions", "clinical_submissions", "admin_submissions", "other_submissions")
TEXT_COLUMNS = frozenset(
    {"practice_name", "pcn_name", "sub_icb_name", "icb_name", "region_name", "suppliers"}
)
# The columns compared between editions, per file (the key columns first).
COMPARED: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "practices.csv": (
        ("practice_code",),
        (*FIGURES, "registered_patients", "submissions_per_1000", "participation"),
    ),
    "national.csv": (
        ("month",),
        (
            "open_active_practices",
            "practices_included",
            "practices_receiving_submissions",
            "registered_patients_receiving",
            *FIGURES,
            "submissions_per_1000",
        ),
    ),
    "time_bands.csv": (("weekday", "band"), ("average_submissions",)),
}
RATE_PLACES = Decimal("0.000001")


@dataclass(frozen=True, slots=True)
class Change:
    """One figure that differs from the previous edition ("" = absent there)."""

    file: str
    key: str
    column: str
    previous: str
    current: str


def month_bounds(month: str) -> tuple[dt.date, dt.date]:
    """First and last day of ``YYYY-MM``; ValueError when it is not one."""
    if len(month) != 7 or month[4] != "-":
        raise ValueError(month)
    first = dt.date(int(month[:4]), int(month[5:]), 1)
    return first, first.replace(day=calendar.monthrange(first.year, first.month)[1])


def cell(value: Any) -> str:
    """A CSV cell: empty for None, ISO for dates."""
    if value is None:
        return ""
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def ratio(part: int, whole: int, places: Decimal = Decimal("0.001")) -> str:
    """``part / whole`` rounded (empty when ``whole`` is 0)."""
    return "" if whole == 0 else str((Decimal(part) / Decimal(whole)).quantize(places))


def per_1000(submissions: int, patients: int) -> str:
    """Submissions per 1,000 patients (empty without patients)."""
    return ratio(submissions * 1000, patients, RATE_PLACES)


def practice_rows(month: str, rows: Sequence[Mapping[str, Any]]) -> list[dict[str, str]]:
    """``practices.csv`` rows (by practice code) from ``publication_practices`` rows."""
    first, last = month_bounds(month)
    days = (last - first).days + 1
    out = []
    for r in sorted(rows, key=lambda r: str(r["practice_code"])):
        patients = int(r["registered_patients"])
        row: dict[str, Any] = {
            "month": month,
            "practice_code": r["practice_code"],
            "practice_name": r["practice_name"],
            "pcn_code": r["pcn_code"],
            "pcn_name": r["pcn_name"],
            "sub_icb_code": r["sub_icb_code"],
            "sub_icb_name": r["sub_icb_name"],
            "icb_code": r["icb_code"],
            "icb_name": r["icb_name"],
            "region_code": r["region_code"],
            "region_name": r["region_name"],
            "suppliers": None,
            "registered_patients": patients,
            "participation": 1 if r["participating"] else 0,
            "mapping_basis": r["mapping_basis"],
            "list_size_extract_date": r["list_size_extract_date"],
            "days_in_month": days,
        }
        if r["participating"]:
            total = int(r["submissions"] or 0)
            clinical = int(r["clinical_submissions"] or 0)
            admin = int(r["admin_submissions"] or 0)
            reporting = int(r["days_reporting"] or 0)
            row |= {
                "suppliers": r["suppliers"],
                "submissions": total,
                "clinical_submissions": clinical,
                "admin_submissions": admin,
                "other_submissions": total - clinical - admin,
                "submissions_per_1000": per_1000(total, patients),
                "days_reporting": reporting,
                "day_coverage": ratio(reporting, days),
            }
        out.append({c: cell(row.get(c)) for c in PRACTICE_COLUMNS})
    return out


def national_row(month: str, rows: Sequence[Mapping[str, Any]]) -> dict[str, str]:
    """The month's ``national.csv`` row from its ``publication_practices`` rows (the rows of
    ``practices.csv``, before formatting), by the definitions of the module docstring."""
    first, last = month_bounds(month)
    days = (last - first).days + 1
    included = [r for r in rows if r["participating"]]

    def figure(r: Mapping[str, Any], column: str) -> int:
        return int(r[column] or 0)

    receiving = [r for r in included if figure(r, "submissions") > 0]
    submissions = sum(figure(r, "submissions") for r in included)
    clinical = sum(figure(r, "clinical_submissions") for r in included)
    admin = sum(figure(r, "admin_submissions") for r in included)
    patients_receiving = sum(int(r["registered_patients"]) for r in receiving)
    days_reporting = sum(figure(r, "days_reporting") for r in included)
    row: dict[str, Any] = {
        "month": month,
        "open_active_practices": len(rows),
        "practices_included": len(included),
        "practices_receiving_submissions": len(receiving),
        "registered_patients_open_active": sum(int(r["registered_patients"]) for r in rows),
        "registered_patients_receiving": patients_receiving,
        "submissions": submissions,
        "clinical_submissions": clinical,
        "admin_submissions": admin,
        "other_submissions": submissions - clinical - admin,
        "submissions_per_1000": per_1000(submissions, patients_receiving),
        "practices_included_without_data": sum(
            1 for r in included if figure(r, "days_reporting") == 0
        ),
        "practice_days_reporting": days_reporting,
        "practice_days_in_month": len(included) * days,
        "day_coverage": ratio(days_reporting, len(included) * days),
    }
    return {c: cell(row[c]) for c in NATIONAL_COLUMNS}


def to_csv(columns: Sequence[str], rows: Sequence[Mapping[str, str]]) -> str:
    """CSV text (header first, CRLF as RFC 4180), text columns spreadsheet-safe."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(columns)
    for row in rows:
        writer.writerow([safe_text_cell(row[c]) if c in TEXT_COLUMNS else row[c] for c in columns])
    return buffer.getvalue()


def read_csv(text: str) -> list[dict[str, str]]:
    """The rows of a CSV written by ``to_csv``."""
    return list(csv.DictReader(io.StringIO(text)))


def changes(file: str, previous_csv: str, current_csv: str) -> list[Change]:
    """Figures of ``file`` that differ between two editions (rows added or removed too)."""
    keys, compared = COMPARED[file]

    def keyed(text: str) -> dict[str, dict[str, str]]:
        return {" ".join(r.get(k, "") for k in keys): r for r in read_csv(text)}

    before, after = keyed(previous_csv), keyed(current_csv)
    found = []
    for code in sorted(before.keys() | after.keys()):
        old, new = before.get(code), after.get(code)
        if old is None or new is None:
            found.append(
                Change(file, code, "(row)", "present" if old else "", "present" if new else "")
            )
            continue
        found.extend(
            Change(file, code, c, old.get(c, ""), new.get(c, ""))
            for c in compared
            if old.get(c, "") != new.get(c, "")
        )
    return found


def changes_csv(found: Sequence[Change]) -> str:
    """The changes file: file, key, column, previous, current."""
    rows = [
        {
            "file": c.file,
            "key": c.key,
            "column": c.column,
            "previous": c.previous,
            "current": c.current,
        }
        for c in found
    ]
    return to_csv(("file", "key", "column", "previous", "current"), rows)


def largest_changes(found: Sequence[Change], limit: int = 10) -> list[Change]:
    """The changes of submissions with the largest absolute difference (national first)."""

    def size(c: Change) -> tuple[int, int, str, str]:
        try:
            delta = abs(int(c.current or 0) - int(c.previous or 0))
        except ValueError:
            delta = 0
        return (0 if c.file == "national.csv" else 1, -delta, c.file, c.key)

    submissions = [c for c in found if c.column == "submissions"]
    return sorted(submissions, key=size)[:limit]
