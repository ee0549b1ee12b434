"""The conformance kit's rows: every outcome and reason code of a well-framed event, a file
any client can read, and a row-by-row verdict."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from ingest.contract.model import BAND_FIELDS, Outcome, Reason
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


def test_v3_rows_add_the_time_band_cases_after_the_v1_rows() -> None:
    v1 = make_rows("askmygp", TODAY)
    v3 = make_rows("askmygp", TODAY, schema_version=3)
    assert [r.case for r in v3[: len(v1)]] == [r.case for r in v1]
    added = v3[len(v1) :]
    assert all(r.bands != (None,) * len(BAND_FIELDS) for r in added)
    assert all(r.bands == (None,) * len(BAND_FIELDS) for r in v1)
    assert {r.expected for r in added} == {"accepted", "rejected (inconsistent_breakdown)"}


def test_the_v3_rows_state_their_bands_as_the_consumer_judges_them() -> None:
    """Each band row's expected outcome follows from its cells: bands that add up to the total
    are accepted, others rejected inconsistent_breakdown; the restatement differs only in a
    band from the revision before it."""
    rows = make_rows("askmygp", TODAY, schema_version=3)
    for row in rows[len(make_rows("askmygp", TODAY)) :]:
        adds_up = None not in row.bands and sum(b or 0 for b in row.bands) == row.counts[0]
        assert (row.expected_outcome is Outcome.ACCEPTED) == adds_up, row.case
    first, restated = (r for r in rows if r.practice_code == "A81012")
    assert (first.counts, first.revision + 1) == (restated.counts, restated.revision)
    assert first.bands != restated.bands


def test_a_v3_rows_file_reads_back_and_an_older_file_without_band_columns_still_reads(
    tmp_path: Path,
) -> None:
    rows = make_rows("askmygp", TODAY, schema_version=3)
    write_rows(rows, tmp_path / "rows.csv")
    assert read_rows(tmp_path / "rows.csv") == rows
    v1_rows = len(make_rows("askmygp", TODAY))
    lines = (tmp_path / "rows.csv").read_text().splitlines()[: 1 + v1_rows]  # header, v1 rows
    older = [",".join(line.split(",")[: -len(BAND_FIELDS)]) for line in lines]
    (tmp_path / "old.csv").write_text("\n".join(older) + "\n")
    assert read_rows(tmp_path / "old.csv") == rows[:v1_rows]


def test_a_schema_version_never_released_is_one_clear_error() -> None:
    with pytest.raises(KitError, match="schema version 4 is not released"):
        make_rows("askmygp", TODAY, schema_version=4)
