"""NHS England's "Appointments in General Practice" practice-level crosstab, aggregated (pure).

The published file (``Practice_Level_Crosstab_<Mon>_<YY>.csv``, one per region, zipped per
month) has one row per practice, month, HCP type, mode, national category, booking lead time
and status, with ``COUNT_OF_APPOINTMENTS``: millions of rows a month. What the project needs
is far smaller: appointments per practice, month, mode and status (about 15 rows a practice).
``CrosstabAggregator`` folds rows into that as they stream past, so memory is bounded by the
number of practices, never by the file; the first problem stops it with one line naming the
file, the line and the column.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from ingest.contract.model import PRACTICE_CODE_RE
from ingest.errors import IngestError

HEADER = (
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
)
# The columns read (the others may be anything, or absent).
_USED = (
    "APPOINTMENT_MONTH_START_DATE",
    "GP_CODE",
    "GP_NAME",
    "PCN_CODE",
    "SUB_ICB_LOCATION_CODE",
    "APPT_MODE",
    "COUNT_OF_APPOINTMENTS",
    "APPT_STATUS",
)

# The published values (GPAD's metadata), as stored; compared case-insensitively.
MODES = ("Face-to-Face", "Telephone", "Video Conference/Online", "Home Visit", "Unknown")
STATUSES = ("Attended", "DNA", "Unknown")
_MODE_OF = {m.casefold(): m for m in MODES}
_STATUS_OF = {s.casefold(): s for s in STATUSES}
_EXACT_MODES = {m: m for m in MODES}
_EXACT_STATUSES = {s: s for s in STATUSES}
_MONTHS = {
    m: i + 1
    for i, m in enumerate(
        ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"]
    )
}
MAX_APPOINTMENTS_PER_ROW = 10**9  # far above any practice's month; catches corrupt figures


class CsvRows(Protocol):
    """Rows of cells that know the line they end on (a ``csv.reader``)."""

    @property
    def line_num(self) -> int: ...

    def __iter__(self) -> Iterator[list[str]]: ...

    def __next__(self) -> list[str]: ...


class AppointmentsFileError(IngestError):
    """A crosstab file could not be read; the message is one line naming where."""


@dataclass(frozen=True, slots=True)
class AppointmentCount:
    """Appointments of a practice in a month by mode and status (``triage.ref_appointments``)."""

    practice_code: str
    appt_mode: str
    appt_status: str
    appointments: int


@dataclass(frozen=True, slots=True)
class AppointmentPractice:
    """How the crosstab names a practice in a month (``triage.ref_appointment_practices``)."""

    practice_code: str
    gp_name: str
    pcn_code: str | None
    sub_icb_location_code: str | None


@dataclass(slots=True)
class MonthOfAppointments:
    """One month folded from the files: counts by (practice, mode, status), practices."""

    month: dt.date
    counts: dict[tuple[str, str, str], int] = field(default_factory=dict)
    practices: dict[str, AppointmentPractice] = field(default_factory=dict)
    rows: int = 0  # crosstab rows read

    def records(self) -> list[AppointmentCount]:
        return [
            AppointmentCount(code, mode, status, n)
            for (code, mode, status), n in sorted(self.counts.items())
        ]

    def practice_records(self) -> list[AppointmentPractice]:
        return [self.practices[code] for code in sorted(self.practices)]

    def fingerprint(self) -> str:
        """SHA-256 of the month's content (independent of row and file order)."""
        digest = hashlib.sha256(self.month.isoformat().encode())
        for c in self.records():
            digest.update(f"\x1e{c.practice_code}\x1f{c.appt_mode}\x1f{c.appt_status}".encode())
            digest.update(f"\x1f{c.appointments}".encode())
        for p in self.practice_records():
            values = (p.practice_code, p.gp_name, p.pcn_code or "", p.sub_icb_location_code or "")
            digest.update(("\x1d" + "\x1f".join(values)).encode())
        return digest.hexdigest()


def parse_month(value: str) -> dt.date:
    """``APPOINTMENT_MONTH_START_DATE`` as published (``01OCT2024``) or ISO (``2024-10-01``):
    the first day of a month. ValueError otherwise."""
    text = value.strip()
    if len(text) == 9 and text[:2].isdigit() and text[5:].isdigit():
        month = _MONTHS.get(text[2:5].upper())
        if month is None:
            raise ValueError(value)
        day = dt.date(int(text[5:]), month, int(text[:2]))
    elif len(text) == 10 and text[4] == "-" and text[7] == "-":
        day = dt.date.fromisoformat(text)
    else:
        raise ValueError(value)
    if day.day != 1:
        raise ValueError(value)
    return day


