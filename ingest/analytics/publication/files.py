"""The files of a monthly publication (pure: rows in, text out; no I/O).

``practices.csv`` one row per practice with figures in the month; ``national.csv`` one row;
``README.md`` methods and caveats; on a later edition ``changes_since_edition_N.csv``, one
row per changed figure. Text from reference files is made spreadsheet-safe.
"""

from __future__ import annotations

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
    "region_code",
    "icb_code",
    "icb_name",
    "sub_icb_code",
    "sub_icb_name",
    "mapping_basis",
    "suppliers",
    "submissions",
    "clinical_submissions",
    "admin_submissions",
    "other_submissions",
    "registered_patients",
    "list_size_extract_date",
    "submissions_per_1000",
    "days_in_month",
    "days_reporting",
    "day_coverage",
)
NATIONAL_COLUMNS = (
    "month",
    "practices_reporting",
    "english_gp_practices_reporting",
    "english_gp_practices_without_data",
    "english_gp_practice_coverage",
    "practice_days_reporting",
    "practice_days_in_month",
    "submissions",
    "clinical_submissions",
    "admin_submissions",
    "other_submissions",
    "practices_with_list_size",
    "registered_patients",
    "submissions_per_1000",
    "list_size_extract_from",
    "list_size_extract_to",
)
_TEXT_COLUMNS = frozenset({"practice_name", "icb_name", "sub_icb_name", "suppliers"})
# The columns compared between editions, per file (the key column first).
COMPARED: dict[str, tuple[str, ...]] = {
    "practices.csv": (
        "practice_code",
        "submissions",
        "clinical_submissions",
        "admin_submissions",
        "other_submissions",
        "registered_patients",
        "submissions_per_1000",
        "days_reporting",
    ),
    "national.csv": (
        "month",
        "practices_reporting",
        "submissions",
        "clinical_submissions",
        "admin_submissions",
        "other_submissions",
        "registered_patients",
        "submissions_per_1000",
    ),
}


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
    following = dt.date(first.year + first.month // 12, first.month % 12 + 1, 1)
    return first, following - dt.timedelta(days=1)


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def _ratio(part: int, whole: int) -> str:
    return "" if whole == 0 else str((Decimal(part) / Decimal(whole)).quantize(Decimal("0.001")))


def practice_rows(month: str, rows: Sequence[Mapping[str, Any]]) -> list[dict[str, str]]:
    """The practice file's rows from ``sql/practice_month.sql`` rows."""
    out = []
    for r in rows:
        row = {
            "month": month,
            "practice_code": r["practice_code"],
            "practice_name": r["practice_name"],
            "region_code": r["region_code"],
            "icb_code": r["icb_code"],
            "icb_name": r["icb_name"],
            "sub_icb_code": r["sub_icb_code"],
            "sub_icb_name": r["sub_icb_name"],
            "mapping_basis": r["mapping_basis"],
            "suppliers": r["suppliers"],
            "submissions": r["total_requests"],
            "clinical_submissions": r["clinical_requests"],
            "admin_submissions": r["admin_requests"],
            "other_submissions": r["other_requests"],
            "registered_patients": r["registered_patients"],
            "list_size_extract_date": r["list_size_extract_date"],
            "submissions_per_1000": r["requests_per_1000"],
            "days_in_month": r["days_in_period"],
            "days_reporting": r["days_reporting"],
            "day_coverage": _ratio(r["days_reporting"], r["days_in_period"]),
        }
        out.append({k: _cell(v) for k, v in row.items()})
    return out


def national_row(
    month: str, days_in_month: int, rows: Sequence[Mapping[str, Any]], without_data: int
) -> dict[str, str]:
    """The national file's one row (rates by the same rule as the exports)."""

    def total(column: str) -> int | None:
        values = [r[column] for r in rows]
        return None if any(v is None for v in values) else sum(values)

    gp_reporting = sum(1 for r in rows if r["english_gp_practice"])
    patient_days = sum(r["patient_days"] or 0 for r in rows)
    sized_requests = sum(r["requests_with_list_size"] or 0 for r in rows)
    extracts = sorted(r["list_size_extract_date"] for r in rows if r["list_size_extract_date"])
    rate = (
        (Decimal(sized_requests) * 1000 / patient_days * days_in_month).quantize(Decimal("0.001"))
        if patient_days
        else None
    )
    row = {
        "month": month,
        "practices_reporting": len(rows),
        "english_gp_practices_reporting": gp_reporting,
        "english_gp_practices_without_data": without_data,
        "english_gp_practice_coverage": _ratio(gp_reporting, gp_reporting + without_data),
        "practice_days_reporting": sum(r["days_reporting"] for r in rows),
        "practice_days_in_month": len(rows) * days_in_month,
        "submissions": sum(r["total_requests"] for r in rows),
        "clinical_submissions": total("clinical_requests"),
        "admin_submissions": total("admin_requests"),
        "other_submissions": total("other_requests"),
        "practices_with_list_size": sum(1 for r in rows if r["registered_patients"] is not None),
        "registered_patients": sum(r["registered_patients"] or 0 for r in rows),
        "submissions_per_1000": rate,
        "list_size_extract_from": extracts[0] if extracts else None,
        "list_size_extract_to": extracts[-1] if extracts else None,
    }
    return {k: _cell(v) for k, v in row.items()}


def to_csv(columns: Sequence[str], rows: Sequence[Mapping[str, str]]) -> str:
    """CSV text (header first, CRLF as RFC 4180), text columns spreadsheet-safe."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(columns)
    for row in rows:
        writer.writerow([safe_text_cell(row[c]) if c in _TEXT_COLUMNS else row[c] for c in columns])
    return buffer.getvalue()


def changes(file: str, previous_csv: str, current_csv: str) -> list[Change]:
    """Figures of ``file`` that differ between two editions (rows added or removed too)."""
    key, *compared = COMPARED[file]
    before = {r[key]: r for r in csv.DictReader(io.StringIO(previous_csv))}
    after = {r[key]: r for r in csv.DictReader(io.StringIO(current_csv))}
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
