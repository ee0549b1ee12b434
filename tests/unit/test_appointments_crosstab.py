"""Reading NHS England's GPAD practice-level crosstab (ingest.reference.appointments and
appointment_files): folded per practice, month, mode and status; every bad file stops at its
first problem in one line naming the file, the line and the column."""

from __future__ import annotations

import csv
import datetime as dt
import io
import zipfile
from pathlib import Path

import pytest

from ingest.reference.appointment_files import MAX_LINE_BYTES, read_crosstabs
from ingest.reference.appointments import AppointmentsFileError, parse_month
from tests.support.gpad import (
    FIXTURE,
    HEADER,
    crosstab_text,
    fixture_lines,
    fixture_rows,
    sums,
    zip_of,
)

pytestmark = pytest.mark.unit

OCTOBER = dt.date(2024, 10, 1)


def folded(paths: list[Path]) -> dict[tuple[str, str, str], int]:
    aggregator, _ = read_crosstabs(paths)
    return dict(aggregator.months[OCTOBER].counts)


def test_the_excerpt_folds_to_the_sums_of_its_rows_by_practice_mode_and_status() -> None:
    assert folded([FIXTURE]) == dict(sums(fixture_rows()))


def test_the_real_october_2025_zip_folds_to_the_sums_of_its_rows() -> None:
    archive = FIXTURE.with_name("Practice_Level_Crosstab_Oct_25_10R.zip")
    with zipfile.ZipFile(archive) as z:
        (name,) = z.namelist()
        rows = list(csv.DictReader(io.StringIO(z.read(name).decode("utf-8"))))
    aggregator, _ = read_crosstabs([archive])
    month = aggregator.months[dt.date(2025, 10, 1)]
    assert dict(month.counts) == dict(sums(rows))
    assert month.rows == len(rows) == 2097


def test_the_zip_as_published_folds_like_its_csvs_and_skips_the_mapping_file(
    tmp_path: Path,
) -> None:
    lines = fixture_lines()
    half = len(lines) // 2
    # Regions are split by practice: cut at a practice boundary.
    while lines[half].split(",")[1] == lines[half - 1].split(",")[1]:
        half += 1
    archive = zip_of(
        tmp_path / "Practice_Level_Crosstab_Oct_24.zip",
        {
            "Practice_Level_Crosstab_Oct_24_NE.csv": "".join(lines[:half]),
            "Practice_Level_Crosstab_Oct_24_NW.csv": lines[0] + "".join(lines[half:]),
            "Mapping.csv": "GP_CODE,ICB_CODE\r\nA81001,QHM\r\n",
        },
    )
    aggregator, notes = read_crosstabs([archive])
    assert dict(aggregator.months[OCTOBER].counts) == dict(sums(fixture_rows()))
    assert any("skipped Mapping.csv" in note for note in notes)


def test_each_practice_keeps_its_name_pcn_and_sub_icb_location_as_published() -> None:
    aggregator, _ = read_crosstabs([FIXTURE])
    practices = aggregator.months[OCTOBER].practices
    for row in fixture_rows():
        p = practices[row["GP_CODE"]]
        assert (p.gp_name, p.pcn_code, p.sub_icb_location_code) == (
            row["GP_NAME"],
            row["PCN_CODE"],
            row["SUB_ICB_LOCATION_CODE"],
        )


def test_the_same_region_given_twice_is_refused_rather_than_counted_twice(tmp_path: Path) -> None:
    copy = tmp_path / "copy.csv"
    copy.write_bytes(FIXTURE.read_bytes())
    with pytest.raises(
        AppointmentsFileError, match=r"copy\.csv line 2, column GP_CODE: .* also in"
    ):
        read_crosstabs([FIXTURE, copy])


@pytest.mark.parametrize(
    ("column", "value", "says"),
    [
        ("COUNT_OF_APPOINTMENTS", "12x", "is not a whole number"),
        ("COUNT_OF_APPOINTMENTS", "-3", "is not a whole number"),
        ("APPT_MODE", "Carrier pigeon", "is not a published mode"),
        ("APPT_STATUS", "Maybe", "is not a published status"),
        ("GP_CODE", "A8100", "is not an ODS practice code"),
        ("APPOINTMENT_MONTH_START_DATE", "15OCT2024", "is not the first day of a month"),
        ("APPOINTMENT_MONTH_START_DATE", "October", "is not the first day of a month"),
    ],
)
def test_a_bad_cell_is_one_line_naming_the_file_line_and_column(
    tmp_path: Path, column: str, value: str, says: str
) -> None:
    rows = [list(r.values()) for r in fixture_rows()[:6]]
    rows[4][HEADER.index(column)] = value
    bad = tmp_path / "Practice_Level_Crosstab_Oct_24.csv"
    bad.write_text(crosstab_text(rows))
    with pytest.raises(AppointmentsFileError) as caught:
        read_crosstabs([bad])
    message = str(caught.value)
    assert "\n" not in message
    assert message.startswith(f"{bad.name} line 6, column {column}: ")
    assert says in message


