"""The activity CSV of contract v1.2 section 7 (pure): its columns, in order, and its rows.

Counts as whole numbers; rates per 1,000 patients to 2 decimal places (half up); the flag
1 or 0; an unknown figure (no list size, practice absent from GPAD or from the feed) empty.
Names are made safe for spreadsheets.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Iterable
from fractions import Fraction

from ingest.analytics.activity.collect import PracticeActivity
from ingest.spreadsheet_safety import safe_text_cell

COLUMNS = (
    "month",
    "practice_code",
    "practice_name",
    "icb_code",
    "registered_patients",
    "appointments",
    "appointments_attended",
    "appointments_face_to_face",
    "appointments_telephone",
    "appointments_video_online",
    "appointments_home_visit",
    "appointments_unknown_mode",
    "submissions",
    "appointments_per_1000",
    "submissions_per_1000",
    "looks_quiet_in_appointments",
    "icb_name",
)


def rate_text(rate: Fraction | None) -> str:
    """A non-negative rate to 2 decimal places, half up; empty when unknown."""
    if rate is None:
        return ""
    cents = math.floor(rate * 100 + Fraction(1, 2))
    return f"{cents // 100}.{cents % 100:02d}"


def _count(value: int | None) -> str:
    return "" if value is None else str(value)


def row_of(p: PracticeActivity) -> list[str]:
    return [
        f"{p.month:%Y-%m}",
        p.practice_code,
        safe_text_cell(p.practice_name) or "",
        p.icb_code or "",
        _count(p.registered_patients),
        _count(p.appointments),
        _count(p.appointments_attended),
        _count(p.appointments_face_to_face),
        _count(p.appointments_telephone),
        _count(p.appointments_video_online),
        _count(p.appointments_home_visit),
        _count(p.appointments_unknown_mode),
        _count(p.submissions),
        rate_text(p.appointments_per_1000),
        rate_text(p.submissions_per_1000),
        "1" if p.looks_quiet_in_appointments else "0",
        safe_text_cell(p.icb_name) or "",
    ]


def activity_csv(practices: Iterable[PracticeActivity]) -> bytes:
    """The whole CSV (header first, CRLF line ends, UTF-8)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    for p in practices:
        writer.writerow(row_of(p))
    return out.getvalue().encode("utf-8")
