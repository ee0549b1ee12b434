"""Revision resolution (CONTRACT section 3), pure and I/O-free.

Given the revisions already stored for some keys and a sequence of valid events in
processing order (offset order per partition), decide each event's outcome. Applying
:func:`resolve` to a batch gives the same result as processing each record once, in order;
:func:`resolve_batch` is the same with its commonest case (a lone new key) taken in bulk.
"""

from __future__ import annotations

from collections import Counter
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


def resolve_batch(
    events: Sequence[DailyEvent], keys: Sequence[EventKey], stored: StoredRevisions
) -> Resolution:
    """``resolve(events, stored)``, with its commonest case taken in bulk: an event whose key
    has no stored revision and no other event in the batch is ``accepted`` (a new revision
    and the current row). Keys are independent, so the other events are resolved together,
    in order, by ``resolve`` itself. ``keys`` are the events' keys."""
    seen: Counter[EventKey] = Counter(keys)
    lone = [seen[k] == 1 and k not in stored for k in keys]
    if not any(lone):
        return resolve(events, stored)
    others = [e for e, alone in zip(events, lone, strict=True) if not alone]
    rest = resolve(others, stored) if others else Resolution()
    outcomes: list[Outcome | None] = []
    pending = iter(rest.outcomes)
    for alone in lone:
        outcomes.append(Outcome.ACCEPTED if alone else next(pending))
    new_revisions = [e for e, alone in zip(events, lone, strict=True) if alone]
    current = {k: e for k, e, alone in zip(keys, events, lone, strict=True) if alone}
    new_revisions.extend(rest.new_revisions)
    current.update(rest.current)
    return Resolution(
        outcomes=outcomes, new_revisions=new_revisions, current=current, conflicts=rest.conflicts
    )
