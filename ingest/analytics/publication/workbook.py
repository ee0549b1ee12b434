"""``publication.xlsx``: the month's publication laid out as NHS England's workbook (pure:
rows in, bytes out).

Sheets and positions follow NHS England's "Submissions via Online Consultation Systems in
General Practice" (February 2026 edition): ``Title sheet`` (contents linking to the tables),
``Data Quality`` (the notes written from the data), ``Table 1`` (title in A10, months newest
first from C11, labels in column B), ``Table 2`` (title in A10, header row 12, one practice
per row from row 13) and ``Table 3`` (title in A10, header row 12, Monday..Sunday in rows
13-19, NHS England's eight bands then Unknown). Figures are the CSV files' figures, as
numbers. Every text cell is stored as text, never as a formula, whatever it starts with.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import Cell
from openpyxl.styles import Font
from openpyxl.worksheet._write_only import WriteOnlyWorksheet

from ingest.analytics.publication.files import month_bounds
from ingest.analytics.publication.quality import month_name
from ingest.analytics.publication.time_bands import BANDS, WEEKDAYS

if TYPE_CHECKING:
    from ingest.analytics.publication.publish import MonthFiles

TITLE = "Submissions via Online Consultation Systems in General Practice"
SHEETS = ("Title sheet", "Data Quality", "Table 1", "Table 2", "Table 3")
TABLE_TITLE_ROW = 10
TABLE_2_HEADER_ROW = 12
TABLE_2_HEADERS = (
    "Month",
    "GP Code",
    "GP Name",
    "PCN Code",
    "PCN Name",
    "Sub ICB Code",
    "Sub ICB Name",
    "ICB Code",
    "ICB Name",
    "Region Code",
    "Region Name",
    "Supplier",
    "Submissions",
    "Clinical Submissions",
    "Administrative Submissions",
    "Other/Unknown Type Submissions",
    "Registered Patient Count",
    "Rate per 1,000 Registered Patients",
    "Participation",
)
# Table 2's columns: the practices.csv column of each header, and whether it is a figure.
TABLE_2_COLUMNS = (
    ("month", False),
    ("practice_code", False),
    ("practice_name", False),
    ("pcn_code", False),
    ("pcn_name", False),
    ("sub_icb_code", False),
    ("sub_icb_name", False),
    ("icb_code", False),
    ("icb_name", False),
    ("region_code", False),
    ("region_name", False),
    ("suppliers", False),
    ("submissions", True),
    ("clinical_submissions", True),
    ("admin_submissions", True),
    ("other_submissions", True),
    ("registered_patients", True),
    ("submissions_per_1000", True),
    ("participation", True),
)
# Table 1's rows from row 12: (column A, column B label, national.csv column or None = blank).
TABLE_1_ROWS: tuple[tuple[str, str, str | None], ...] = (
    ("Coverage", "Open active practices", "open_active_practices"),
    ("", "Practices included in the publication [1]", "practices_included"),
    (
        "",
        "Count of practices receiving submissions via Online Consultation Systems",
        "practices_receiving_submissions",
    ),
    ("", "", None),
    ("", "Registered patients at open active practices", "registered_patients_open_active"),
    (
        "",
        "Registered patients at practices that received submissions via an Online "
        "Consultation System",
        "registered_patients_receiving",
    ),
    ("", "", None),
    ("Submissions", "Total submissions received by practices, of which:", "submissions"),
    ("Submission type", "Clinical submissions", "clinical_submissions"),
    ("", "Administrative submissions", "admin_submissions"),
    ("", "Other/unknown type submissions [2]", "other_submissions"),
    ("", "", None),
    (
        "",
        "Rate per 1,000 patients registered at practices receiving submissions [3]",
        "submissions_per_1000",
    ),
)
TABLE_1_NOTES = (
    "1   Practices included are open, active practices that have a count of registered "
    "patients during the month and which participate in the data collection.",
    "2   Some suppliers cannot tell clinical from administrative submissions; their "
    "submissions are classed as Other/unknown type.",
    "3   Submissions / registered patients of the practices receiving submissions x 1,000.",
    "Earlier months are shown as the database holds them now: suppliers restate past weeks.",
)


def figure(value: str) -> int | float | None:
    """A CSV figure as a number (None for an empty cell)."""
    if value == "":
        return None
    return float(Decimal(value)) if "." in value else int(value)


def month_start(month: str) -> dt.datetime:
    first, _ = month_bounds(month)
    return dt.datetime(first.year, first.month, 1)


class _Sheet:
    """A write-only sheet with helpers for text (never a formula), bold and links."""

    def __init__(self, sheet: WriteOnlyWorksheet) -> None:
        self.sheet = sheet
        self.row = 0

    def cell(self, value: Any, *, bold: bool = False, link: str | None = None) -> Cell:
        c = WriteOnlyCell(self.sheet, value=value)
        if isinstance(value, str):
            c.data_type = "s"  # text stays text even when it starts with "="
        if bold:
            c.font = Font(bold=True)
        if link:
            c.hyperlink = link
            c.font = Font(underline="single", color="0563C1")
        return c

    def put(self, values: Iterable[Any], *, bold: bool = False) -> None:
        self.sheet.append([v if isinstance(v, Cell) else self.cell(v, bold=bold) for v in values])
        self.row += 1

    def skip_to(self, row: int) -> None:
        while self.row < row - 1:
            self.sheet.append([])
            self.row += 1

    def return_link(self, row: int) -> None:
        self.skip_to(row)
        self.put([self.cell("Return to Contents", link="#'Title sheet'!A19")])


def workbook(month_files: MonthFiles, edition: int, published_at: dt.datetime) -> bytes:
    """The workbook's bytes."""
    book = Workbook(write_only=True)
    sheets = {name: _Sheet(book.create_sheet(name)) for name in SHEETS}
    month = month_files.month
    national = month_files.national
    _title_sheet(sheets["Title sheet"], national, month, edition, published_at)
    _data_quality(sheets["Data Quality"], [n.text for n in month_files.notes])
    _table_1(sheets["Table 1"], national, [n.text for n in month_files.notes])
    _table_2(sheets["Table 2"], month, month_files.practices)
    _table_3(sheets["Table 3"], month, month_files.time_bands)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _title_sheet(
    s: _Sheet,
    national: Sequence[dict[str, str]],
    month: str,
    edition: int,
    published_at: dt.datetime,
) -> None:
    s.skip_to(8)
    s.put([TITLE], bold=True)
    s.put(["Reproduced from the suppliers' daily feeds by triage-ingest"])
    s.put([""])
    s.put([f"{month_name(national[0]['month'])} to {month_name(month)}"])
    s.put([f"Edition {edition}, published {published_at:%d %B %Y %H:%M %Z}"])
    s.skip_to(15)
    s.put(["Introduction"], bold=True)
    s.put(
        [
            "Patient submissions to general practice via Online Consultation Systems, as the "
            "suppliers reported them day by day, in the layout of NHS England's publication."
        ]
    )
    s.skip_to(19)
    s.put(["Contents"], bold=True)
    s.put([""])
    for name, anchor in (
        ("Data Quality", "A8"),
        ("Table 1", "A10"),
        ("Table 2", "A10"),
        ("Table 3", "A10"),
    ):
        s.put([s.cell(name, link=f"#'{name}'!{anchor}")])


