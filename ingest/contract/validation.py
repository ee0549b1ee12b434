"""The contract's validation rules (CONTRACT sections 1-3), pure and I/O-free.

Each rule returns a :class:`Problem` (reason code + a detail a supplier can act on). The
first problem, in the contract's order of reason codes, decides the reason; the detail lists
every problem found so a supplier can fix a row in one go.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Collection, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, cast
from uuid import UUID

from ingest.contract.model import (
    BAND_FIELDS,
    BREAKDOWN_FIELDS,
    COUNT_FIELDS,
    PRACTICE_CODE_RE,
    Reason,
)
from ingest.contract.participation import ParticipationList

_REASON_ORDER = {reason: i for i, reason in enumerate(Reason)}
# A UUID in its 8-4-4-4-12 hex form, any case (CONTRACT section 6); stored lower-case.
EVENT_ID_RE = re.compile(r"[0-9a-fA-F]{8}-(?:[0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}")
VALUE_SHOWN = 100  # characters of a bad value quoted in a detail (the stored value has them all)
_EPOCH = dt.date(1970, 1, 1)
_TOTAL = COUNT_FIELDS.index("total_requests")
_BREAKDOWN = tuple(COUNT_FIELDS.index(name) for name in BREAKDOWN_FIELDS)
_FIRST_BAND = COUNT_FIELDS.index(BAND_FIELDS[0])
_BANDS = slice(_FIRST_BAND, _FIRST_BAND + len(BAND_FIELDS))
_NO_BANDS: tuple[None, ...] = (None,) * len(BAND_FIELDS)
if tuple(COUNT_FIELDS[_BANDS]) != BAND_FIELDS:
    raise AssertionError("the time bands must be consecutive count fields")


@dataclass(frozen=True, slots=True)
class Limits:
    """Configurable bounds of the rules."""

    today: dt.date
    horizon_days: int = 400
    plausibility_cap: int = 100_000
    # the loaded participation list; None = none loaded, no event rejected for participation
    participation: ParticipationList | None = None

    @property
    def oldest(self) -> dt.date:
        return self.today - dt.timedelta(days=self.horizon_days)

    def day_bounds(self) -> tuple[int, int]:
        """(oldest, today) as days since 1970-01-01, the unit of Avro's date."""
        return (self.oldest - _EPOCH).days, (self.today - _EPOCH).days


@dataclass(frozen=True, slots=True)
class Problem:
    reason: Reason
    detail: str


def check_supplier(
    topic_supplier: str | None, topic: str, registered: Collection[str]
) -> Problem | None:
    """The topic must name a registered, active supplier."""
    if topic_supplier is None:
        return Problem(
            Reason.UNKNOWN_SUPPLIER,
            f"topic {topic!r} does not name a supplier (expected triage.daily.<supplier_id>)",
        )
    if topic_supplier not in registered:
        return Problem(
            Reason.UNKNOWN_SUPPLIER,
            f"supplier {topic_supplier!r} of topic {topic!r} is not registered or not active",
        )
    return None


def check_event(event: dict[str, Any], topic_supplier: str, limits: Limits) -> list[Problem]:
    """Every rule that a decoded event from a registered supplier's topic breaks."""
    problems = list(_event_problems(event, topic_supplier, limits))
    problems.sort(key=lambda p: _REASON_ORDER[p.reason])
    return problems


def passes(
    day: int, revision: int, figures: tuple[int | None, ...], bounds: tuple[int, int], cap: int
) -> bool:
    """True when an event whose supplier and practice code are known to be right breaks none
    of the other rules (exactly when ``check_event`` would find no problem). ``day`` is in
    days since 1970-01-01, ``bounds`` is ``Limits.day_bounds()``, ``figures`` the values of
    COUNT_FIELDS. The fast path's check; any event it refuses goes through ``check_event``."""
    if revision < 1 or not bounds[0] <= day <= bounds[1]:
        return False
    # every figure present is within [0, cap] (min/max in C: no Python loop per figure)
    present: Sequence[int] = (
        [v for v in figures if v is not None]
        if None in figures
        else cast("tuple[int, ...]", figures)
    )
    if min(present) < 0 or max(present) > cap:
        return False
    total = figures[_TOTAL]
    c, a, o = figures[_BREAKDOWN[0]], figures[_BREAKDOWN[1]], figures[_BREAKDOWN[2]]
    if not (c is None or a is None or o is None or c + a + o == total):
        return False
    bands = figures[_BANDS]
    if bands[0] is None:
        return bands == _NO_BANDS
    return None not in bands and sum(cast("tuple[int, ...]", bands)) == total


def summarise(problems: list[Problem]) -> Problem:
    """One Problem: the first reason, with every detail."""
    first = problems[0]
    if len(problems) == 1:
        return first
    others = "; ".join(p.detail for p in problems[1:])
    return Problem(first.reason, f"{first.detail} (also: {others})")


def quoted(value: object) -> str:
    """A value as a detail quotes it: its repr, a string cut to VALUE_SHOWN characters with how
    many more there were (so a detail stays short however long the supplier's field is)."""
    if isinstance(value, str) and len(value) > VALUE_SHOWN:
        return f"{value[:VALUE_SHOWN]!r}... ({len(value) - VALUE_SHOWN} more characters)"
    return repr(value)


