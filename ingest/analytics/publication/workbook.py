"""``publication.xlsx``: the month's publication laid out as NHS England's workbook (pure:
rows in, bytes out).

Sheets and positions follow NHS England's "Submissions via Online Consultation Systems in
General Practice" (February 2026 edition): ``Title sheet`` (contents linking to the tables),
``Data Quality`` (the notes written from the data), ``Table 1`` (title in A10, months newest
first from C11, labels in column B), ``Table 2`` (title in A10, header row 12, one practice
per row from row 13) and ``Table 3`` (title in A10, header row 12, Monday..Sunday in rows
13-19, NHS England's eight bands then Unknown). Figures are the CSV files' figures, as
numbers. Every text cell is stored as text, never as a formula, whatever it starts with.

Written with XlsxWriter: a national month's Table 2 is some 125,000 cells, written in less
than half openpyxl's time (openpyxl reads the workbook back in the tests).
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Sequence
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import xlsxwriter

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
    """A worksheet written row by row (1-based row numbers as in a spreadsheet)."""

    def __init__(self, book: Any, name: str, formats: dict[str, Any]) -> None:
        self.sheet = book.add_worksheet(name)
        self.formats = formats
        self.row = 0  # the last row written

    def put(self, values: Sequence[Any], *, bold: bool = False) -> None:
        """Write ``values`` on the next row: text as text, numbers, datetimes as months."""
        r = self.row
        style = self.formats["bold"] if bold else None
        for c, value in enumerate(values):
            if value is None:
                continue
            if isinstance(value, str):
                self.sheet.write_string(r, c, value, style)
            elif isinstance(value, dt.datetime):
                self.sheet.write_datetime(
                    r, c, value, self.formats["bold_month" if bold else "month"]
                )
            else:
                self.sheet.write_number(r, c, value, style)
        self.row += 1

    def link(self, text: str, target: str) -> None:
        """A link to a place in the workbook (``'Sheet'!A1``) on the next row."""
        self.sheet.write_url(self.row, 0, f"internal:{target}", string=text)
        self.row += 1

    def skip_to(self, row: int) -> None:
        self.row = max(self.row, row - 1)

    def return_link(self, row: int) -> None:
        self.skip_to(row)
        self.link("Return to Contents", "'Title sheet'!A19")


def workbook(month_files: MonthFiles, edition: int, published_at: dt.datetime) -> bytes:
    """The workbook's bytes."""
    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(
        buffer,
        {
            "in_memory": True,
            "strings_to_formulas": False,
            "strings_to_urls": False,
            "strings_to_numbers": False,
        },
    )
    book.set_properties({"title": TITLE, "created": published_at.replace(tzinfo=None)})
    formats = {
        "bold": book.add_format({"bold": True}),
        "month": book.add_format({"num_format": "mmm-yy"}),
        "bold_month": book.add_format({"num_format": "mmm-yy", "bold": True}),
    }
    sheets = {name: _Sheet(book, name, formats) for name in SHEETS}
    month = month_files.month
    national = month_files.national
    notes = [n.text for n in month_files.notes]
    _title_sheet(sheets["Title sheet"], national, month, edition, published_at)
    _data_quality(sheets["Data Quality"], notes)
    _table_1(sheets["Table 1"], national, notes)
    _table_2(sheets["Table 2"], month, month_files.practices)
    _table_3(sheets["Table 3"], month, month_files.time_bands)
    book.close()
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
        s.link(name, f"'{name}'!{anchor}")


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
    s.put([None, None, *(month_start(r["month"]) for r in newest_first)], bold=True)
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
    columns = TABLE_2_COLUMNS[1:]
    for p in practices:
        s.put([start, *((figure(p[c]) if is_figure else p[c] or None) for c, is_figure in columns)])


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
