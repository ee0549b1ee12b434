"""The files of a monthly publication (pure): NHS England's definitions on practice and
national rows, Table 3's averages, the data quality notes, spreadsheet-safe text and the
changes between editions."""

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
from ingest.analytics.publication.quality import quality_notes
from ingest.analytics.publication.time_bands import (
    BANDS,
    DayBands,
    time_band_rows,
    weekdays_in_month,
)
from ingest.spreadsheet_safety import safe_text_cell

pytestmark = pytest.mark.unit
D = dt.date


def practice(
    code: str,
    submissions: int | None,
    *,
    clinical: int = 0,
    admin: int = 0,
    patients: int = 1000,
    participating: bool = True,
    days: int = 30,
) -> dict[str, Any]:
    """A ``triage.publication_practices`` row."""
    return {
        "practice_code": code,
        "practice_name": "SURGERY",
        "region_code": "Y63",
        "region_name": "NORTH EAST AND YORKSHIRE",
        "pcn_code": "U89141",
        "pcn_name": "STOCKTON PCN",
        "sub_icb_code": "16C",
        "sub_icb_name": "Tees",
        "icb_code": "QHM",
        "icb_name": "North East",
        "mapping_basis": "vintage",
        "registered_patients": patients,
        "list_size_extract_date": D(2024, 9, 1),
        "participating": participating,
        "suppliers": "ALPHA" if submissions is not None else None,
        "submissions": submissions,
        "clinical_submissions": clinical if submissions is not None else None,
        "admin_submissions": admin if submissions is not None else None,
        "days_reporting": days if submissions is not None else None,
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


def test_untyped_submissions_count_as_other() -> None:
    (row,) = practice_rows("2024-09", [practice("A81001", 500, clinical=300, admin=120)])
    assert (row["clinical_submissions"], row["admin_submissions"]) == ("300", "120")
    assert row["other_submissions"] == str(500 - 300 - 120)


def test_a_practice_rate_is_its_submissions_per_1000_registered_patients() -> None:
    (row,) = practice_rows("2024-09", [practice("A81001", 37, patients=3753)])
    assert float(row["submissions_per_1000"]) == pytest.approx(37 / 3753 * 1000, abs=1e-6)


def test_a_non_participating_practice_is_listed_without_figures() -> None:
    (row,) = practice_rows("2024-09", [practice("A81001", None, participating=False)])
    assert row["participation"] == "0"
    assert row["registered_patients"] == "1000"
    assert all(row[c] == "" for c in ("suppliers", "submissions", "other_submissions"))


def test_a_participating_practice_without_data_has_zero_submissions() -> None:
    (row,) = practice_rows("2024-09", [practice("A81001", None)])
    assert (row["participation"], row["submissions"], row["days_reporting"]) == ("1", "0", "0")


def test_the_national_row_counts_included_and_receiving_practices_by_the_definitions() -> None:
    rows = [
        practice("A81001", 300, clinical=200, admin=50, patients=1000),
        practice("A81002", 100, patients=4000),  # all untyped
        practice("A81003", None, patients=500),  # participating, no data
        practice("A81004", None, patients=700, participating=False),
    ]
    national = national_row("2024-09", rows)
    assert national["open_active_practices"] == "4"
    assert national["practices_included"] == "3"
    assert national["practices_receiving_submissions"] == "2"
    assert national["registered_patients_open_active"] == str(1000 + 4000 + 500 + 700)
    assert national["registered_patients_receiving"] == str(1000 + 4000)
    assert national["other_submissions"] == str(50 + 100)
    assert float(national["submissions_per_1000"]) == pytest.approx(400 / 5000 * 1000)
    assert national["practices_included_without_data"] == "1"
    assert tuple(national) == NATIONAL_COLUMNS


def test_the_national_row_sums_the_practice_file_s_figures() -> None:
    rows = [
        practice("A81001", 300, clinical=200, admin=50, patients=1000, days=20),
        practice("A81002", 100, patients=4000),
        practice("A81003", None, patients=500),
        practice("A81004", None, patients=700, participating=False),
    ]
    listed = practice_rows("2024-09", rows)
    national = national_row("2024-09", rows)
    included = [p for p in listed if p["participation"] == "1"]
    for column in ("submissions", "clinical_submissions", "admin_submissions",
                   "other_submissions"):  # fmt: skip
        assert national[column] == str(sum(int(p[column]) for p in included)), column
    assert national["practice_days_reporting"] == str(
        sum(int(p["days_reporting"]) for p in included)
    )


def test_table_3_averages_over_the_calendar_weekdays_of_the_month() -> None:
    # February 2026 has four of each weekday; 2 Feb is a Monday.
    assert set(weekdays_in_month("2026-02").values()) == {4}
    untimed = (0,) * len(BANDS)
    days = {
        D(2026, 2, 2): DayBands(untimed, 10),
        D(2026, 2, 9): DayBands(untimed, 3),
        D(2026, 2, 3): DayBands((1, 2, 3, 4, 5, 6, 7, 8, 9), 0),
    }
    rows = {
        (r["weekday"], r["band"]): r["average_submissions"] for r in time_band_rows("2026-02", days)
    }
    assert rows["Monday", "Unknown"] == str((10 + 3) / 4)
    assert rows["Monday", BANDS[0]] == "0"
    assert rows["Tuesday", BANDS[1]] == str(2 / 4)
    assert rows["Tuesday", "Unknown"] == str(9 / 4)
    assert len(rows) == 7 * len(BANDS)


def supplier(name: str, **figures: Any) -> dict[str, Any]:
    base = {
        "supplier_id": name.lower(),
        "supplier_name": name,
        "practices_reporting": 10,
        "days_with_data": 30,
        "practice_days": 300,
        "first_month": D(2024, 1, 1),
        "rostered_practices": 0,
        "rostered_reporting": 0,
        "restated_practice_days": 0,
    }
    return base | figures


def test_quality_notes_name_each_supplier_issue_from_its_figures() -> None:
    notes = quality_notes(
        "2024-09",
        [
            supplier("Quiet", practices_reporting=0, days_with_data=None, practice_days=0),
            supplier("Newcomer", first_month=D(2024, 9, 1)),
            supplier("Gappy", days_with_data=20, practice_days=200),
            supplier("Rostered", rostered_practices=12, rostered_reporting=10),
            supplier("Restater", restated_practice_days=7),
            supplier("Fine"),
        ],
        previous_edition=2,
    )
    kinds = {(n.supplier, n.kind) for n in notes}
    assert kinds == {
        ("Quiet", "no_data"),
        ("Newcomer", "first_month"),
        ("Gappy", "partial"),
        ("Rostered", "partial"),
        ("Restater", "restated"),
    }
    text = {n.supplier: n.text for n in notes}
    assert "20 of the 30 days" in text["Gappy"]
    assert "2 of the 12 practices on its roster" in text["Rostered"]
    assert "since edition 2" in text["Restater"]


def test_no_restatement_note_on_a_first_edition() -> None:
    notes = quality_notes("2024-09", [supplier("Restater", restated_practice_days=7)], None)
    assert notes == []


@pytest.mark.parametrize("value", ["=1+1", "+44", "-2", "@SUM(A1)", "\tx", "\rx"])
def test_text_a_spreadsheet_would_run_gets_an_apostrophe(value: str) -> None:
    assert safe_text_cell(value) == "'" + value


def test_names_are_written_spreadsheet_safe_and_numbers_untouched() -> None:
    hostile = practice("A81001", 5)
    hostile["practice_name"] = '=HYPERLINK("http://x")'
    hostile["suppliers"] = "@SUM(1)"
    rows = practice_rows("2024-09", [hostile])
    text = to_csv(PRACTICE_COLUMNS, rows)
    assert "'=HYPERLINK" in text
    assert "'@SUM" in text
    assert "'" not in to_csv(NATIONAL_COLUMNS, [national_row("2024-09", [hostile])])


def test_changes_list_each_changed_figure_and_rows_added_or_removed() -> None:
    before = to_csv(
        PRACTICE_COLUMNS, practice_rows("2024-09", [practice("A81001", 300), practice("A81002", 6)])
    )
    after = to_csv(
        PRACTICE_COLUMNS, practice_rows("2024-09", [practice("A81001", 310), practice("A81003", 1)])
    )
    found = changes("practices.csv", before, after)
    assert Change("practices.csv", "A81001", "submissions", "300", "310") in found
    assert Change("practices.csv", "A81002", "(row)", "present", "") in found
    assert Change("practices.csv", "A81003", "(row)", "", "present") in found
    assert changes("practices.csv", before, before) == []