def _event_problems(
    event: dict[str, Any], topic_supplier: str, limits: Limits
) -> Iterator[Problem]:
    if event["supplier_id"] != topic_supplier:
        yield Problem(
            Reason.SUPPLIER_MISMATCH,
            f"supplier_id {quoted(event['supplier_id'])} differs from the topic's supplier"
            f" {topic_supplier!r}",
        )
    event_id = event["event_id"]
    if not isinstance(event_id, UUID) and not (
        isinstance(event_id, str) and EVENT_ID_RE.fullmatch(event_id)
    ):
        yield Problem(
            Reason.INVALID_EVENT_ID,
            f"event_id {quoted(str(event_id))} is not a UUID (8-4-4-4-12 hex digits,"
            " e.g. 3f2b8c1e-9a4d-4e6f-8b7a-1c2d3e4f5a6b)",
        )
    code = event["practice_code"]
    if not isinstance(code, str) or not PRACTICE_CODE_RE.fullmatch(code):
        yield Problem(
            Reason.INVALID_PRACTICE_CODE,
            f"practice_code {quoted(code)} is not an ODS GP practice code (a letter then 5 digits,"
            " e.g. A81001)",
        )
    else:
        yield from _participation_problems(code, event["activity_date"], limits.participation)
    yield from _date_problems(event["activity_date"], limits)
    yield from _count_problems(event, limits.plausibility_cap)
    if event["revision"] < 1:
        yield Problem(Reason.INVALID_REVISION, f"revision {event['revision']} is below 1")


def _participation_problems(
    code: str, day: dt.date, participation: ParticipationList | None
) -> Iterator[Problem]:
    if participation is not None and not participation.includes(code, day):
        yield Problem(
            Reason.PRACTICE_NOT_PARTICIPATING,
            f"practice {code} was not participating on {day.isoformat()} (participation list,"
            f" load {participation.load_id}); the event is kept and can be replayed once the"
            " practice takes part",
        )


def _date_problems(day: dt.date, limits: Limits) -> Iterator[Problem]:
    if day > limits.today:
        yield Problem(
            Reason.ACTIVITY_DATE_OUT_OF_RANGE,
            f"activity_date {day.isoformat()} is after today {limits.today.isoformat()}",
        )
    elif day < limits.oldest:
        yield Problem(
            Reason.ACTIVITY_DATE_OUT_OF_RANGE,
            f"activity_date {day.isoformat()} is older than the {limits.horizon_days}-day"
            f" horizon (oldest accepted {limits.oldest.isoformat()})",
        )


def _count_problems(event: dict[str, Any], cap: int) -> Iterator[Problem]:
    for name in COUNT_FIELDS:
        value = event.get(name)
        if value is None:
            continue
        if value < 0 and name not in BAND_FIELDS:  # a negative band breaks the band rule
            yield Problem(Reason.NEGATIVE_COUNT, f"{name} {value} is negative")
        elif value > cap:
            yield Problem(
                Reason.IMPLAUSIBLE_COUNT, f"{name} {value} is above the plausibility cap {cap}"
            )
    parts = [event.get(name) for name in BREAKDOWN_FIELDS]
    if all(p is not None for p in parts):
        total = event["total_requests"]
        parts_sum = sum(p for p in parts if p is not None)
        if parts_sum != total:
            yield Problem(
                Reason.INCONSISTENT_BREAKDOWN,
                f"clinical_requests + admin_requests + other_requests = {parts[0]} + {parts[1]}"
                f" + {parts[2]} = {parts_sum}, not total_requests {total}",
            )
    band_problem = band_breakdown_problem(event)
    if band_problem is not None:
        yield band_problem


def band_breakdown_problem(event: dict[str, Any]) -> Problem | None:
    """The time bands (schema v3) must be all null, or all present, each >= 0 and summing to
    total_requests; anything else is ``inconsistent_breakdown`` (contract v1.2 section 7,
    a negative band included), the detail naming the fields and their sum."""
    bands = {name: event.get(name) for name in BAND_FIELDS}
    given = {name: value for name, value in bands.items() if value is not None}
    if not given:
        return None
    total = event["total_requests"]
    if len(given) < len(bands):
        missing = [name for name in BAND_FIELDS if bands[name] is None]
        return Problem(
            Reason.INCONSISTENT_BREAKDOWN,
            f"time bands partly null: {', '.join(missing)} null while the other"
            f" {len(given)} bands ({', '.join(given)}) sum to {sum(given.values())},"
            f" total_requests {total} (send all nine bands, or none)",
        )
    bands_sum = sum(given.values())
    negative = [name for name, value in given.items() if value < 0]
    if bands_sum != total or negative:
        sums = f"{' + '.join(BAND_FIELDS)} = {' + '.join(str(v) for v in given.values())}"
        if negative:  # the band rule wants each >= 0 too
            return Problem(
                Reason.INCONSISTENT_BREAKDOWN,
                f"time bands must each be >= 0 ({', '.join(negative)} below 0): {sums}"
                f" = {bands_sum}, total_requests {total}",
            )
        return Problem(
            Reason.INCONSISTENT_BREAKDOWN, f"{sums} = {bands_sum}, not total_requests {total}"
        )
    return None
