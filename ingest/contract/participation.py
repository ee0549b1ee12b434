"""Which practices participate in the collection on which days (contract v1.1 section 6; pure).

A participation list holds, per practice, the periods (both ends inclusive, an open end = still
participating) in which the practice had accepted the data provision notice. An event of a
practice that was not participating on its ``activity_date`` is rejected
``practice_not_participating`` -- but only while a list is loaded: without one, nothing is
rejected for this reason.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field

_EPOCH_ORDINAL = dt.date(1970, 1, 1).toordinal()
_OPEN_END = dt.date.max.toordinal() - _EPOCH_ORDINAL


@dataclass(frozen=True, slots=True)
class ParticipationPeriod:
    practice_code: str
    participating_from: dt.date
    participating_to: dt.date | None  # None: still participating


@dataclass(frozen=True, eq=False)
class ParticipationList:
    """A loaded list (``load_id`` of its reference load); look-ups by practice and day."""

    load_id: int
    _days: dict[str, tuple[tuple[int, int], ...]] = field(repr=False)

    @classmethod
    def of(cls, load_id: int, periods: Iterable[ParticipationPeriod]) -> ParticipationList:
        days: dict[str, list[tuple[int, int]]] = {}
        for p in periods:
            start = p.participating_from.toordinal() - _EPOCH_ORDINAL
            end = (
                _OPEN_END
                if p.participating_to is None
                else p.participating_to.toordinal() - _EPOCH_ORDINAL
            )
            days.setdefault(p.practice_code, []).append((start, end))
        return cls(load_id, {code: tuple(sorted(spans)) for code, spans in days.items()})

    @property
    def practices(self) -> int:
        return len(self._days)

    def includes_day(self, practice_code: str, epoch_day: int) -> bool:
        """Whether the practice participated on the day (days since 1970-01-01)."""
        spans = self._days.get(practice_code)
        if spans is None:
            return False
        return any(start <= epoch_day <= end for start, end in spans)

    def includes(self, practice_code: str, day: dt.date) -> bool:
        """Whether the practice participated on ``day``."""
        return self.includes_day(practice_code, day.toordinal() - _EPOCH_ORDINAL)