def _data_quality(s: _Sheet, notes: Sequence[str]) -> None:
    s.return_link(5)
    s.skip_to(8)
    s.put(["Data Quality"], bold=True)
    s.put(
        [
            "Notes written from the data: per supplier, partial months against its roster, "
            "no data received, first month of data, and restatements since the last edition."
        ]
    )
    s.put([""])
    for note in notes or ["No supplier issues found for the month."]:
        s.put([note])


def _table_1(s: _Sheet, national: Sequence[dict[str, str]], notes: Sequence[str]) -> None:
    newest_first = list(reversed(national))
    s.return_link(8)
    s.skip_to(TABLE_TITLE_ROW)
    s.put(
        ["Table 1: Summary of availability and usage of Online Consultation Systems, England"],
        bold=True,
    )
    header: list[Cell | None] = [None, None]
    for row in newest_first:
        c = s.cell(month_start(row["month"]), bold=True)
        c.number_format = "mmm-yy"
        header.append(c)
    s.sheet.append(header)
    s.row += 1
    for group, label, column in TABLE_1_ROWS:
        values = [figure(r[column]) for r in newest_first] if column else []
        s.put([group, label, *values])
    s.put([""])
    s.put(["Source: triage-ingest, from the suppliers' daily feeds"])
    s.put(["Notes:"])
    for note in (*TABLE_1_NOTES, *notes):
        s.put([note])


def _table_2(s: _Sheet, month: str, practices: Sequence[dict[str, str]]) -> None:
    s.return_link(8)
    s.skip_to(TABLE_TITLE_ROW)
    s.put(
        [
            "Table 2: Submissions received by practices via Online Consultation Systems, "
            f"{month_name(month)}"
        ],
        bold=True,
    )
    s.skip_to(TABLE_2_HEADER_ROW)
    s.put(TABLE_2_HEADERS, bold=True)
    start = month_start(month)
    for p in practices:
        values: list[Any] = []
        for column, is_figure in TABLE_2_COLUMNS:
            if column == "month":
                c = s.cell(start)
                c.number_format = "mmm-yy"
                values.append(c)
            else:
                values.append(figure(p[column]) if is_figure else p[column] or None)
        s.put(values)


def _table_3(s: _Sheet, month: str, bands: Sequence[dict[str, str]]) -> None:
    average = {(b["weekday"], b["band"]): figure(b["average_submissions"]) for b in bands}
    s.return_link(8)
    s.skip_to(TABLE_TITLE_ROW)
    s.put(
        [
            "Table 3: Average number of submissions via online consultation systems by "
            f"submission time, per weekday, England, {month_name(month)}"
        ],
        bold=True,
    )
    s.put([None, "Submission time"], bold=True)
    s.put(["Day", *BANDS], bold=True)
    for weekday in WEEKDAYS:
        s.put([weekday, *(average[weekday, band] for band in BANDS)])
    s.put([""])
    s.put(["Source: triage-ingest, from the suppliers' daily feeds"])
