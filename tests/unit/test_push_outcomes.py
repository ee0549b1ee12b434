"""``ingest push --wait``: each line's fate from the outcomes (pure)."""

from __future__ import annotations

import datetime as dt

from ingest.cli.push_outcomes import none_picked_up_line, row_fates
from ingest.contract.model import Outcome, Reason
from ingest.contract.outcomes import SubmissionOutcome

AT = dt.datetime(2026, 11, 25, tzinfo=dt.UTC)


def outcome(offset: int, kind: Outcome, reason: Reason | None = None) -> SubmissionOutcome:
    detail = "why" if reason else None
    return SubmissionOutcome(0, offset, None, None, None, None, kind, reason, detail, AT)


def test_every_line_gets_its_fate_in_line_order() -> None:
    fates = row_fates(
        sent=[(2, (0, 10)), (4, (0, 11)), (6, None), (7, (0, 12))],
        repeats=[(5, 2)],
        outcomes={
            (0, 10): outcome(10, Outcome.ACCEPTED),
            (0, 11): outcome(11, Outcome.REJECTED, Reason.NEGATIVE_COUNT),
        },
        within=30,
    )
    assert fates.lines == [
        (2, "accepted"),
        (4, "rejected: negative_count: why"),
        (5, "same row as line 2: accepted"),
        (6, "send failed (see above)"),
        (7, "no outcome within 30 s (not known to be stored)"),
    ]
    assert dict(fates.totals) == {
        "accepted": 2,
        "rejected": 1,
        "send failed": 1,
        "no outcome": 1,
    }
    assert not fates.all_stored


def test_accepted_superseded_and_duplicate_rows_are_all_stored() -> None:
    fates = row_fates(
        sent=[(2, (0, 1)), (3, (0, 2)), (4, (0, 3))],
        repeats=[],
        outcomes={
            (0, 1): outcome(1, Outcome.ACCEPTED),
            (0, 2): outcome(2, Outcome.SUPERSEDED),
            (0, 3): outcome(3, Outcome.DUPLICATE),
        },
        within=30,
    )
    assert fates.all_stored


def test_rows_none_of_which_has_an_outcome_were_not_picked_up_by_any_consumer() -> None:
    sent = [(2, (0, 1)), (3, (0, 2)), (4, None)]
    fates = row_fates(sent=sent, repeats=[], outcomes={}, within=15)

    assert fates.none_picked_up
    line = none_picked_up_line(fates, "askmygp", 15)
    assert line.startswith("no outcome within 15 s for the 2 row(s) sent: no consumer")
    assert "`ingest run`" in line
    assert "triage.daily.askmygp" in line


def test_one_outcome_means_a_consumer_is_at_work() -> None:
    fates = row_fates(
        sent=[(2, (0, 1)), (3, (0, 2))],
        repeats=[],
        outcomes={(0, 1): outcome(1, Outcome.ACCEPTED)},
        within=15,
    )
    assert not fates.none_picked_up
