"""A small month of the publication built in memory (no database), for tests of how
``write_edition`` handles its folder."""

from __future__ import annotations

from ingest.analytics.publication.files import (
    NATIONAL_COLUMNS,
    PRACTICE_COLUMNS,
    national_row,
    practice_rows,
    to_csv,
)
from ingest.analytics.publication.publish import MonthFiles
from ingest.analytics.publication.time_bands import TIME_BAND_COLUMNS, time_band_rows


def month_files(submissions: int, month: str = "2024-09") -> MonthFiles:
    """A one-practice month whose figures differ by ``submissions`` (so a republish writes)."""
    rows = [
        {
            "practice_code": "A81001",
            "practice_name": "THE DENSHAM SURGERY",
            "pcn_code": None,
            "pcn_name": None,
            "sub_icb_code": None,
            "sub_icb_name": None,
            "icb_code": None,
            "icb_name": None,
            "region_code": "Y63",
            "region_name": None,
            "mapping_basis": "unmapped",
            "registered_patients": 1000,
            "list_size_extract_date": None,
            "participating": True,
            "suppliers": "ALPHA",
            "submissions": submissions,
            "clinical_submissions": 0,
            "admin_submissions": 0,
            "days_reporting": 30,
        }
    ]
    practices = practice_rows(month, rows)
    national = [national_row(month, rows)]
    bands = time_band_rows(month, {})
    data = {
        "practices.csv": to_csv(PRACTICE_COLUMNS, practices),
        "national.csv": to_csv(NATIONAL_COLUMNS, national),
        "time_bands.csv": to_csv(TIME_BAND_COLUMNS, bands),
    }
    return MonthFiles(month, data, practices, national, bands, [])