class CrosstabAggregator:
    """Folds crosstab rows of any number of files into months (``feed_file`` per file)."""

    def __init__(self) -> None:
        self.months: dict[dt.date, MonthOfAppointments] = {}
        self._source_of: dict[tuple[dt.date, str], str] = {}  # (month, practice) -> file

    def feed_file(self, source: str, rows: CsvRows) -> int:
        """Fold the rows of one file (header first); its row count. A CSV error of the
        reader is one line naming the file and the line, like every other problem."""
        try:
            return self._fold(source, rows)
        except csv.Error as exc:
            raise AppointmentsFileError(f"{source} line {rows.line_num}: {exc}") from exc

    @staticmethod
    def _columns(source: str, rows: CsvRows) -> tuple[list[int], int]:
        """The index of each of _USED's columns in the header, and the header's width."""
        header = next(rows, None)
        if header is None:
            raise AppointmentsFileError(f"{source}: the file is empty (expected a header)")
        index = {name.strip().upper(): i for i, name in enumerate(header)}
        missing = [name for name in _USED if name not in index]
        if missing:
            raise AppointmentsFileError(
                f"{source} line {rows.line_num}: the header lacks {', '.join(missing)} "
                f"(expected {','.join(HEADER)})"
            )
        return [index[name] for name in _USED], len(header)

    def _fold(self, source: str, rows: CsvRows) -> int:
        used, header_width = self._columns(source, rows)
        i_month, i_code, i_name, i_pcn, i_sub, i_mode, i_count, i_status = used
        width = max(used) + 1
        months: dict[str, MonthOfAppointments] = {}  # the cell's text -> its month
        known: set[tuple[str, str]] = set()  # (month text, practice) already checked
        modes, statuses = dict(_EXACT_MODES), dict(_EXACT_STATUSES)  # spellings seen
        rows_read = 0

        def fail(column: str, problem: str) -> AppointmentsFileError:
            return AppointmentsFileError(
                f"{source} line {rows.line_num}, column {column}: {problem}"
            )

        for cells in rows:
            if len(cells) < width:
                if not any(c.strip() for c in cells):
                    continue  # a blank line
                raise fail(
                    HEADER[min(len(cells), len(HEADER) - 1)],
                    f"the row has {len(cells)} columns, the header {header_width}",
                )
            month_text = cells[i_month]
            month = months.get(month_text)
            if month is None:
                try:
                    day = parse_month(month_text)
                except ValueError:
                    raise fail(
                        "APPOINTMENT_MONTH_START_DATE",
                        f"{month_text[:40]!r} is not the first day of a month (01OCT2024)",
                    ) from None
                month = self.months.setdefault(day, MonthOfAppointments(day))
                months[month_text] = month
            code = cells[i_code]
            if (month_text, code) not in known:
                self._first_sight(source, rows.line_num, month, code, cells, i_name, i_pcn, i_sub)
                known.add((month_text, code))
            mode = modes.get(cells[i_mode])
            if mode is None:
                mode = _MODE_OF.get(cells[i_mode].strip().casefold())
                if mode is None:
                    raise fail(
                        "APPT_MODE",
                        f"{cells[i_mode][:40]!r} is not a published mode ({', '.join(MODES)})",
                    )
                modes[cells[i_mode]] = mode
            status = statuses.get(cells[i_status])
            if status is None:
                status = _STATUS_OF.get(cells[i_status].strip().casefold())
                if status is None:
                    raise fail(
                        "APPT_STATUS",
                        f"{cells[i_status][:40]!r} is not a published status "
                        f"({', '.join(STATUSES)})",
                    )
                statuses[cells[i_status]] = status
            count_text = cells[i_count]
            if not (count_text.isdigit() and count_text.isascii() and len(count_text) <= 10):
                count_text = count_text.strip()
                if not (count_text.isascii() and count_text.isdigit()) or len(count_text) > 10:
                    raise fail(
                        "COUNT_OF_APPOINTMENTS",
                        f"{cells[i_count][:40]!r} is not a whole number of appointments",
                    )
            n = int(count_text)
            if n > MAX_APPOINTMENTS_PER_ROW:
                raise fail("COUNT_OF_APPOINTMENTS", f"{n} is implausibly large")
            key = (code, mode, status)
            month.counts[key] = month.counts.get(key, 0) + n
            month.rows += 1
            rows_read += 1
        return rows_read

    def _first_sight(
        self,
        source: str,
        line_no: int,
        month: MonthOfAppointments,
        code: str,
        cells: Sequence[str],
        i_name: int,
        i_pcn: int,
        i_sub: int,
    ) -> None:
        if not PRACTICE_CODE_RE.fullmatch(code):
            raise AppointmentsFileError(
                f"{source} line {line_no}, column GP_CODE: {code[:40]!r} is not an ODS "
                "practice code (A12345)"
            )
        earlier = self._source_of.setdefault((month.month, code), source)
        if earlier != source:
            raise AppointmentsFileError(
                f"{source} line {line_no}, column GP_CODE: practice {code} in "
                f"{month.month:%Y-%m} is also in {earlier} (the same file given twice?)"
            )
        if code not in month.practices:
            month.practices[code] = AppointmentPractice(
                code,
                cells[i_name].strip(),
                cells[i_pcn].strip() or None,
                cells[i_sub].strip() or None,
            )
