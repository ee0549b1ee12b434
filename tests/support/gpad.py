"""GPAD practice-level crosstab helpers for tests: the fixture, an independent oracle of what
loading it must give (a plain csv.DictReader sum, sharing no code with the loader), and
writing crosstab files and zips."""

from __future__ import annotations

import csv
import io
import zipfile
from collections import Counter
from collections.abc import Iterable, Sequence
from pathlib import Path

FIXTURE = (
    Path(__file__).resolve().parents[1]
    / "fixtures"
    / "appointments"
    / "Practice_Level_Crosstab_Oct_24_excerpt.csv"
)
HEADER = [
    "APPOINTMENT_MONTH_START_DATE",
    "GP_CODE",
    "GP_NAME",
    "SUPPLIER",
    "PCN_CODE",
    "PCN_NAME",
    "SUB_ICB_LOCATION_CODE",
    "SUB_ICB_LOCATION_NAME",
    "HCP_TYPE",
    "APPT_MODE",
    "NATIONAL_CATEGORY",
    "TIME_BETWEEN_BOOK_AND_APPT",
    "COUNT_OF_APPOINTMENTS",
    "APPT_STATUS",
]


def fixture_rows(path: Path = FIXTURE) -> list[dict[str, str]]:
    """The rows of a crosstab file (the excerpt by default) as dicts by column name."""
    with path.open(newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def sums(rows: Iterable[dict[str, str]]) -> Counter[tuple[str, str, str]]:
    """Appointments by (GP_CODE, APPT_MODE, APPT_STATUS), summed from crosstab rows."""
    total: Counter[tuple[str, str, str]] = Counter()
    for row in rows:
        key = (row["GP_CODE"], row["APPT_MODE"], row["APPT_STATUS"])
        total[key] += int(row["COUNT_OF_APPOINTMENTS"])
    return total


def crosstab_text(rows: Iterable[Sequence[object]], header: Sequence[str] = HEADER) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue()


def fixture_lines() -> list[str]:
    return FIXTURE.read_text(encoding="utf-8").splitlines(keepends=True)


def zip_of(path: Path, members: dict[str, str]) -> Path:
    """A zip at ``path`` holding each member's text (as NHS England publishes them)."""
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, text in members.items():
            archive.writestr(name, text)
    return path
