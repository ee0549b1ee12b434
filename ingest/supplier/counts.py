"""One practice-day's counts as a supplier reports them, checked with the consumer's rules (pure).

Shared by the producer API (:mod:`ingest.supplier.producer`) and the push tool
(:mod:`ingest.supplier.push_file`): a :class:`DailyCounts` that passes :func:`check_counts` is
not rejected by the consumer for its content.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from ingest.contract.model import (
    BAND_FIELDS,
    BREAKDOWN_FIELDS,
    COUNT_FIELDS,
    V1_COUNT_FIELDS,
    V2_COUNT_FIELDS,
    Reason,
)
from ingest.contract.validation import Limits, Problem, check_event
from ingest.supplier.problems import FieldProblem, FileReason

SCHEMA_VERSIONS: tuple[int, ...] = (1, 2, 3)
V2_ONLY_FIELDS: tuple[str, ...] = tuple(f for f in V2_COUNT_FIELDS if f not in V1_COUNT_FIELDS)
# The count fields each schema version carries, and the version that adds each later field.
_CARRIED: dict[int, tuple[str, ...]] = {1: V1_COUNT_FIELDS, 2: V2_COUNT_FIELDS, 3: COUNT_FIELDS}
_ADDED_IN: dict[str, int] = {
    **dict.fromkeys(V2_ONLY_FIELDS, 2),
    **dict.fromkeys(BAND_FIELDS, 3),
}
_NEEDS = {2: FileReason.NEEDS_SCHEMA_V2, 3: FileReason.NEEDS_SCHEMA_V3}
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
_ANY_EVENT_ID = "00000000-0000-0000-0000-000000000000"  # the sender assigns the real one


@dataclass(frozen=True, slots=True)
class DailyCounts:
    """One practice-day's counts, as a supplier reports them (the content of one event).

    The v2 fields (``patient_submitted_requests``, ``staff_submitted_requests``) can only be
    sent with schema v2 or v3; leave them ``None`` for v1. The nine time bands
    (``requests_00_06`` ... ``requests_18_24``, ``requests_time_unknown``: submissions by UK
    local time of day) can only be sent with schema v3, all nine or none, summing to
    ``total_requests``.
    """

    practice_code: str
    activity_date: dt.date
    total_requests: int
    clinical_requests: int | None = None
    admin_requests: int | None = None
    other_requests: int | None = None
    revision: int = 1
    patient_submitted_requests: int | None = None
    staff_submitted_requests: int | None = None
    requests_00_06: int | None = None
    requests_06_08: int | None = None
    requests_08_10: int | None = None
    requests_10_12: int | None = None
    requests_12_14: int | None = None
    requests_14_16: int | None = None
    requests_16_18: int | None = None
    requests_18_24: int | None = None
    requests_time_unknown: int | None = None

    def counts(self) -> tuple[int | None, ...]:
        """The count fields in COUNT_FIELDS order."""
        return tuple(getattr(self, name) for name in COUNT_FIELDS)

    def identity(self) -> tuple[str, dt.date, int]:
        """(practice_code, activity_date, revision): what the consumer deduplicates on."""
        return (self.practice_code, self.activity_date, self.revision)

    def event(self, supplier_id: str, event_id: str, generated_at: dt.datetime) -> dict[str, Any]:
        """The event in the current (v3) shape; an older writer drops the fields it lacks."""
        payload: dict[str, Any] = {
            "event_id": event_id,
            "supplier_id": supplier_id,
            "practice_code": self.practice_code,
            "activity_date": self.activity_date,
            "revision": self.revision,
            "generated_at": generated_at,
        }
        payload.update(zip(COUNT_FIELDS, self.counts(), strict=True))
        return payload


def check_counts(
    counts: DailyCounts, supplier_id: str, limits: Limits, schema_version: int = 1
) -> list[FieldProblem]:
    """Every problem the consumer would find with this event, plus the fields the chosen schema
    version cannot carry (an older writer would drop them: the figures would not be sent).

    The consumer's rules are applied as they are (``check_event``), in the contract's order of
    reason codes; each problem is tied to the field it is about.
    """
    problems: list[FieldProblem] = []
    carried = _CARRIED.get(schema_version, COUNT_FIELDS)
    for name in COUNT_FIELDS:
        if name not in carried and getattr(counts, name) is not None:
            needed = _ADDED_IN[name]
            problems.append(
                FieldProblem(
                    name,
                    _NEEDS[needed].value,
                    f"{name} exists from schema v{needed} on: send with schema version"
                    f" {needed} or later (--schema-version {needed}) or leave it empty",
                )
            )
    event = counts.event(supplier_id, _ANY_EVENT_ID, _EPOCH)
    problems.extend(
        FieldProblem(field_of(p), p.reason.value, p.detail)
        for p in check_event(event, supplier_id, limits)
    )
    return problems


def field_of(problem: Problem) -> str:
    """The field a validation problem is about."""
    match problem.reason:
        case Reason.SUPPLIER_MISMATCH:
            return "supplier_id"
        case Reason.INVALID_EVENT_ID:
            return "event_id"
        case Reason.INVALID_PRACTICE_CODE:
            return "practice_code"
        case Reason.ACTIVITY_DATE_OUT_OF_RANGE:
            return "activity_date"
        case Reason.INVALID_REVISION:
            return "revision"
        case Reason.INCONSISTENT_BREAKDOWN:
            parts = (
                BREAKDOWN_FIELDS if problem.detail.startswith(BREAKDOWN_FIELDS[0]) else BAND_FIELDS
            )
            return "+".join(parts)
        case Reason.NEGATIVE_COUNT | Reason.IMPLAUSIBLE_COUNT:
            named = problem.detail.split(" ", 1)[0]  # details start with the field name
            return named if named in COUNT_FIELDS else "total_requests"
        case _:
            return "-"
