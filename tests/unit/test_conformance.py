"""The conformance kit's rows: every outcome and reason code of a well-framed event, a file
any client can read, and a row-by-row verdict."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from ingest.contract.model import Outcome, Reason
from ingest.supplier.conformance import (
    KitError,
    make_rows,
    read_rows,
    verdicts,
    write_rows,
)

pytestmark = pytest.mark.unit

TODAY = dt.date(2026, 3, 4)
# reasons no body a client sends can get: the framing, the topic, the participation list
NOT_FROM_A_BODY = {
    Reason.UNDECODABLE,
    Reason.UNKNOWN_SCHEMA,
    Reason.UNKNOWN_SUPPLIER,
    Reason.PRACTICE_NOT_PARTICIPATING,
}


def test_the_rows_cover_every_outcome_and_every_reason_of_a_body() -> None:
    rows = make_rows("askmygp", TODAY)
    assert {r.expected_outcome for r in rows} == set(Outcome)
    assert {r.expected_reason for r in rows if r.expected_reason} == set(Reason) - NOT_FROM_A_BODY


def test_each_row_has_its_own_event_id_and_cells_without_commas() -> None:
    rows = make_rows("askmygp", TODAY)
    assert len({r.event_id for r in rows}) == len(rows)
    assert not any("," in r.case for r in rows)  # the Java client splits lines on commas


def test_a_rows_file_reads_back_as_written(tmp_path: Path) -> None:
    rows = make_rows("askmygp", TODAY)
    write_rows(rows, tmp_path / "rows.csv")
    assert read_rows(tmp_path / "rows.csv") == rows


def test_a_file_that_is_not_a_rows_file_is_one_clear_error(tmp_path: Path) -> None:
    other = tmp_path / "counts.csv"
    other.write_text("practice_code,activity_date,total_requests\nA81001,2026-03-03,1\n")
    with pytest.raises(KitError, match="not a conformance rows file"):
        read_rows(other)


def test_verdicts_compare_each_row_with_its_outcome() -> None:
    first, second, *rest = make_rows("askmygp", TODAY)
    outcomes = {
        first.event_id: (Outcome.ACCEPTED, None),
        second.event_id: (Outcome.DUPLICATE, None),
    }
    found = verdicts([first, second, rest[0]], outcomes)
    assert [(v.ok, v.got) for v in found] == [
        (True, "accepted"),
        (False, "duplicate"),
        (False, "no outcome yet"),
    ]


def test_a_row_refused_by_the_sending_client_counts_as_that_rejection() -> None:
    negative = next(r for r in make_rows("askmygp", TODAY) if r.case == "negative count")
    (verdict,) = verdicts([negative], {}, {negative.event_id: Reason.NEGATIVE_COUNT})
    assert verdict.ok and verdict.got == "rejected (negative_count)"
