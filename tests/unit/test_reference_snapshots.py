"""NHS England's mapping file, the ODS eccg file and memberships inferred from snapshots (which ICB
a practice belonged to when). Real and constructed fixtures:
tests/fixtures/reference/ods/README.md."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from ingest.reference.csv_input import ReferenceFileError, overlaps
from ingest.reference.icb_names import parse_icb_names, with_icb_names
from ingest.reference.parsing import parse_reference, read_reference, read_snapshot
from ingest.reference.practice_map import parse_practice_map
from ingest.reference.records import ListSize, Membership, ReferenceKind, SubIcb
from ingest.reference.snapshots import Placement, Snapshot, memberships_from_snapshots

pytestmark = pytest.mark.unit

ODS = Path(__file__).resolve().parents[1] / "fixtures" / "reference" / "ods"
MAP_2022 = ODS / "gp_reg_pat_prac_map_2022_excerpt.csv"
EPRACCUR_2019 = ODS / "epraccur_2019_excerpt.csv"
D = dt.date


def test_the_real_mapping_file_reads_the_ccg_column_and_extract_date() -> None:
    rows = parse_practice_map(MAP_2022.read_text())
    assert len(rows) == 12
    assert {r.extract_date for r in rows} == {D(2022, 1, 1)}
    assert {r.commissioner_code for r in rows} == {"16C", "01K", "01H"}


def test_the_sub_icb_location_layout_is_read_too() -> None:
    text = (
        "PUBLICATION,EXTRACT_DATE,PRACTICE_CODE,PRACTICE_NAME,SUB_ICB_LOCATION_CODE,ICB_CODE\n"
        "GP_PRAC_PAT_LIST,2024-10-01,A81001,THE DENSHAM SURGERY,16C,QHM\n"
    )
    (row,) = parse_practice_map(text)
    assert (row.practice_code, row.commissioner_code, row.extract_date) == (
        "A81001",
        "16C",
        D(2024, 10, 1),
    )


def test_a_mapping_file_loads_as_memberships_from_its_extract_date() -> None:
    parsed = read_reference(ReferenceKind.MEMBERSHIPS, MAP_2022.read_bytes(), MAP_2022.name)
    assert parsed.records[0] == Membership("A81001", "16C", D(2022, 1, 1), None)
    assert parsed.summary[0].endswith("as at 2022-01-01 (extract date)")


def test_a_mapping_file_with_two_extract_dates_is_refused() -> None:
    lines = MAP_2022.read_text().splitlines()
    lines[2] = lines[2].replace("01Jan2022", "01Feb2022")
    with pytest.raises(ReferenceFileError, match="more than one EXTRACT_DATE"):
        parse_practice_map("\n".join(lines))


def test_the_eccg_layout_gives_each_location_its_parent_and_dates() -> None:
    records = parse_reference(ReferenceKind.SUB_ICBS, (ODS / "eccg_constructed.csv").read_bytes())
    by_code = {r.sub_icb_code: r for r in records if isinstance(r, SubIcb)}
    assert by_code["00K"] == SubIcb(
        "00K", "NHS HARTLEPOOL AND STOCKTON-ON-TEES CCG", "Q74", None, D(2013, 4, 1), D(2020, 3, 31)
    )
    assert (by_code["16C"].icb_code, by_code["16C"].effective_to) == ("QHM", None)


def test_an_eccg_row_without_a_parent_is_refused_and_named() -> None:
    lines = (ODS / "eccg_constructed.csv").read_text().splitlines()
    lines[2] = lines[2].replace('"QHM"', '""', 1)
    with pytest.raises(ReferenceFileError) as info:
        parse_reference(ReferenceKind.SUB_ICBS, "\n".join(lines).encode())
    assert [n for n, _ in info.value.problems] == [3]
    assert "parent" in str(info.value)


def snapshot(on: dt.date, **placements: Placement) -> Snapshot:
    return Snapshot(f"s{on}", on, "given", dict(placements))


def test_a_change_between_snapshots_is_dated_by_the_ods_join_date() -> None:
    inferred = memberships_from_snapshots(
        [
            snapshot(D(2019, 11, 19), A81001=Placement("00K", joined=D(2013, 4, 1))),
            snapshot(D(2022, 1, 1), A81001=Placement("16C", joined=D(2020, 4, 1))),
        ]
    )
    assert inferred.memberships == [
        Membership("A81001", "00K", D(2013, 4, 1), D(2020, 3, 31)),
        Membership("A81001", "16C", D(2020, 4, 1), None),
    ]
    assert "1 dated by the ODS join date" in inferred.report[3]


def test_without_a_join_date_the_change_is_dated_at_the_snapshot_showing_it() -> None:
    inferred = memberships_from_snapshots(
        [
            snapshot(D(2021, 1, 1), P00001=Placement("00K")),
            snapshot(D(2022, 1, 1), P00001=Placement("16C")),
        ]
    )
    assert inferred.memberships == [
        Membership("P00001", "00K", D(2021, 1, 1), D(2021, 12, 31)),
        Membership("P00001", "16C", D(2022, 1, 1), None),
    ]
    assert "1 at the snapshot first showing them" in inferred.report[3]


def test_a_practice_no_longer_listed_ends_the_day_before_and_a_closed_one_at_its_close_date() -> (
    None
):
    inferred = memberships_from_snapshots(
        [
            snapshot(
                D(2021, 1, 1),
                P00001=Placement("00K"),
                P00002=Placement("00K", closed=D(2021, 6, 30)),
            ),
            snapshot(D(2022, 1, 1)),
        ]
    )
    assert inferred.memberships == [
        Membership("P00001", "00K", D(2021, 1, 1), D(2021, 12, 31)),
        Membership("P00002", "00K", D(2021, 1, 1), D(2021, 6, 30)),
    ]


def test_snapshots_out_of_date_order_are_refused() -> None:
    with pytest.raises(ReferenceFileError, match="date order"):
        memberships_from_snapshots([snapshot(D(2022, 1, 1)), snapshot(D(2021, 1, 1))])


def test_real_epraccur_then_real_mapping_file_give_periods_that_never_overlap() -> None:
    first = read_snapshot(EPRACCUR_2019.name, EPRACCUR_2019.read_bytes(), None)
    second = read_snapshot(MAP_2022.name, MAP_2022.read_bytes(), None)
    assert (first.taken_on, first.date_basis) == (D(2020, 1, 1), "latest date in the file")
    inferred = memberships_from_snapshots([first, second])
    periods = [(m.practice_code, m.effective_from, m.effective_to) for m in inferred.memberships]
    assert overlaps("practice", periods) == []
    a81001 = [m for m in inferred.memberships if m.practice_code == "A81001"]
    assert a81001 == [
        Membership("A81001", "00K", D(2013, 4, 1), D(2021, 12, 31)),
        Membership("A81001", "16C", D(2022, 1, 1), None),
    ]
    assert inferred.report[1] == "26 practices, 22 periods"


def test_a_given_date_that_contradicts_the_extract_date_is_refused() -> None:
    with pytest.raises(ReferenceFileError, match="EXTRACT_DATE is 2022-01-01"):
        read_snapshot(MAP_2022.name, MAP_2022.read_bytes(), D(2022, 2, 1))


def test_the_real_list_sizes_file_loads_with_its_extract_date() -> None:
    sizes = parse_reference(
        ReferenceKind.LIST_SIZES, (ODS / "gp_reg_pat_prac_all_2021_excerpt.csv").read_bytes()
    )
    assert len(sizes) == 7
    assert ListSize("P83012", D(2021, 1, 1), 30594) in sizes
    assert ListSize("Y02157", D(2021, 1, 1), 1) in sizes


def test_icb_names_from_the_ons_layout_fill_the_eccg_rows() -> None:
    names = parse_icb_names((ODS / "icb_names_ons_layout.csv").read_text())
    assert names["QE1"] == "NHS Lancashire and South Cumbria Integrated Care Board"
    eccg = [
        r
        for r in parse_reference(
            ReferenceKind.SUB_ICBS, (ODS / "eccg_constructed.csv").read_bytes()
        )
        if isinstance(r, SubIcb)
    ]
    named = {r.sub_icb_code: r.icb_name for r in with_icb_names(eccg, names)}
    assert named["01K"] == "NHS Lancashire and South Cumbria Integrated Care Board"
    assert named["16C"] == "NHS North East and North Cumbria Integrated Care Board"
    assert named["00K"] is None  # its 2019 parent Q74 is not in the list


def test_an_icb_names_file_without_code_and_name_columns_is_one_line() -> None:
    with pytest.raises(ReferenceFileError) as info:
        parse_icb_names("code,name\nQHM,North East\n")
    assert len(info.value.problems) == 1
    assert "ICByyCDH,ICByyNM or icb_code,icb_name" in str(info.value)
