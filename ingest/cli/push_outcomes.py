"""``ingest push --wait``: what became of each row of the file, by line (pure formatting).

A row sent is matched with its submission outcome by the position it was written at; a row
repeated in the file shares the outcome of its first line; a row found bad before sending was
never sent (its line was reported by the check).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from ingest.contract.model import Outcome
from ingest.contract.outcomes import SubmissionOutcome
from ingest.supplier.producer import Delivery

Position = tuple[int, int]
STORED_KINDS = frozenset(o.value for o in (Outcome.ACCEPTED, Outcome.SUPERSEDED, Outcome.DUPLICATE))
NO_OUTCOME = "no outcome"
SEND_FAILED = "send failed"


@dataclass
class RowFates:
    """The verdict of every sent or repeated line, and the totals."""

    lines: list[tuple[int, str]] = field(default_factory=list)  # (line, what became of it)
    totals: Counter[str] = field(default_factory=Counter)

    @property
    def all_stored(self) -> bool:
        return all(kind in STORED_KINDS for kind in self.totals)

    @property
    def none_picked_up(self) -> bool:
        """Rows were sent and not one has an outcome: nothing has consumed them yet."""
        return NO_OUTCOME in self.totals and set(self.totals) <= {NO_OUTCOME, SEND_FAILED}


def none_picked_up_line(fates: RowFates, supplier_id: str, within: float) -> str:
    """One line instead of a timeout per line when no sent row has an outcome."""
    n = fates.totals[NO_OUTCOME]
    return (
        f"no outcome within {within:g} s for the {n} row(s) sent: no consumer has picked"
        f" them up. Is the service (`ingest run`) running and reading triage.daily.{supplier_id}?"
        " The rows are on the topic and will be processed when it runs; push the file again"
        " with --wait then to see their outcomes (repeats count as duplicate)."
    )


def position_of(delivery: Delivery) -> Position | None:
    """Where a sent row was written; None when it was not acknowledged."""
    if delivery.ok and delivery.partition is not None and delivery.offset is not None:
        return delivery.partition, delivery.offset
    return None


def describe(outcome: SubmissionOutcome | None, within: float) -> tuple[str, str]:
    """(kind, text) of one row's fate."""
    if outcome is None:
        return NO_OUTCOME, f"no outcome within {within:g} s (not known to be stored)"
    if outcome.outcome is Outcome.REJECTED:
        reason = outcome.reason.value if outcome.reason is not None else "?"
        return Outcome.REJECTED.value, f"rejected: {reason}: {outcome.detail or ''}"
    return outcome.outcome.value, outcome.outcome.value


def row_fates(
    sent: Sequence[tuple[int, Position | None]],
    repeats: Sequence[tuple[int, int]],
    outcomes: Mapping[Position, SubmissionOutcome],
    within: float,
) -> RowFates:
    """``sent``: (line, position written at, None when the send failed); ``repeats``: (line,
    the earlier line it repeats)."""
    fates = RowFates()
    by_line: dict[int, tuple[str, str]] = {}
    for line, position in sent:
        if position is None:
            fate = (SEND_FAILED, "send failed (see above)")
        else:
            fate = describe(outcomes.get(position), within)
        by_line[line] = fate
    for line, first in repeats:
        kind, text = by_line.get(first, (NO_OUTCOME, "not sent"))
        by_line[line] = (kind, f"same row as line {first}: {text}")
    for line in sorted(by_line):
        kind, text = by_line[line]
        fates.lines.append((line, text))
        fates.totals[kind] += 1
    return fates
