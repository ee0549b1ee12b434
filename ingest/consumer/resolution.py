"""Revision resolution (CONTRACT section 3), pure and I/O-free.

Given the revisions already stored for some keys and a sequence of valid events in
processing order (offset order per partition), decide each event's outcome. Applying
:func:`resolve` to a batch gives the same result as processing each record once, in order.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from ingest.contract.model import COUNT_FIELDS, DailyEvent, EventKey, Figures, Outcome

StoredRevisions = Mapping[EventKey, Mapping[int, Figures]]


@dataclass(frozen=True, slots=True)
class Conflict:
    """A (key, revision) already stored with different figures."""

    event: DailyEvent
    detail: str


@dataclass
class Resolution:
    """What a batch of valid events does to the two tables."""

    outcomes: list[Outcome | None] = field(default_factory=list)  # None = conflicting_revision
    new_revisions: list[DailyEvent] = field(default_factory=list)
    current: dict[EventKey, DailyEvent] = field(default_factory=dict)
    conflicts: list[Conflict] = field(default_factory=list)


def resolve(events: Sequence[DailyEvent], stored: StoredRevisions) -> Resolution:
    """Outcome of each event, the revisions to add and the final current row per key."""
    result = Resolution()
    seen: dict[EventKey, dict[int, Figures]] = {}
    for event in events:
        key = event.key
        revisions = seen.get(key)
        if revisions is None:
            revisions = dict(stored.get(key, {}))
            seen[key] = revisions
        result.outcomes.append(_place(event, revisions, result))
    return result


def _place(event: DailyEvent, revisions: dict[int, Figures], result: Resolution) -> Outcome | None:
    known = revisions.get(event.revision)
    if known is not None:
        if known == event.figures:
            return Outcome.DUPLICATE
        result.conflicts.append(Conflict(event, conflict_detail(event, known)))
        return None
    current = max(revisions) if revisions else None
    revisions[event.revision] = event.figures
    result.new_revisions.append(event)
    if current is None or event.revision > current:
        result.current[event.key] = event
        return Outcome.ACCEPTED
    return Outcome.SUPERSEDED


def conflict_detail(event: DailyEvent, stored: Figures) -> str:
    """Explain which figures differ from the stored ones."""
    diffs = [
        f"{name} {old} stored vs {new} sent"
        for name, old, new in zip(COUNT_FIELDS, stored, event.figures, strict=True)
        if old != new
    ]
    return (
        f"revision {event.revision} of {event.practice_code} {event.activity_date.isoformat()}"
        f" is already stored with different figures: {', '.join(diffs)};"
        " a restatement needs a higher revision"
    )
