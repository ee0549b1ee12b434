"""The store's resolution of a batch (with the stored revisions it read) is the general
``resolve``: outcomes, current rows, conflicts and new revisions are the same (pure)."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ingest.consumer.resolution import resolve, resolve_batch
from ingest.contract.model import DailyEvent, EventKey, Figures, SourcePosition
from tests.support.events import TODAY

TOPIC = "triage.daily.askmygp"
_DAYS = [TODAY - dt.timedelta(days=d) for d in range(1, 4)]
_NO_BANDS = (None,) * 9
# the last two differ only in a time band (a band-only restatement is other figures)
_FIGURES: list[Figures] = [
    (10, None, None, None, None, None, *_NO_BANDS),
    (11, 5, 3, 3, None, None, *_NO_BANDS),
    (11, 5, 3, 3, None, None, 1, 1, 4, 2, 1, 1, 1, 0, 0),
    (11, 5, 3, 3, None, None, 1, 1, 3, 3, 1, 1, 1, 0, 0),
]


@st.composite
def _batches(draw: st.DrawFn) -> tuple[list[DailyEvent], dict[EventKey, dict[int, Figures]]]:
    keys = [("askmygp", p, d) for p in ("A81001", "A81002", "A81003") for d in _DAYS]
    events = [
        DailyEvent(
            str(uuid.uuid4()),
            *draw(st.sampled_from(keys)),
            draw(st.integers(1, 3)),
            dt.datetime(2026, 11, 24, tzinfo=dt.UTC),
            draw(st.sampled_from(_FIGURES)),
            SourcePosition(TOPIC, 0, i),
        )
        for i in range(draw(st.integers(0, 25)))
    ]
    stored = {
        k: {r: draw(st.sampled_from(_FIGURES)) for r in draw(st.sets(st.integers(1, 3)))}
        for k in draw(st.sets(st.sampled_from(keys)))
    }
    return events, {k: v for k, v in stored.items() if v}


@pytest.mark.slow
@settings(max_examples=500, deadline=None)
@given(_batches())
def test_resolve_batch_is_resolve(
    batch: tuple[list[DailyEvent], dict[EventKey, dict[int, Figures]]],
) -> None:
    events, stored = batch
    expected = resolve(events, stored)
    got = resolve_batch(events, [e.key for e in events], stored)
    assert got.outcomes == expected.outcomes
    assert got.current == expected.current
    assert got.conflicts == expected.conflicts
    assert sorted(e.source.offset for e in got.new_revisions) == sorted(
        e.source.offset for e in expected.new_revisions
    )
