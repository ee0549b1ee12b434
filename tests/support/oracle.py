"""The oracle of the fault-injection suite: CONTRACT section 3, applied one record at a time.

Pure and deliberately naive: it knows nothing of batches, transactions, offsets fences or
``ingest.consumer.resolution``. It walks the records in offset order (per partition) and keeps three
dictionaries — the current row per key, the revisions table, the rejections — exactly as the
contract's table says:

==========================================  ==========  =============  ===============
case                                        outcome     current row    revisions table
==========================================  ==========  =============  ===============
(K, R) new, R above the current revision    accepted    replaced       added
(K, R) new, R below the current revision    superseded  unchanged      added
(K, R) stored with the same figures         duplicate   unchanged      unchanged
(K, R) stored with different figures        rejected    unchanged      unchanged
                                            (conflicting_revision)
invalid event                               rejected    unchanged      unchanged
==========================================  ==========  =============  ===============

Whether a record is valid (and what it says) is decided before the oracle sees it: each
:class:`Record` carries a :data:`Verdict` — :class:`Valid` with the event's fields, or
:class:`Invalid` with the reason code. The fault suite takes verdicts from the traffic
generator's intent (what it built on purpose), and cross-checks that intent against the
service's decoder and validator separately.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field

FEED_TOPIC_RE = re.compile(r"^triage\.daily\.([a-z0-9][a-z0-9-]{1,39})$")

# CONTRACT section 3, in the order of precedence.
REASONS: tuple[str, ...] = (
    "undecodable",
    "unknown_schema",
    "unknown_supplier",
    "supplier_mismatch",
    "invalid_event_id",
    "invalid_practice_code",
    "activity_date_out_of_range",
    "negative_count",
    "inconsistent_breakdown",
    "implausible_count",
    "invalid_revision",
    "conflicting_revision",
)
ACCEPTED, SUPERSEDED, DUPLICATE, REJECTED = "accepted", "superseded", "duplicate", "rejected"

Key = tuple[str, str, dt.date]  # (supplier_id, practice_code, activity_date)
Position = tuple[str, int, int]  # (topic, partition, offset)
# total, clinical, admin, other (v1) + patient_submitted, staff_submitted (v2)
Figures = tuple[int | None, ...]


@dataclass(frozen=True, slots=True)
class Valid:
    """A valid event: what it says."""

    supplier_id: str
    practice_code: str
    activity_date: dt.date
    revision: int
    figures: Figures
    event_id: str
    generated_at: dt.datetime

    @property
    def key(self) -> Key:
        return (self.supplier_id, self.practice_code, self.activity_date)


@dataclass(frozen=True, slots=True)
class Invalid:
    """An invalid record and the reason code it must be rejected with."""

    reason: str

    def __post_init__(self) -> None:
        if self.reason not in REASONS or self.reason == "conflicting_revision":
            raise ValueError(f"{self.reason!r} is not a reason an event carries by itself")


Verdict = Valid | Invalid


@dataclass(frozen=True, slots=True)
class Record:
    """One Kafka record as the broker holds it, with its verdict."""

    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None
    verdict: Verdict

    @property
    def position(self) -> Position:
        return (self.topic, self.partition, self.offset)


@dataclass(frozen=True, slots=True)
class Stored:
    """A row of ``daily_requests`` or ``daily_request_revisions``."""

    event: Valid
    source: Position


@dataclass(frozen=True, slots=True)
class Rejected:
    """A row of ``rejected_events`` (and a record that must be on the DLQ)."""

    source: Position
    key: bytes | None
    value: bytes | None
    supplier_id: str | None
    reason: str


@dataclass
class Expected:
    """The database the contract promises after processing every record once, in order."""

    current: dict[Key, Stored] = field(default_factory=dict)
    revisions: dict[tuple[Key, int], Stored] = field(default_factory=dict)
    rejections: dict[Position, Rejected] = field(default_factory=dict)
    outcome_at: dict[Position, str] = field(default_factory=dict)
    next_offsets: dict[tuple[str, int], int] = field(default_factory=dict)

    @property
    def outcomes(self) -> Counter[str]:
        return Counter(self.outcome_at.values())

    @property
    def reasons(self) -> Counter[str]:
        return Counter(r.reason for r in self.rejections.values())


def topic_supplier(topic: str) -> str | None:
    """The supplier a feed topic names (None: not a feed topic name)."""
    match = FEED_TOPIC_RE.match(topic)
    return match.group(1) if match else None


def expected_state(records: Iterable[Record], registered: Collection[str]) -> Expected:
    """Apply CONTRACT section 3 to the records, one at a time.

    ``records`` must be in offset order within each partition (any interleaving of
    partitions; the fault suite never lets one key's valid events span two partitions).
    ``registered``: the active suppliers, which a rejection is attributed to."""
    state = Expected()
    for record in records:
        apply(state, record, registered)
    return state


def apply(state: Expected, record: Record, registered: Collection[str]) -> str:
    """One record's effect on the state; returns its outcome."""
    tp = (record.topic, record.partition)
    previous = state.next_offsets.get(tp, -1)
    if record.offset < previous:
        raise ValueError(f"record {record.position} is out of offset order (next {previous})")
    state.next_offsets[tp] = record.offset + 1
    verdict = record.verdict
    if isinstance(verdict, Invalid):
        return _reject(state, record, registered, verdict.reason)
    key, revision = verdict.key, verdict.revision
    known = state.revisions.get((key, revision))
    if known is not None:
        if known.event.figures == verdict.figures:
            return _outcome(state, record, DUPLICATE)
        return _reject(state, record, registered, "conflicting_revision")
    stored = Stored(verdict, record.position)
    state.revisions[(key, revision)] = stored
    current = state.current.get(key)
    if current is None or revision > current.event.revision:
        state.current[key] = stored
        return _outcome(state, record, ACCEPTED)
    return _outcome(state, record, SUPERSEDED)


def _outcome(state: Expected, record: Record, outcome: str) -> str:
    state.outcome_at[record.position] = outcome
    return outcome


def _reject(state: Expected, record: Record, registered: Collection[str], reason: str) -> str:
    supplier = topic_supplier(record.topic)
    state.rejections[record.position] = Rejected(
        record.position,
        record.key,
        record.value,
        supplier if supplier in registered else None,
        reason,
    )
    return _outcome(state, record, REJECTED)