def test_a_short_row_names_its_line(tmp_path: Path) -> None:
    bad = tmp_path / "short.csv"
    bad.write_text(crosstab_text([["01OCT2024", "A81001", "X"]]))
    with pytest.raises(AppointmentsFileError, match=r"^short\.csv line 2, column .*3 columns"):
        read_crosstabs([bad])


def test_a_header_without_the_crosstab_columns_is_refused(tmp_path: Path) -> None:
    bad = tmp_path / "Mapping.csv"
    bad.write_text("GP_CODE,ICB_CODE\r\nA81001,QHM\r\n")
    with pytest.raises(AppointmentsFileError, match=r"^Mapping\.csv line 1: the header lacks"):
        read_crosstabs([bad])


def test_a_line_past_the_cap_stops_reading_at_that_line(tmp_path: Path) -> None:
    bad = tmp_path / "long.csv"
    bad.write_bytes(
        (",".join(HEADER) + "\n").encode() + b"01OCT2024,A81001," + b"x" * MAX_LINE_BYTES
    )
    with pytest.raises(AppointmentsFileError, match=r"^long\.csv line 2: longer than"):
        read_crosstabs([bad])


def test_line_numbers_hold_when_a_read_block_ends_inside_a_crlf(tmp_path: Path) -> None:
    block = 1 << 20  # appointment_files' read size
    base = [list(r.values()) for r in fixture_rows()]
    rows = [list(r) for _ in range(40) for r in base]  # about 1.3 MB: two blocks
    rows[-1][HEADER.index("APPT_STATUS")] = "Maybe"  # a bad last row
    data = crosstab_text(rows).encode()
    cr = data.rindex(b"\r\n", 0, block)  # the last line end before the block's edge
    rows[0][HEADER.index("GP_NAME")] += "x" * (block - 1 - cr)  # moved onto the edge
    data = crosstab_text(rows).encode()
    assert data[block - 1 : block + 1] == b"\r\n"
    f = tmp_path / "big.csv"
    f.write_bytes(data)
    with pytest.raises(
        AppointmentsFileError, match=rf"^big\.csv line {len(rows) + 1}, column APPT_STATUS"
    ):
        read_crosstabs([f])


def test_a_corrupt_zip_member_is_one_line_naming_the_zip(tmp_path: Path) -> None:
    archive = zip_of(
        tmp_path / "gpad.zip", {"Practice_Level_Crosstab_Oct_24.csv": FIXTURE.read_text()}
    )
    data = bytearray(archive.read_bytes())
    middle = data.index(b"Practice_Level_Crosstab_Oct_24.csv") + 200
    data[middle : middle + 16] = b"\x00" * 16  # corrupt the compressed bytes
    archive.write_bytes(bytes(data))
    with pytest.raises(AppointmentsFileError, match=r"gpad\.zip"):
        read_crosstabs([archive])


def test_a_zip_without_a_crosstab_names_what_it_holds(tmp_path: Path) -> None:
    archive = zip_of(tmp_path / "other.zip", {"Mapping.csv": "a,b\r\n"})
    with pytest.raises(AppointmentsFileError, match=r"^other\.zip: holds no .*Mapping\.csv"):
        read_crosstabs([archive])


def test_a_utf8_bom_and_windows_1252_names_are_read(tmp_path: Path) -> None:
    row = list(fixture_rows()[0].values())
    row[HEADER.index("GP_NAME")] = "ST JOHN\u2019S SURGERY"
    text = crosstab_text([row])
    f = tmp_path / "cp1252.csv"
    f.write_bytes(b"\xef\xbb\xbf" + text.encode("cp1252"))
    aggregator, _ = read_crosstabs([f])
    assert aggregator.months[OCTOBER].practices[row[1]].gp_name == "ST JOHN\u2019S SURGERY"


@pytest.mark.parametrize(
    ("text", "month"),
    [("01OCT2024", OCTOBER), ("01oct2024", OCTOBER), ("2024-10-01", OCTOBER)],
)
def test_the_month_is_read_as_published_or_iso(text: str, month: dt.date) -> None:
    assert parse_month(text) == month


def test_the_fingerprint_ignores_row_and_file_order(tmp_path: Path) -> None:
    lines = fixture_lines()
    reversed_file = tmp_path / "reversed.csv"
    reversed_file.write_text(lines[0] + "".join(reversed(lines[1:])))
    forward, _ = read_crosstabs([FIXTURE])
    backward, _ = read_crosstabs([reversed_file])
    assert forward.months[OCTOBER].fingerprint() == backward.months[OCTOBER].fingerprint()
