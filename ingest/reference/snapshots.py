"""Practice -> commissioner memberships inferred from successive snapshots (pure).

A snapshot says where each practice was on one date: an ODS ``epraccur`` file (commissioner
in column 15, with the ODS join date and close date) or an NHS England mapping file
``gp-reg-pat-prac-map.csv`` (commissioner on its extract date). Given several snapshots in
date order, ``memberships_from_snapshots`` builds periods that never overlap:

- a practice's first period begins at its ODS join date when the snapshot gives one (on or
  before the snapshot date), else at the date of the first snapshot that lists it;
- a change of commissioner between two snapshots is dated by the new ODS join date when it
  falls between them, else at the date of the snapshot that first shows the change; the
  previous period ends the day before;
- a period ends at the ODS close date when the practice has one, else (a practice that is no
  longer listed) the day before the first snapshot without it; otherwise it stays open.

Every inference is counted in the report, so an analyst can see what was dated how.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from ingest.reference.csv_input import ReferenceFileError
from ingest.reference.practice_map import MappedPractice
from ingest.reference.records import Membership, Practice

ONE_DAY = dt.timedelta(days=1)


@dataclass(frozen=True, slots=True)
class Placement:
    """A practice in one snapshot."""

    commissioner_code: str | None
    joined: dt.date | None = None  # ODS Join Provider/Purchaser Date
    closed: dt.date | None = None  # ODS Close Date


@dataclass(frozen=True, slots=True)
class Snapshot:
    """Where each practice was on ``taken_on``; ``date_basis`` says where that date came from."""

    source: str
    taken_on: dt.date
    date_basis: str
    placements: dict[str, Placement]


@dataclass(frozen=True, slots=True)
class Inference:
    """The memberships built and, line by line, what was inferred and why."""

    memberships: list[Membership]
    report: list[str]


def snapshot_of_practices(
    source: str, practices: Sequence[Practice], taken_on: dt.date | None
) -> Snapshot:
    """An epraccur file as a snapshot; without a date, the latest date the file mentions."""
    basis = "given"
    if taken_on is None:
        mentioned = [
            d
            for p in practices
            for d in (p.open_date, p.close_date, p.join_date, p.left_date)
            if d is not None
        ]
        if not mentioned:
            raise ReferenceFileError(source, [(0, "no dates in the file: give one (FILE@DATE)")])
        taken_on, basis = max(mentioned), "latest date in the file"
    placements = {
        p.practice_code: Placement(p.commissioner_code, p.join_date, p.close_date)
        for p in practices
    }
    return Snapshot(source, taken_on, basis, placements)


def snapshot_of_map(source: str, rows: Sequence[MappedPractice]) -> Snapshot:
    """A mapping file as a snapshot taken on its extract date."""
    taken_on = rows[0].extract_date
    return Snapshot(
        source,
        taken_on,
        "extract date",
        {r.practice_code: Placement(r.commissioner_code) for r in rows},
    )


@dataclass(slots=True)
class _Open:
    commissioner: str
    start: dt.date


def memberships_from_snapshots(snapshots: Sequence[Snapshot]) -> Inference:
    """Non-overlapping memberships from snapshots given in date order (rules: module doc)."""
    if not snapshots:
        raise ReferenceFileError("snapshots", [(0, "no snapshots given")])
    out_of_order = [
        (0, f"{b.source} ({b.taken_on}) does not come after {a.source} ({a.taken_on})")
        for a, b in itertools.pairwise(snapshots)
        if b.taken_on <= a.taken_on
    ]
    if out_of_order:
        raise ReferenceFileError("snapshots (give them in date order)", out_of_order)
    counts: Counter[str] = Counter()
    memberships: list[Membership] = []
    codes = sorted({code for s in snapshots for code in s.placements})
    for code in codes:
        memberships.extend(_periods_of(code, snapshots, counts))
    report = [
        f"{len(snapshots)} snapshot(s): "
        + ", ".join(f"{s.source} as at {s.taken_on} ({s.date_basis})" for s in snapshots),
        f"{len(codes):,} practices, {len(memberships):,} periods",
        f"first periods: {counts['start_join']:,} begin at the ODS join date, "
        f"{counts['start_snapshot']:,} at the first snapshot listing the practice",
        f"commissioner changes: {counts['change_join']:,} dated by the ODS join date, "
        f"{counts['change_snapshot']:,} at the snapshot first showing them "
        "(no join date between the two snapshots)",
        f"ends: {counts['end_close']:,} at the ODS close date, {counts['end_absent']:,} the day "
        f"before the first snapshot no longer listing the practice; "
        f"{counts['open']:,} still open",
    ]
    return Inference(memberships, report)


def _dated(
    placement: Placement,
    after: dt.date | None,
    taken_on: dt.date,
    what: str,
    counts: Counter[str],
) -> dt.date:
    """The ODS join date when it falls after ``after`` and on or before ``taken_on``, else
    the snapshot date; counted as ``{what}_join`` or ``{what}_snapshot``."""
    joined = placement.joined
    if joined is not None and joined <= taken_on and (after is None or joined > after):
        counts[f"{what}_join"] += 1
        return joined
    counts[f"{what}_snapshot"] += 1
    return taken_on


def _periods_of(code: str, snapshots: Iterable[Snapshot], counts: Counter[str]) -> list[Membership]:
    periods: list[Membership] = []
    current: _Open | None = None
    last_seen: Placement | None = None
    previous_date: dt.date | None = None
    last_end: dt.date | None = None

    def close(end: dt.date) -> None:
        nonlocal current, last_end
        assert current is not None
        periods.append(Membership(code, current.commissioner, current.start, end))
        last_end, current = end, None

    for snapshot in snapshots:
        placement = snapshot.placements.get(code)
        commissioner = placement.commissioner_code if placement else None
        if current is not None and commissioner == current.commissioner:
            pass
        elif current is not None and commissioner is None:
            closed = last_seen.closed if last_seen else None
            if closed is not None and closed >= current.start:
                counts["end_close"] += 1
                close(closed)
            else:
                counts["end_absent"] += 1
                close(max(current.start, snapshot.taken_on - ONE_DAY))
        elif current is not None and placement is not None and commissioner is not None:
            start = _dated(placement, previous_date, snapshot.taken_on, "change", counts)
            start = max(start, current.start + ONE_DAY)
            close(start - ONE_DAY)
            current = _Open(commissioner, start)
        elif placement is not None and commissioner is not None:
            start = _dated(placement, last_end, snapshot.taken_on, "start", counts)
            current = _Open(commissioner, start)
        if placement is not None:
            last_seen = placement
        previous_date = snapshot.taken_on
    if current is not None:
        closed = last_seen.closed if last_seen else None
        if closed is not None and closed >= current.start:
            counts["end_close"] += 1
            close(closed)
        else:
            counts["open"] += 1
            periods.append(Membership(code, current.commissioner, current.start, None))
    return periods
