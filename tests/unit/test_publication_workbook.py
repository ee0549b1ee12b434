"""publication.xlsx (pure: rows in, bytes out): NHS England's sheets at their positions, the
CSV figures as numbers, and text that a spreadsheet would run kept as text."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from openpyxl import load_workbook

from ingest.analytics.publication.quality import Note
from ingest.analytics.publication.workbook import SHEETS, TABLE_2_HEADERS, workbook
from tests.support.publication import month_files

pytestmark = pytest.mark.unit
NOW = dt.datetime(2024, 10, 5, 9, 0, tzinfo=dt.UTC)


def test_sheets_titles_and_headers_sit_where_nhs_england_puts_them() -> None:
    book = load_workbook(io.BytesIO(workbook(month_files(300), 1, NOW)))
    assert tuple(book.sheetnames) == SHEETS
    assert str(book["Table 2"]["A10"].value).startswith("Table 2: Submissions received")
    assert tuple(c.value for c in book["Table 2"][12]) == TABLE_2_HEADERS
    assert book["Table 2"]["B13"].value == "A81001"
    assert book["Table 2"]["M13"].value == 300
    assert book["Table 1"]["B12"].value == "Open active practices"
    assert book["Table 1"]["C11"].value == dt.datetime(2024, 9, 1)
    assert book["Table 3"]["A13"].value == "Monday"
    assert book["Table 3"]["B12"].value == "00:00 - 05:59"


def test_text_that_looks_like_a_formula_stays_text() -> None:
    month = month_files(300)
    month.practices[0]["practice_name"] = '=HYPERLINK("http://x","y")'
    month.notes.append(Note("=cmd", "no_data", "=cmd|' /C calc'!A0"))
    book = load_workbook(io.BytesIO(workbook(month, 1, NOW)))
    name = book["Table 2"]["C13"]
    assert (name.value, name.data_type) == ('=HYPERLINK("http://x","y")', "s")
    notes = [c for row in book["Data Quality"].iter_rows() for c in row if c.value]
    assert any(c.value == "=cmd|' /C calc'!A0" and c.data_type == "s" for c in notes)
    formulas = [
        c.coordinate
        for sheet in book.worksheets
        for row in sheet.iter_rows()
        for c in row
        if c.data_type == "f"
    ]
    assert formulas == []
