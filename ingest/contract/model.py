"""Vocabulary of the contract: outcomes, reason codes and the event shape (pure, no I/O)."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from enum import StrEnum

from ingest.errors import SupplierError

TOPIC_PREFIX = "triage.daily."
# \A...\Z, used with fullmatch: "$" would also match before a trailing newline ("A12345\n")
SUPPLIER_ID_RE = re.compile(r"\A[a-z0-9][a-z0-9-]{1,39}\Z")
PRACTICE_CODE_RE = re.compile(r"\A[A-Z][0-9]{5}\Z")

# Count fields, in schema order. Later schema versions only append to this list.
V1_COUNT_FIELDS: tuple[str, ...] = (
    "total_requests",
    "clinical_requests",
    "admin_requests",
    "other_requests",
)
V2_COUNT_FIELDS: tuple[str, ...] = (
    *V1_COUNT_FIELDS,
    "patient_submitted_requests",
    "staff_submitted_requests",
)
# Schema v3: when the requests were submitted, UK local time (CONTRACT section 7), in schema
# order, each with the label NHS England's publication gives the band; the last is the requests
# whose time is not known. All null, or all present and summing to total_requests.
TIME_BANDS: tuple[tuple[str, str], ...] = (
    ("requests_00_06", "00:00 - 05:59"),
    ("requests_06_08", "06:00 - 07:59"),
    ("requests_08_10", "08:00 - 09:59"),
    ("requests_10_12", "10:00 - 11:59"),
    ("requests_12_14", "12:00 - 13:59"),
    ("requests_14_16", "14:00 - 15:59"),
    ("requests_16_18", "16:00 - 17:59"),
    ("requests_18_24", "18:00 - 23:59"),
    ("requests_time_unknown", "Unknown"),
)
BAND_FIELDS: tuple[str, ...] = tuple(name for name, _ in TIME_BANDS)
COUNT_FIELDS: tuple[str, ...] = (*V2_COUNT_FIELDS, *BAND_FIELDS)
BREAKDOWN_FIELDS: tuple[str, ...] = ("clinical_requests", "admin_requests", "other_requests")


class Outcome(StrEnum):
    """What happened to one Kafka record (CONTRACT section 3)."""

    ACCEPTED = "accepted"
    DUPLICATE = "duplicate"
    SUPERSEDED = "superseded"
    REJECTED = "rejected"


class Reason(StrEnum):
    """Reason codes of rejected events (CONTRACT sections 3 and 6), in order of precedence."""

    UNDECODABLE = "undecodable"
    UNKNOWN_SCHEMA = "unknown_schema"
    UNKNOWN_SUPPLIER = "unknown_supplier"
    SUPPLIER_MISMATCH = "supplier_mismatch"
    INVALID_EVENT_ID = "invalid_event_id"
    INVALID_PRACTICE_CODE = "invalid_practice_code"
    PRACTICE_NOT_PARTICIPATING = "practice_not_participating"
    ACTIVITY_DATE_OUT_OF_RANGE = "activity_date_out_of_range"
    NEGATIVE_COUNT = "negative_count"
    INCONSISTENT_BREAKDOWN = "inconsistent_breakdown"
    IMPLAUSIBLE_COUNT = "implausible_count"
    INVALID_REVISION = "invalid_revision"
    CONFLICTING_REVISION = "conflicting_revision"


class FreshnessStatus(StrEnum):
    """Freshness of a supplier's feed (CONTRACT section 4)."""

    OK = "ok"
    LATE = "late"
    SILENT = "silent"
    NEVER_REPORTED = "never_reported"


def check_supplier_id(supplier_id: str) -> str:
    """The id itself, or SupplierError saying what a valid id looks like."""
    if not SUPPLIER_ID_RE.fullmatch(supplier_id):
        raise SupplierError(
            f"supplier id {supplier_id!r} is invalid: use 2-40 characters a-z, 0-9 and '-',"
            " starting with a letter or digit (e.g. askmygp)"
        )
    return supplier_id


def topic_for(supplier_id: str) -> str:
    """The feed topic of a supplier: ``triage.daily.<supplier_id>``."""
    return f"{TOPIC_PREFIX}{supplier_id}"


def supplier_of_topic(topic: str) -> str | None:
    """The supplier id a feed topic names, or None when the name is not a valid feed topic."""
    if not topic.startswith(TOPIC_PREFIX):
        return None
    candidate = topic[len(TOPIC_PREFIX) :]
    return candidate if SUPPLIER_ID_RE.fullmatch(candidate) else None


EventKey = tuple[str, str, dt.date]
Figures = tuple[int | None, ...]


@dataclass(frozen=True, slots=True)
class SourcePosition:
    """Where a record came from in Kafka."""

    topic: str
    partition: int
    offset: int


@dataclass(frozen=True, slots=True)
class DailyEvent:
    """A decoded, valid event in the current (reader) shape."""

    event_id: str
    supplier_id: str
    practice_code: str
    activity_date: dt.date
    revision: int
    generated_at: dt.datetime
    figures: Figures  # values of COUNT_FIELDS, in that order
    source: SourcePosition

    @property
    def key(self) -> EventKey:
        return (self.supplier_id, self.practice_code, self.activity_date)


@dataclass(frozen=True, slots=True)
class EventSummary:
    """What a rejected record's body said, when it could be decoded (for its outcome)."""

    event_id: str | None
    practice_code: str | None
    activity_date: dt.date | None
    revision: int | None


@dataclass(frozen=True, slots=True)
class Rejection:
    """A record that was refused, with the raw bytes kept so nothing is lost."""

    source: SourcePosition
    key: bytes | None
    value: bytes | None
    supplier_id: str | None
    reason: Reason
    detail: str
    summary: EventSummary | None = None  # None: the body could not be decoded
