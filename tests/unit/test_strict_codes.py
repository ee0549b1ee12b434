"""One practice, one code: codes and numbers are matched whole and
in ASCII only. ``re.match`` with ``$`` took ``A12345\\n`` for a practice code, which was then
stored as a second practice and counted twice; ``\\d`` read ``١٢`` (Arabic-Indic digits) as 12."""

from __future__ import annotations

import datetime as dt

import pytest

from ingest.contract.model import Reason, supplier_of_topic
from ingest.contract.validation import Limits, check_event
from ingest.durations import parse_duration
from ingest.errors import DurationError, SupplierError
from ingest.ops.suppliers import check_supplier_id
from ingest.reference.csv_input import ReferenceFieldError, iso_date, org_code, yyyymmdd
from ingest.settings import Settings
from ingest.supplier.problems import FileReason
from ingest.supplier.producer import ProducerError, SupplierProducer
from ingest.supplier.push_file import check_lines
from tests.support.events import TODAY, event

pytestmark = pytest.mark.security

LIMITS = Limits(today=TODAY, horizon_days=400, plausibility_cap=100_000)


def valid(practice_code: str) -> dict[str, object]:
    """An event every rule passes, but for its practice code."""
    return event(practice_code=practice_code, activity_date=TODAY - dt.timedelta(days=1))


@pytest.mark.parametrize("code", ["A12345\n", "A12345\r\n", "A12345 ", "\nA12345", "\uff2112345"])
def test_a_practice_code_with_anything_around_it_is_invalid(code: str) -> None:
    problems = check_event(valid(practice_code=code), "askmygp", LIMITS)
    assert [p.reason for p in problems] == [Reason.INVALID_PRACTICE_CODE]


def test_the_plain_practice_code_still_passes() -> None:
    assert check_event(valid(practice_code="A12345"), "askmygp", LIMITS) == []


@pytest.mark.parametrize("supplier_id", ["acme\n", "acme\r\n", "acme ", "\u0430cme"])
def test_a_supplier_id_with_a_trailing_newline_or_lookalike_is_refused(supplier_id: str) -> None:
    with pytest.raises(SupplierError):
        check_supplier_id(supplier_id)
    with pytest.raises(ProducerError):
        SupplierProducer(supplier_id, Settings(kafka_bootstrap="127.0.0.1:9"))
    assert supplier_of_topic(f"triage.daily.{supplier_id}") is None


@pytest.mark.parametrize("count", ["\u0661\u0662", "\uff11\uff12"])
def test_a_count_in_other_digits_is_not_a_number(count: str) -> None:
    header = "practice_code,activity_date,total_requests\n"
    problems, rows = check_lines(
        [header, f"A81001,{TODAY - dt.timedelta(days=1)},{count}\n"], "csv", "askmygp", LIMITS, 1
    )
    assert problems == []
    (row,) = rows
    assert [p.reason for p in row.problems] == [FileReason.NOT_AN_INTEGER]


@pytest.mark.parametrize(
    "text",
    [
        "\u0662\u0660\u0662\u0664\u0660\u0661\u0660\u0661",
        "\uff12\uff10\uff12\uff14\uff10\uff11\uff10\uff11",
    ],
)
def test_reference_dates_in_other_digits_are_refused(text: str) -> None:
    with pytest.raises(ReferenceFieldError):
        yyyymmdd(text, "open_date")
    with pytest.raises(ReferenceFieldError):
        iso_date(f"{text[:4]}-{text[4:6]}-{text[6:]}", "open_date", required=True)


def test_an_organisation_code_must_be_whole() -> None:
    with pytest.raises(ReferenceFieldError):
        org_code("QWE\nX", "icb_code")
    assert org_code(" qwe ", "icb_code") == "QWE"  # surrounding blanks are trimmed, as before


@pytest.mark.parametrize("text", ["\u0662h", "\uff12\uff16h", "99999999999999999999d", "36601d"])
def test_durations_in_other_digits_or_beyond_a_century_are_one_clear_error(text: str) -> None:
    with pytest.raises(DurationError):
        parse_duration(text)
