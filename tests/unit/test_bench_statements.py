"""The benchmark's statement costs: two pg_stat_statements snapshots become each statement's
execution time per event during the run, costliest first."""

from __future__ import annotations

import pytest

from tests.bench.statements import Counters, describe, per_event

pytestmark = pytest.mark.unit


def counters(
    query: str, calls: int, exec_ms: float, read: int = 0, dirtied: int = 0, top: bool = True
) -> Counters:
    return Counters(query, top, calls, exec_ms, 0, 0, read, dirtied, 0)


def test_only_the_runs_part_of_each_statement_counts_costliest_first() -> None:
    before = {
        (1, True): counters("COPY revisions", 10, 500.0, read=40),
        (2, True): counters("SELECT 1", 3, 9.0),
    }
    after = {
        (1, True): counters("COPY revisions", 30, 2_500.0, read=100, dirtied=60),
        (2, True): counters("SELECT 1", 3, 9.0),  # not run during the run: left out
        (3, True): counters("DELETE FROM outbox", 20, 1_000.0),  # new since the first snapshot
    }
    events = 50_000
    costs = per_event(before, after, events)
    assert [c.query for c in costs] == ["COPY revisions", "DELETE FROM outbox"]
    copy, delete = costs
    assert copy.calls == 20 and delete.calls == 20
    assert copy.us_per_event == pytest.approx((2_500.0 - 500.0) * 1000 / events)
    assert copy.share == pytest.approx(2_000.0 / (2_000.0 + 1_000.0))
    assert copy.blocks_read_per_event == pytest.approx((100 - 40) / events)
    assert copy.blocks_dirtied_per_event == pytest.approx(60 / events)


def test_the_list_keeps_the_costliest_few() -> None:
    after = {(i, True): counters(f"q{i}", 1, float(i)) for i in range(1, 21)}
    costs = per_event({}, after, 100, top=3)
    assert [c.query for c in costs] == ["q20", "q19", "q18"]


def test_a_triggers_statements_are_listed_but_not_counted_twice_in_the_shares() -> None:
    after = {
        (1, True): counters("COPY daily_requests", 5, 800.0),
        (2, False): counters("INSERT INTO summary", 5, 300.0, top=False),  # inside the COPY
        (3, True): counters("COPY revisions", 5, 200.0),
    }
    costs = {c.query: c for c in per_event({}, after, 1_000)}
    assert costs["COPY daily_requests"].share == pytest.approx(800.0 / (800.0 + 200.0))
    assert costs["INSERT INTO summary"].share == pytest.approx(300.0 / (800.0 + 200.0))
    assert not costs["INSERT INTO summary"].toplevel
    assert "(nested)" in "".join(describe(list(costs.values())))


def test_a_server_without_the_extension_says_so() -> None:
    assert "no pg_stat_statements" in describe([])[0]


def test_a_run_of_no_events_is_refused() -> None:
    with pytest.raises(ValueError):
        per_event({}, {}, 0)
