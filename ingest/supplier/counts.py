"""One practice-day's counts as a supplier reports them, checked with the consumer's rules (pure).

Shared by the producer API (:mod:`ingest.supplier.producer`) and the push tool
(:mod:`ingest.supplier.push_file`): a :class:`DailyCounts` that passes :func:`check_counts` is
not rejected by the consumer for its content.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from ingest.contract.model import BREAKDOWN_FIELDS, COUNT_FIELDS, V1_COUNT_FIELDS, Reason
from ingest.contract.validation import Limits, Problem, check_event
from ingest.supplier.problems import FieldProblem, FileReason

SCHEMA_VERSIONS: tuple[int, ...] = (1, 2)
V2_ONLY_FIELDS: tuple[str, ...] = tuple(f for f in COUNT_FIELDS if f not in V1_COUNT_FIELDS)
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
_ANY_EVENT_ID = "00000000-0000-0000-0000-000000000000"  # the sender assigns the real one


@dataclass(frozen=True, slots=True)
class DailyCounts:
    """One practice-day's counts, as a supplier reports them (the content of one event).

    The v2 fields (``patient_submitted_requests``, ``staff_submitted_requests``) can only be
    sent with schema v2; leave them ``None`` for v1.
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

    def counts(self) -> tuple[int | None, ...]:
        """The count fields in COUNT_FIELDS order."""
        return tuple(getattr(self, name) for name in COUNT_FIELDS)

    def identity(self) -> tuple[str, dt.date, int]:
        """(practice_code, activity_date, revision): what the consumer deduplicates on."""
        return (self.practice_code, self.activity_date, self.revision)

    def event(self, supplier_id: str, event_id: str, generated_at: dt.datetime) -> dict[str, Any]:
        """The event in the current (v2) shape; a v1 writer drops the v2 fields."""
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
    """Every problem the consumer would find with this event, plus what schema v1 cannot carry.

    The consumer's rules are applied as they are (``check_event``), in the contract's order of
    reason codes; each problem is tied to the field it is about.
    """
    problems: list[FieldProblem] = []
    if schema_version == 1:
        for name in V2_ONLY_FIELDS:
            if getattr(counts, name) is not None:
                problems.append(
                    FieldProblem(
                        name,
                        FileReason.NEEDS_SCHEMA_V2.value,
                        f"{name} exists from schema v2 on: send with schema version 2"
                        " (--schema-version 2) or leave it empty",
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
            return "+".join(BREAKDOWN_FIELDS)
        case Reason.NEGATIVE_COUNT | Reason.IMPLAUSIBLE_COUNT:
            named = problem.detail.split(" ", 1)[0]  # details start with the field name
            return named if named in COUNT_FIELDS else "total_requests"
        case _:
            return "-"
