"""The push tool's file parsing: every bad row reported by line, field and reason (pure)."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from ingest.consumer.decoding import Decoder
from ingest.consumer.pipeline import check_record
from ingest.consumer.types import RawRecord
from ingest.contract.model import BAND_FIELDS, COUNT_FIELDS, Reason, Rejection
from ingest.contract.validation import Limits
from ingest.supplier.counts import DailyCounts, check_counts
from ingest.supplier.file_reading import format_of
from ingest.supplier.problems import FileError, FileReason, RowProblem
from ingest.supplier.push_file import CheckedRow, check_lines

pytestmark = pytest.mark.unit

TODAY = dt.date(2026, 3, 4)
LIMITS = Limits(today=TODAY, horizon_days=400, plausibility_cap=100_000)
HEADER = (
    "practice_code,activity_date,total_requests,clinical_requests,admin_requests,other_requests"
)


def check_csv(
    text: str, schema_version: int = 1, supplier: str = "askmygp"
) -> tuple[list[RowProblem], list[CheckedRow]]:
    problems, rows = check_lines(
        text.splitlines(keepends=True), "csv", supplier, LIMITS, schema_version
    )
    return problems, list(rows)


def only_problem(row: CheckedRow) -> RowProblem:
    assert len(row.problems) == 1, row.problems
    return row.problems[0]


def test_good_rows_become_counts_with_revision_defaulting_to_1() -> None:
    problems, rows = check_csv(f"{HEADER}\nA81001,2026-03-03,12,5,4,3\nB82002,2026-03-02,7,,,\n")
    assert problems == []
    assert [r.ok for r in rows] == [True, True]
    assert rows[0].counts == DailyCounts("A81001", dt.date(2026, 3, 3), 12, 5, 4, 3, revision=1)
    assert rows[1].counts is not None
    assert rows[1].counts.clinical_requests is None
    assert [r.line for r in rows] == [2, 3]


def test_each_contract_rule_is_reported_with_line_field_and_reason() -> None:
    text = "\n".join(
        [
            f"{HEADER},revision",
            "a81001,2026-03-03,12,,,,1",  # line 2
            "A81001,2026-03-05,12,,,,1",  # line 3: tomorrow
            "A81001,2024-01-01,12,,,,1",  # line 4: beyond the horizon
            "A81001,2026-03-03,-1,,,,1",  # line 5
            "A81001,2026-03-03,12,5,4,4,1",  # line 6
            "A81001,2026-03-02,100001,,,,1",  # line 7
            "A81001,2026-03-01,12,,,,0",  # line 8
            "A81001,2026-03-01,12,,-2,,1",  # line 9
        ]
    )
    problems, rows = check_csv(text)
    assert problems == []
    found = [(p.line, p.field, p.reason) for r in rows for p in r.problems]
    assert found == [
        (2, "practice_code", Reason.INVALID_PRACTICE_CODE),
        (3, "activity_date", Reason.ACTIVITY_DATE_OUT_OF_RANGE),
        (4, "activity_date", Reason.ACTIVITY_DATE_OUT_OF_RANGE),
        (5, "total_requests", Reason.NEGATIVE_COUNT),
        (6, "clinical_requests+admin_requests+other_requests", Reason.INCONSISTENT_BREAKDOWN),
        (7, "total_requests", Reason.IMPLAUSIBLE_COUNT),
        (8, "revision", Reason.INVALID_REVISION),
        (9, "admin_requests", Reason.NEGATIVE_COUNT),
    ]
    assert not any(r.ok for r in rows)
    assert "is after today 2026-03-04" in rows[1].problems[0].detail


def test_a_row_with_several_problems_reports_all_of_them_in_contract_order() -> None:
    _, rows = check_csv(f"{HEADER},revision\nA8100,2026-03-03,-5,,,,0\n")
    assert [(p.field, p.reason) for p in rows[0].problems] == [
        ("practice_code", Reason.INVALID_PRACTICE_CODE),
        ("total_requests", Reason.NEGATIVE_COUNT),
        ("revision", Reason.INVALID_REVISION),
    ]


@pytest.mark.parametrize(
    ("cells", "field", "reason"),
    [
        (",2026-03-03,1,,,", "practice_code", FileReason.MISSING_VALUE),
        ("A81001,,1,,,", "activity_date", FileReason.MISSING_VALUE),
        ("A81001,03/03/2026,1,,,", "activity_date", FileReason.NOT_A_DATE),
        ("A81001,2026-02-30,1,,,", "activity_date", FileReason.NOT_A_DATE),
        ("A81001,20260303,1,,,", "activity_date", FileReason.NOT_A_DATE),
        ("A81001,2026-03-03,,,,", "total_requests", FileReason.MISSING_VALUE),
        ("A81001,2026-03-03,1.5,,,", "total_requests", FileReason.NOT_AN_INTEGER),
        ("A81001,2026-03-03,ten,,,", "total_requests", FileReason.NOT_AN_INTEGER),
        ("A81001,2026-03-03,1,x,,", "clinical_requests", FileReason.NOT_AN_INTEGER),
        ("A81001,2026-03-03,9999999999,,,", "total_requests", Reason.IMPLAUSIBLE_COUNT),
    ],
)
def test_unreadable_values_are_reported_before_the_rules(
    cells: str, field: str, reason: str
) -> None:
    _, rows = check_csv(f"{HEADER}\n{cells}\n")
    problem = only_problem(rows[0])
    assert (problem.line, problem.field, problem.reason) == (2, field, reason)


def test_header_problems_stop_the_file_at_line_1() -> None:
    problems, rows = check_csv("practice_code,activity_date,totl_requests\nA81001,2026-03-03,1\n")
    assert rows == []
    assert {(p.line, p.field, p.reason) for p in problems} == {
        (1, "totl_requests", FileReason.UNKNOWN_COLUMN),
        (1, "total_requests", FileReason.MISSING_COLUMN),
    }


def test_empty_file_is_a_header_problem() -> None:
    problems, rows = check_csv("")
    assert [p.reason for p in problems] == [FileReason.MISSING_COLUMN]
    assert rows == []


def test_bom_blank_lines_and_quoted_multiline_cells_keep_line_numbers_right() -> None:
    text = f'\ufeff{HEADER}\n\nA81001,2026-03-03,"1\n2",,,\nA81001,2026-03-02,x,,,\n'
    problems, rows = check_csv(text)
    assert problems == []
    assert [(r.line, r.problems[0].reason) for r in rows] == [
        (3, FileReason.NOT_AN_INTEGER),
        (5, FileReason.NOT_AN_INTEGER),
    ]


def test_a_row_with_the_wrong_number_of_cells_is_malformed() -> None:
    _, rows = check_csv(f"{HEADER}\nA81001,2026-03-03,1\n")
    problem = only_problem(rows[0])
    assert (problem.field, problem.reason) == ("-", FileReason.MALFORMED_LINE)
    assert "3 cells, the header has 6" in problem.detail


def test_v2_columns_need_schema_v2() -> None:
    text = f"{HEADER},patient_submitted_requests,staff_submitted_requests\n"
    text += "A81001,2026-03-03,10,,,,7,3\nA81001,2026-03-02,10,,,,,\n"
    _, v1_rows = check_csv(text, schema_version=1)
    assert [(p.field, p.reason) for p in v1_rows[0].problems] == [
        ("patient_submitted_requests", FileReason.NEEDS_SCHEMA_V2),
        ("staff_submitted_requests", FileReason.NEEDS_SCHEMA_V2),
    ]
    assert v1_rows[1].ok  # empty v2 cells are fine for v1
    _, v2_rows = check_csv(text, schema_version=2)
    assert all(r.ok for r in v2_rows)
    assert v2_rows[0].counts is not None
    assert v2_rows[0].counts.patient_submitted_requests == 7


BAND_HEADER = f"{HEADER},{','.join(BAND_FIELDS)}"


def test_time_band_columns_need_schema_v3() -> None:
    empty_cells = "," * 12
    text = f"{BAND_HEADER}\nA81001,2026-03-03,10,,,,1,0,4,2,1,1,1,0,0\n"
    text += f"A81001,2026-03-02,10{empty_cells}\n"
    for older in (1, 2):
        _, rows = check_csv(text, schema_version=older)
        assert [(p.field, p.reason) for p in rows[0].problems] == [
            (name, FileReason.NEEDS_SCHEMA_V3) for name in BAND_FIELDS
        ]
        assert rows[1].ok  # empty band cells are fine for v1 and v2
    _, v3_rows = check_csv(text, schema_version=3)
    assert all(r.ok for r in v3_rows)
    assert v3_rows[0].counts is not None
    assert v3_rows[0].counts.counts()[-len(BAND_FIELDS) :] == (1, 0, 4, 2, 1, 1, 1, 0, 0)


def test_time_bands_read_from_json_lines() -> None:
    bands = dict(zip(BAND_FIELDS, (0, 1, 2, 3, 4, 0, 0, 0, 0), strict=True))
    row = {"practice_code": "A81001", "activity_date": "2026-03-03", "total_requests": 10, **bands}
    problems, rows = check_lines([json.dumps(row)], "jsonl", "askmygp", LIMITS, 3)
    checked = list(rows)
    assert problems == [] and checked[0].ok
    assert checked[0].counts is not None
    assert [getattr(checked[0].counts, n) for n in BAND_FIELDS] == list(bands.values())


@pytest.mark.parametrize(
    "band_cells",
    ["1,0,4,2,1,1,1,0,1", "1,0,4,2,1,1,1,0,"],
    ids=["not summing to the total", "partly empty"],
)
def test_time_bands_that_do_not_add_up_are_named_together(band_cells: str) -> None:
    _, rows = check_csv(f"{BAND_HEADER}\nA81001,2026-03-03,10,,,,{band_cells}\n", 3)
    problem = only_problem(rows[0])
    assert (problem.field, problem.reason) == ("+".join(BAND_FIELDS), Reason.INCONSISTENT_BREAKDOWN)


def test_v2_counts_follow_the_count_rules() -> None:
    text = f"{HEADER},patient_submitted_requests\nA81001,2026-03-03,10,,,,-7\n"
    _, rows = check_csv(text, schema_version=2)
    problem = only_problem(rows[0])
    assert (problem.field, problem.reason) == ("patient_submitted_requests", Reason.NEGATIVE_COUNT)


def test_supplier_id_column_must_name_the_pushing_supplier() -> None:
    text = f"{HEADER},supplier_id\nA81001,2026-03-03,1,,,,klinik\nA81001,2026-03-02,1,,,,askmygp\n"
    _, rows = check_csv(text)
    problem = only_problem(rows[0])
    assert (problem.line, problem.field, problem.reason) == (
        2,
        "supplier_id",
        Reason.SUPPLIER_MISMATCH,
    )
    assert rows[1].ok


def test_repeats_in_one_file_are_sent_once_and_conflicts_refused() -> None:
    text = (
        f"{HEADER},revision\n"
        "A81001,2026-03-03,10,,,,1\n"  # 2
        "A81001,2026-03-03,10,,,,1\n"  # 3: same figures -> repeat of line 2
        "A81001,2026-03-03,11,,,,1\n"  # 4: different figures, same revision -> conflict
        "A81001,2026-03-03,11,,,,2\n"  # 5: a restatement -> fine
    )
    _, rows = check_csv(text)
    assert rows[0].ok and rows[0].repeat_of is None
    assert rows[1].repeat_of == 2
    problem = only_problem(rows[2])
    assert (problem.line, problem.field, problem.reason) == (
        4,
        "revision",
        Reason.CONFLICTING_REVISION,
    )
    assert "line 2 already has revision 1 of A81001 2026-03-03" in problem.detail
    assert rows[3].ok


def test_json_lines_are_read_with_json_types() -> None:
    lines = [
        json.dumps({"practice_code": "A81001", "activity_date": "2026-03-03", "total_requests": 4}),
        "",
        "{not json",
        json.dumps([1, 2]),
        json.dumps(
            {"practice_code": "A81001", "activity_date": "2026-03-02", "total_requests": True}
        ),
        json.dumps(
            {
                "practice_code": "A81001",
                "activity_date": "2026-03-01",
                "total_requests": 4,
                "clinical_requests": None,
                "revision": 2,
                "surprise": 1,
            }
        ),
        json.dumps(
            {"practice_code": "A81001", "activity_date": "2026-03-01", "total_requests": 4.0}
        ),
    ]
    problems, checked = check_lines(lines, "jsonl", "askmygp", LIMITS)
    rows = list(checked)
    assert problems == []
    assert rows[0].ok and rows[0].line == 1
    assert [(r.line, r.problems[0].field, r.problems[0].reason) for r in rows[1:4]] == [
        (3, "-", FileReason.MALFORMED_LINE),
        (4, "-", FileReason.MALFORMED_LINE),
        (5, "total_requests", FileReason.NOT_AN_INTEGER),
    ]
    assert [(p.field, p.reason) for p in rows[4].problems] == [
        ("surprise", FileReason.UNKNOWN_COLUMN)
    ]
    assert rows[5].ok and rows[5].counts is not None and rows[5].counts.total_requests == 4


def test_what_passes_here_passes_the_consumer() -> None:
    """A row that the push tool accepts is accepted by the consumer's own pipeline."""
    from ingest.settings import Settings
    from ingest.supplier.producer import SupplierProducer

    counts = DailyCounts("A81001", dt.date(2026, 3, 3), 12, 5, 4, 3)
    assert check_counts(counts, "askmygp", LIMITS) == []
    producer = SupplierProducer(
        "askmygp",
        Settings(kafka_bootstrap="127.0.0.1:1"),
        clock=lambda: dt.datetime(2026, 3, 4, 12, tzinfo=dt.UTC),
    )
    key, value = producer.encode(counts, "2b0c3a36-6bd4-4bb6-9d11-6f0f0a3e8d2e", producer._clock())
    assert key == b"A81001:2026-03-03"
    assert value[:2] == b"\xc3\x01"
    result = check_record(
        RawRecord("triage.daily.askmygp", 0, 0, key, value), Decoder(), {"askmygp"}, LIMITS
    )
    assert not isinstance(result, Rejection), result
    assert result.figures == (12, 5, 4, 3) + (None,) * (len(COUNT_FIELDS) - 4)


@pytest.mark.parametrize(
    ("name", "declared", "expected"),
    [
        ("feed.csv", None, "csv"),
        ("feed.CSV", None, "csv"),
        ("feed.jsonl", None, "jsonl"),
        ("feed.ndjson", None, "jsonl"),
        ("feed.txt", "csv", "csv"),
    ],
)
def test_format_of(name: str, declared: str | None, expected: str) -> None:
    assert format_of(name, declared) == expected


def test_unknown_format_says_what_to_do() -> None:
    with pytest.raises(FileError, match=r"\*\.csv or \*\.jsonl"):
        format_of("feed.xlsx")
