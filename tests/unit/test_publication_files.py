"""The files of a monthly publication (pure): month bounds, the national row's rate rule,
spreadsheet-safe text, and the changes between editions."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from ingest.analytics.publication.files import (
    NATIONAL_COLUMNS,
    PRACTICE_COLUMNS,
    Change,
    changes,
    month_bounds,
    national_row,
    practice_rows,
    to_csv,
)
from ingest.spreadsheet_safety import safe_text_cell

pytestmark = pytest.mark.unit
D = dt.date


def practice(code: str, total: int, days: int, list_size: int | None = 1000) -> dict[str, Any]:
    return {
        "practice_code": code,
        "practice_name": "SURGERY",
        "region_code": "Y63",
        "icb_code": "QHM",
        "icb_name": "North East",
        "sub_icb_code": "16C",
        "sub_icb_name": "Tees",
        "mapping_basis": "vintage",
        "suppliers": "alpha",
        "total_requests": total,
        "clinical_requests": None,
        "admin_requests": None,
        "other_requests": None,
        "registered_patients": list_size,
        "list_size_extract_date": D(2024, 8, 1) if list_size else None,
        "requests_per_1000": None,
        "days_in_period": 30,
        "days_reporting": days,
        "patient_days": list_size * days if list_size else None,
        "requests_with_list_size": total if list_size else None,
        "english_gp_practice": True,
    }


@pytest.mark.parametrize(
    ("month", "bounds"),
    [
        ("2024-02", (D(2024, 2, 1), D(2024, 2, 29))),
        ("2024-12", (D(2024, 12, 1), D(2024, 12, 31))),
    ],
)
def test_month_bounds(month: str, bounds: tuple[dt.date, dt.date]) -> None:
    assert month_bounds(month) == bounds


@pytest.mark.parametrize("bad", ["2024-13", "2024-1", "24-01", "2024/01"])
def test_a_bad_month_is_refused(bad: str) -> None:
    with pytest.raises(ValueError):
        month_bounds(bad)


def test_the_national_rate_uses_reporting_practice_days_only() -> None:
    rows = [practice("A81001", 300, 30), practice("A81002", 60, 6)]  # 10 a day per 1,000
    national = national_row("2024-09", 30, rows, without_data=2)
    assert national["submissions"] == "360"
    assert national["submissions_per_1000"] == "300.000"
    assert national["english_gp_practice_coverage"] == "0.500"
    assert (national["practice_days_reporting"], national["practice_days_in_month"]) == (
        "36",
        "60",
    )
    assert national["clinical_submissions"] == ""  # a breakdown missing somewhere


def test_practice_rows_carry_their_day_coverage() -> None:
    (row,) = practice_rows("2024-09", [practice("A81002", 60, 6)])
    assert (row["days_reporting"], row["days_in_month"], row["day_coverage"]) == (
        "6",
        "30",
        "0.200",
    )
    assert tuple(row) == PRACTICE_COLUMNS


@pytest.mark.parametrize("value", ["=1+1", "+44", "-2", "@SUM(A1)", "\tx", "\rx"])
def test_text_a_spreadsheet_would_run_gets_an_apostrophe(value: str) -> None:
    assert safe_text_cell(value) == "'" + value


def test_names_are_written_spreadsheet_safe_and_numbers_untouched() -> None:
    hostile = practice("A81001", 5, 1)
    hostile["practice_name"] = '=HYPERLINK("http://x")'
    text = to_csv(PRACTICE_COLUMNS, practice_rows("2024-09", [hostile]))
    assert "'=HYPERLINK" in text
    national = to_csv(NATIONAL_COLUMNS, [national_row("2024-09", 30, [hostile], 0)])
    assert "'" not in national


def test_changes_list_each_changed_figure_and_rows_added_or_removed() -> None:
    before = to_csv(
        PRACTICE_COLUMNS,
        practice_rows("2024-09", [practice("A81001", 300, 30), practice("A81002", 6, 1)]),
    )
    after = to_csv(
        PRACTICE_COLUMNS,
        practice_rows("2024-09", [practice("A81001", 310, 30), practice("A81003", 1, 1)]),
    )
    found = changes("practices.csv", before, after)
    assert Change("practices.csv", "A81001", "submissions", "300", "310") in found
    assert Change("practices.csv", "A81002", "(row)", "present", "") in found
    assert Change("practices.csv", "A81003", "(row)", "", "present") in found
    assert changes("practices.csv", before, before) == []
