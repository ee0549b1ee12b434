"""The ODS epraccur file as published (real 2019 excerpt, zip, word-status layout): every row
loads and is classified; only broken lines are refused. Sources: tests/fixtures/reference/ods.
"""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest

from ingest.reference.csv_input import ReferenceFileError
from ingest.reference.epraccur import parse_epraccur, summary
from ingest.reference.parsing import parse_reference
from ingest.reference.records import Practice, ReferenceKind

pytestmark = pytest.mark.unit

ODS = Path(__file__).resolve().parents[1] / "fixtures" / "reference" / "ods"
REAL_2019 = ODS / "epraccur_2019_excerpt.csv"


def by_code(practices: list[Practice]) -> dict[str, Practice]:
    return {p.practice_code: p for p in practices}


def real_2019() -> dict[str, Practice]:
    return by_code(parse_reference(ReferenceKind.PRACTICES, REAL_2019.read_bytes()))


def test_the_real_file_is_crlf_and_every_row_loads() -> None:
    data = REAL_2019.read_bytes()
    assert data.count(b"\r\n") == data.count(b"\n") == 15
    assert len(real_2019()) == 15


@pytest.mark.parametrize(
    ("code", "country", "setting"),
    [
        ("A81001", "england", "gp_practice"),
        ("A81003", "england", "gp_practice"),  # closed
        ("D81632", "england", "walk_in_or_out_of_hours"),
        ("B83666", "england", "hospital"),
        ("Y06550", "england", "hospital"),  # proposed
        ("Y04889", "england", "justice"),  # young offender institution
        ("W91002", "wales", "other"),  # Welsh practices are not flagged 4 in the file
        ("W00118", "wales", "justice"),  # HMP Usk
        ("JER002", "jersey", "other"),
        ("GUE070", "guernsey", "other"),
        ("ALD200", "alderney", "other"),
        ("Y00001", "isle_of_man", "other"),
    ],
)
def test_every_row_is_classified_by_country_and_setting(
    code: str, country: str, setting: str
) -> None:
    practice = real_2019()[code]
    assert (practice.country, practice.setting) == (country, setting)


def test_letter_statuses_and_setting_numbers_are_kept() -> None:
    practices = real_2019()
    assert [practices[c].status_code for c in ("A81001", "A81003", "A81632", "Y06550")] == [
        "A",
        "C",
        "D",
        "P",
    ]
    assert practices["Y04889"].prescribing_setting == 16
    assert practices["Y04889"].role_codes is None


def test_the_published_zip_gives_the_same_rows_as_the_csv() -> None:
    zipped = parse_reference(
        ReferenceKind.PRACTICES, (ODS / "epraccur_2019_excerpt.zip").read_bytes()
    )
    assert by_code(zipped) == real_2019()


def test_a_zip_without_epraccur_names_what_was_expected() -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("egdpprac.csv", b"x")
        archive.writestr("egdpprac.pdf", b"y")
    with pytest.raises(ReferenceFileError) as info:
        parse_reference(ReferenceKind.PRACTICES, buffer.getvalue())
    assert len(info.value.problems) == 1
    assert "expected epraccur.csv inside" in str(info.value)
    assert "egdpprac.csv" in str(info.value)


def test_a_broken_zip_is_one_line() -> None:
    with pytest.raises(ReferenceFileError, match="not a readable zip"):
        parse_reference(ReferenceKind.PRACTICES, b"PK\x03\x04 truncated")


def test_the_word_status_layout_loads_with_letters_and_role_codes() -> None:
    practices = by_code(
        parse_reference(
            ReferenceKind.PRACTICES, (ODS / "epraccur_word_status_layout.csv").read_bytes()
        )
    )
    assert {c: p.status_code for c, p in practices.items()} == {
        "A81001": "A",
        "A81003": "C",
        "A81632": "D",
        "D81632": "C",
        "Y06550": "P",
        "W91002": "A",
        "JER002": "A",
    }
    assert practices["A81001"].role_codes == "RO177|RO76"
    assert practices["A81001"].prescribing_setting is None
    gp = {c for c, p in practices.items() if p.setting == "gp_practice"}
    assert gp == {"A81001", "A81003", "A81632"}
    assert practices["JER002"].country == "jersey"


def test_a_file_of_another_kind_is_refused_in_one_line() -> None:
    text = "practice_code,commissioner_code,effective_from,effective_to\nA81001,00K,2013-04-01,\n"
    with pytest.raises(ReferenceFileError) as info:
        parse_epraccur(text)
    assert len(info.value.problems) == 1
    assert "not an ODS epraccur file" in str(info.value)


def test_a_broken_line_in_a_real_file_refuses_the_file_and_names_the_line() -> None:
    lines = REAL_2019.read_text().splitlines(keepends=True)
    lines[4] = lines[4].replace('"A"', '"ACTIVATED"', 1)
    lines[9] = lines[9].rstrip("\r\n").removesuffix(',""') + "\r\n"  # 26 columns
    with pytest.raises(ReferenceFileError) as info:
        parse_epraccur("".join(lines))
    assert [n for n, _ in info.value.problems] == [5, 10]


def test_the_summary_counts_rows_by_class_gp_practices_first() -> None:
    text = summary(list(real_2019().values()))
    assert text.startswith("15 rows: 3 gp practice (england), ")
    assert "2 other (jersey)" in text
    assert "1 justice (wales)" in text
