"""Revision resolution: every row of the contract's outcome table, in and across batches."""

from __future__ import annotations

import datetime as dt
import random

from hypothesis import given, settings
from hypothesis import strategies as st

from ingest.consumer.resolution import resolve
from ingest.contract.model import COUNT_FIELDS, DailyEvent, Figures, Outcome, SourcePosition

DAY = dt.date(2026, 11, 20)


def only_total(total: int) -> Figures:
    """Figures with a total and every other count field null."""
    return (total,) + (None,) * (len(COUNT_FIELDS) - 1)


def ev(revision: int, total: int, offset: int = 0, practice: str = "A81001") -> DailyEvent:
    return DailyEvent(
        event_id=f"00000000-0000-0000-0000-{offset:012d}",
        supplier_id="askmygp",
        practice_code=practice,
        activity_date=DAY,
        revision=revision,
        generated_at=dt.datetime(2026, 11, 21, tzinfo=dt.UTC),
        figures=only_total(total),
        source=SourcePosition("triage.daily.askmygp", 0, offset),
    )


KEY = ("askmygp", "A81001", DAY)


def test_new_key_is_accepted_and_becomes_current() -> None:
    r = resolve([ev(1, 10)], {})
    assert r.outcomes == [Outcome.ACCEPTED]
    assert r.current[KEY].revision == 1
    assert len(r.new_revisions) == 1


def test_higher_revision_is_accepted_and_replaces_current() -> None:
    r = resolve([ev(3, 12)], {KEY: {1: only_total(10)}})
    assert r.outcomes == [Outcome.ACCEPTED]
    assert r.current[KEY].figures[0] == 12


def test_lower_unseen_revision_is_superseded_but_kept() -> None:
    r = resolve([ev(2, 11)], {KEY: {3: only_total(12)}})
    assert r.outcomes == [Outcome.SUPERSEDED]
    assert r.current == {}
    assert [e.revision for e in r.new_revisions] == [2]


def test_same_revision_same_figures_is_duplicate_whatever_the_event_id() -> None:
    r = resolve([ev(1, 10, offset=55)], {KEY: {1: only_total(10)}})
    assert r.outcomes == [Outcome.DUPLICATE]
    assert r.new_revisions == [] and r.current == {}


def test_same_revision_other_figures_is_a_conflict_with_the_difference_named() -> None:
    r = resolve([ev(1, 11)], {KEY: {1: only_total(10)}})
    assert r.outcomes == [None]
    assert "total_requests 10 stored vs 11 sent" in r.conflicts[0].detail
    assert r.new_revisions == [] and r.current == {}


def test_many_events_for_one_key_inside_one_batch() -> None:
    batch = [ev(1, 10, 0), ev(3, 30, 1), ev(2, 20, 2), ev(3, 30, 3), ev(3, 31, 4), ev(4, 40, 5)]
    r = resolve(batch, {})
    assert r.outcomes == [
        Outcome.ACCEPTED,
        Outcome.ACCEPTED,
        Outcome.SUPERSEDED,
        Outcome.DUPLICATE,
        None,
        Outcome.ACCEPTED,
    ]
    assert r.current[KEY].revision == 4
    assert sorted(e.revision for e in r.new_revisions) == [1, 2, 3, 4]


def _sequential(events: list[DailyEvent]) -> tuple[list[Outcome | None], dict[int, int]]:
    """Oracle: one event at a time, each in a batch of its own."""
    stored: dict[tuple[str, str, dt.date], dict[int, tuple[int | None, ...]]] = {}
    outcomes: list[Outcome | None] = []
    for e in events:
        r = resolve([e], stored)
        outcomes.extend(r.outcomes)
        for n in r.new_revisions:
            stored.setdefault(n.key, {})[n.revision] = n.figures
    return outcomes, {rev: figs[0] or 0 for rev, figs in stored.get(KEY, {}).items()}


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.tuples(st.integers(1, 5), st.integers(0, 3)), min_size=1, max_size=30),
    st.integers(1, 10),
)
def test_batching_never_changes_the_result(items: list[tuple[int, int]], cut: int) -> None:
    events = [ev(rev, total, i) for i, (rev, total) in enumerate(items)]
    expected_outcomes, expected_revisions = _sequential(events)
    stored: dict[tuple[str, str, dt.date], dict[int, tuple[int | None, ...]]] = {}
    outcomes: list[Outcome | None] = []
    for start in range(0, len(events), cut):
        r = resolve(events[start : start + cut], stored)
        outcomes.extend(r.outcomes)
        for n in r.new_revisions:
            stored.setdefault(n.key, {})[n.revision] = n.figures
    assert outcomes == expected_outcomes
    assert {rev: f[0] for rev, f in stored.get(KEY, {}).items()} == expected_revisions


def test_current_is_always_the_highest_stored_revision() -> None:
    rng = random.Random(7)
    events = [ev(rng.randint(1, 9), rng.randint(0, 2), i) for i in range(200)]
    r = resolve(events, {})
    assert r.current[KEY].revision == max(e.revision for e in r.new_revisions)
