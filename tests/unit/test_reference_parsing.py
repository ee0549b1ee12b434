"""Parsing of the reference files (ingest.reference.*): pure, no database."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from ingest.errors import IngestError
from ingest.reference.csv_input import ReferenceFileError, decode_text
from ingest.reference.epraccur import EPRACCUR_COLUMNS, EPRACCUR_LAYOUT, parse_epraccur
from ingest.reference.list_sizes import merge_list_sizes, parse_list_sizes
from ingest.reference.memberships import parse_memberships
from ingest.reference.parsing import parse_reference
from ingest.reference.practice_map import merge_dated
from ingest.reference.records import (
    ListSize,
    Membership,
    PracticePcn,
    ReferenceKind,
    as_row,
    columns_of,
    fingerprint,
)
from ingest.reference.sub_icbs import parse_sub_icbs

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "reference"
D = dt.date


def epraccur_line(**overrides: str) -> str:
    """One quoted epraccur row with sensible defaults; override by layout field name."""
    values = {
        "practice_code": "K99001",
        "name": "TEST SURGERY",
        "national_grouping": "Y97",
        "high_level_health_geography": "QZA",
        "address_line_1": "1 HIGH STREET",
        "postcode": "NV1 1AA",
        "open_date": "19900101",
        "status_code": "A",
        "sub_type_code": "B",
        "commissioner_code": "91A",
        "join_date": "20220701",
        "telephone": "01632 960000",
        "amended_record_indicator": "0",
        "provider_purchaser_code": "91A",
        "prescribing_setting": "4",
    }
    values.update(overrides)
    cells = [values.get(name, "") if name else "" for name in EPRACCUR_LAYOUT]
    return ",".join(f'"{c}"' for c in cells)


# --- epraccur ----------------------------------------------------------------------------------


def test_layout_is_the_published_27_columns_with_nulls_where_ods_publishes_them() -> None:
    assert EPRACCUR_COLUMNS == 27
    nulls = [i + 1 for i, name in enumerate(EPRACCUR_LAYOUT) if name is None]
    assert nulls == [19, 20, 21, 23, 25, 27]
    assert EPRACCUR_LAYOUT[14] == "commissioner_code"  # column 15
    assert EPRACCUR_LAYOUT[25] == "prescribing_setting"  # column 26


def test_fixture_epraccur_parses_every_field() -> None:
    practices = parse_epraccur(decode_text((FIXTURES / "epraccur_sample.csv").read_bytes()))
    assert len(practices) == 12
    by_code = {p.practice_code: p for p in practices}
    moved = by_code["B99002"]
    assert moved.name == "RIVERSIDE SURGERY"
    assert moved.commissioner_code == "91B"
    assert moved.join_date == D(2024, 10, 1)
    assert moved.open_date == D(1981, 1, 1)
    assert moved.close_date is None
    assert moved.high_level_health_geography == "QZA"
    assert moved.amended_record_indicator == "1"
    closed = by_code["F99009"]
    assert (closed.status_code, closed.close_date, closed.left_date) == (
        "C",
        D(2023, 12, 31),
        D(2023, 12, 31),
    )
    assert by_code["G99010"].prescribing_setting == 1  # a walk-in centre
    assert by_code["H99011"].status_code == "D"
    assert by_code["H99011"].telephone is None
    assert by_code["J99012"].address_line_1 == "THE GREEN, WEST END"  # quoted comma
    assert by_code["B99003"].address_line_2 is None  # "" -> NULL


def test_row_tuples_follow_the_column_names() -> None:
    practice = parse_epraccur(epraccur_line())[0]
    row = dict(zip(columns_of(type(practice)), as_row(practice), strict=True))
    assert row["practice_code"] == "K99001"
    assert row["open_date"] == D(1990, 1, 1)
    assert row["prescribing_setting"] == 4


def test_wrong_column_count_names_the_line() -> None:
    text = epraccur_line() + "\n" + '"K99002","SHORT ROW"\n'
    with pytest.raises(ReferenceFileError) as info:
        parse_epraccur(text)
    assert info.value.problems == [(2, "expected 27 columns (epraccur layout), got 2")]
    assert isinstance(info.value, IngestError)


def test_every_problem_is_reported_not_just_the_first() -> None:
    text = "\n".join(
        [
            epraccur_line(practice_code="K99001"),
            epraccur_line(practice_code="K-9901"),  # not an ODS code
            epraccur_line(practice_code="K99003", open_date="2020-01-01"),  # bad date format
            epraccur_line(practice_code="K99004", close_date="20200230"),  # no such day
            epraccur_line(practice_code="K99005", status_code="X"),
            epraccur_line(practice_code="K99001"),  # duplicate
            epraccur_line(practice_code="K99007", prescribing_setting="GP"),
            epraccur_line(practice_code="K99008", open_date="20200101", close_date="20190101"),
        ]
    )
    with pytest.raises(ReferenceFileError) as info:
        parse_epraccur(text)
    lines = [line for line, _ in info.value.problems]
    assert lines == [2, 3, 4, 5, 6, 7, 8]
    messages = " ".join(msg for _, msg in info.value.problems)
    assert "'K-9901'" in messages
    assert "YYYYMMDD" in messages
    assert "repeats line 1" in messages


def test_blank_lines_are_skipped_and_codes_upper_cased() -> None:
    text = (
        "\n"
        + epraccur_line(practice_code="k99001")
        + "\n\n"
        + epraccur_line(practice_code="K99002")
    )
    practices = parse_epraccur(text)
    assert [p.practice_code for p in practices] == ["K99001", "K99002"]


def test_empty_epraccur_is_an_error() -> None:
    with pytest.raises(ReferenceFileError, match="no practices"):
        parse_epraccur("\n\n")


def test_decode_text_handles_bom_and_windows_1252() -> None:
    assert decode_text("\ufeffabc".encode()) == "abc"
    assert decode_text("ST MARY\u2019S".encode("cp1252")) == "ST MARY\u2019S"


# --- memberships -------------------------------------------------------------------------------


def test_fixture_memberships_parse_with_inclusive_open_ended_periods() -> None:
    members = parse_memberships((FIXTURES / "memberships_sample.csv").read_text())
    assert len(members) == 13
    moves = [m for m in members if m.practice_code == "B99002"]
    assert moves == [
        Membership("B99002", "91A", D(2022, 7, 1), D(2024, 9, 30)),
        Membership("B99002", "91B", D(2024, 10, 1), None),
    ]


def test_membership_header_is_case_insensitive_and_extra_columns_are_ignored() -> None:
    text = (
        "Note,PRACTICE_CODE,Commissioner_Code,effective_from,effective_to\n"
        "merged,K99001,15n,2020-04-01,\n"
    )
    assert parse_memberships(text) == [Membership("K99001", "15N", D(2020, 4, 1), None)]


def test_overlapping_memberships_are_refused() -> None:
    text = (
        "practice_code,commissioner_code,effective_from,effective_to\n"
        "K99001,91A,2022-07-01,2024-10-01\n"
        "K99001,91B,2024-10-01,\n"
    )
    with pytest.raises(ReferenceFileError, match="overlaps"):
        parse_memberships(text)


def test_two_open_ended_memberships_overlap() -> None:
    text = (
        "practice_code,commissioner_code,effective_from,effective_to\n"
        "K99001,91A,2022-07-01,\n"
        "K99001,91B,2024-10-01,\n"
    )
    with pytest.raises(ReferenceFileError, match="2022-07-01 to open overlaps"):
        parse_memberships(text)


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ("K99001,91A,2024-10-01,2024-09-30", "before effective_from"),
        ("K99001,91A,01/10/2024,", "ISO date"),
        ("K99001,91A,,", "effective_from is empty"),
        ("K99001,,2024-10-01,", "commissioner_code is empty"),
        ("K99001,9!A,2024-10-01,", "organisation code"),
        ("99001,91A,2024-10-01,", "practice code"),
    ],
)
def test_bad_membership_rows(row: str, message: str) -> None:
    text = "practice_code,commissioner_code,effective_from,effective_to\n" + row + "\n"
    with pytest.raises(ReferenceFileError, match=message) as info:
        parse_memberships(text)
    assert info.value.problems[0][0] == 2


def test_membership_header_must_name_the_columns() -> None:
    with pytest.raises(ReferenceFileError, match="header lacks effective_to"):
        parse_memberships("practice_code,commissioner_code,effective_from\nK99001,91A,2024-01-01\n")


# --- sub-ICBs ----------------------------------------------------------------------------------


def test_fixture_sub_icbs_parse() -> None:
    sub_icbs = parse_sub_icbs((FIXTURES / "sub_icbs_sample.csv").read_text())
    assert {(s.sub_icb_code, s.icb_code) for s in sub_icbs} == {
        ("91A", "QZA"),
        ("91B", "QZA"),
        ("92C", "QZB"),
        ("92D", "QZB"),
    }
    assert all(s.effective_to is None for s in sub_icbs)


def test_sub_icb_may_move_icb_but_not_overlap() -> None:
    header = "sub_icb_code,sub_icb_name,icb_code,icb_name,effective_from,effective_to\n"
    ok = header + "92C,,QZB,,2022-07-01,2024-03-31\n92C,,QZA,,2024-04-01,\n"
    assert [s.icb_code for s in parse_sub_icbs(ok)] == ["QZB", "QZA"]
    bad = header + "92C,,QZB,,2022-07-01,2024-04-01\n92C,,QZA,,2024-04-01,\n"
    with pytest.raises(ReferenceFileError, match="sub-ICB 92C"):
        parse_sub_icbs(bad)


# --- list sizes --------------------------------------------------------------------------------


def test_fixture_list_sizes_in_the_project_layout() -> None:
    sizes = parse_list_sizes((FIXTURES / "list_sizes_sample.csv").read_text())
    assert len(sizes) == 18
    assert ListSize("B99001", D(2024, 10, 1), 8437) in sizes


def test_nhs_digital_layout_keeps_only_the_all_ages_all_sexes_gp_rows() -> None:
    sizes = parse_list_sizes((FIXTURES / "list_sizes_nhs_layout_sample.csv").read_text())
    assert sizes == [
        ListSize("B99001", D(2024, 10, 1), 8437),
        ListSize("B99002", D(2024, 10, 1), 5133),
        ListSize("C99005", D(2024, 10, 1), 14188),
    ]


@pytest.mark.parametrize("extract", ["01Oct2024", "01-Oct-2024", "01-Oct-24", "2024-10-01"])
def test_nhs_digital_extract_date_formats(extract: str) -> None:
    text = f'EXTRACT_DATE,CODE,NUMBER_OF_PATIENTS\n{extract},K99001,"1,234"\n'
    assert parse_list_sizes(text) == [ListSize("K99001", D(2024, 10, 1), 1234)]


def test_list_size_problems() -> None:
    header = "practice_code,extract_date,registered_patients\n"
    with pytest.raises(ReferenceFileError, match="non-negative whole number"):
        parse_list_sizes(header + "K99001,2024-10-01,-5\n")
    with pytest.raises(ReferenceFileError, match="appears twice"):
        parse_list_sizes(header + "K99001,2024-10-01,5\nK99001,2024-10-01,6\n")


def test_merge_list_sizes_adds_months_and_new_figures_win() -> None:
    current = [ListSize("K99001", D(2024, 9, 1), 100), ListSize("K99001", D(2024, 10, 1), 101)]
    new = [ListSize("K99001", D(2024, 10, 1), 111), ListSize("K99001", D(2024, 11, 1), 112)]
    assert merge_list_sizes(current, new) == [
        ListSize("K99001", D(2024, 9, 1), 100),
        ListSize("K99001", D(2024, 10, 1), 111),
        ListSize("K99001", D(2024, 11, 1), 112),
    ]


# --- fingerprint and dispatch ------------------------------------------------------------------


def test_fingerprint_ignores_row_order_but_not_content() -> None:
    a = Membership("K99001", "91A", D(2022, 7, 1), None)
    b = Membership("K99002", "91B", D(2022, 7, 1), D(2024, 1, 1))
    assert fingerprint([a, b]) == fingerprint([b, a])
    changed = Membership("K99002", "91B", D(2022, 7, 1), D(2024, 1, 2))
    assert fingerprint([a, b]) != fingerprint([a, changed])
    assert fingerprint([a]) != fingerprint([Membership("K99001", "91A", D(2022, 7, 1), None)] * 2)


def test_parse_reference_dispatches_on_kind() -> None:
    data = (FIXTURES / "sub_icbs_sample.csv").read_bytes()
    assert len(parse_reference(ReferenceKind.SUB_ICBS, data)) == 4
    with pytest.raises(ReferenceFileError):
        parse_reference(ReferenceKind.MEMBERSHIPS, data)  # wrong header for that kind


PRACTICE_MAP_2022 = FIXTURES / "ods" / "gp_reg_pat_prac_map_2022_excerpt.csv"


def test_the_practice_map_gives_each_practice_its_pcn_and_region_on_its_extract_date() -> None:
    text = PRACTICE_MAP_2022.read_text(encoding="utf-8")
    published = {
        line.split(",")[2]: line.split(",") for line in text.splitlines()[1:] if line.strip()
    }
    pcns = parse_reference(ReferenceKind.PCNS, PRACTICE_MAP_2022.read_bytes())
    assert {p.practice_code for p in pcns} == set(published)
    for pcn in pcns:
        assert isinstance(pcn, PracticePcn)
        row = published[pcn.practice_code]
        assert pcn.extract_date == dt.date(2022, 1, 1)
        assert (pcn.pcn_code, pcn.pcn_name) == (row[5], row[6])
        assert (pcn.region_code, pcn.region_name) == (row[14], row[15])


def test_monthly_pcn_extracts_accumulate_the_newer_file_winning_its_own_date() -> None:
    old = [PracticePcn("A81001", dt.date(2022, 1, 1), "U1", "ONE PCN", "Y63", "NE")]
    new = [
        PracticePcn("A81001", dt.date(2022, 1, 1), "U2", "TWO PCN", "Y63", "NE"),
        PracticePcn("A81001", dt.date(2022, 2, 1), "U2", "TWO PCN", "Y63", "NE"),
    ]
    assert merge_dated(old, new) == new
