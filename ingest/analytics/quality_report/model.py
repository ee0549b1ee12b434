"""The quality report's figures (pure data): what ``collect`` reads and the renderers show."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum

from ingest.errors import IngestError
from ingest.ops.freshness import RosterCoverage

SAMPLES_PER_REASON = 3
MAX_MISSING_SHOWN = 100
VALUE_PREVIEW_BYTES = 48  # bytes of an undecodable value shown
VALUE_DECODE_BYTES = 4096  # values up to this size are read whole and decoded when possible
DECODED_PREVIEW_CHARS = 300  # characters of a decoded value shown


class QualityReportError(IngestError):
    """The report could not be produced."""


class ReportFormat(StrEnum):
    HTML = "html"
    MARKDOWN = "md"


@dataclass(frozen=True, slots=True)
class RejectionSample:
    received_at: dt.datetime
    source_topic: str
    source_partition: int
    source_offset: int
    key: bytes | None
    value_head: bytes | None  # the first VALUE_DECODE_BYTES bytes
    value_length: int | None
    detail: str
    decoded: str | None = None  # the value decoded with a released schema, as JSON


@dataclass(frozen=True, slots=True)
class ReasonSummary:
    reason: str
    count: int
    first_received: dt.datetime
    last_received: dt.datetime
    samples: tuple[RejectionSample, ...]


@dataclass(frozen=True, slots=True)
class DayVolume:
    activity_date: dt.date
    practices: int
    total_requests: int


@dataclass(frozen=True, slots=True)
class LateDay:
    activity_date: dt.date
    practices: int
    late_practices: int
    worst_delay: dt.timedelta


@dataclass(frozen=True, slots=True)
class MissingPractice:
    practice_code: str
    name: str | None
    close_date: dt.date | None
    days_missing: int
    first_missing: dt.date
    last_missing: dt.date
    last_reported: dt.date | None


@dataclass(frozen=True, slots=True)
class UnknownPractice:
    practice_code: str
    first_activity_date: dt.date
    last_activity_date: dt.date
    days_reported: int


@dataclass(frozen=True, slots=True)
class VolumeFlag:
    """A day whose total is out of line with the same weekday of the previous weeks."""

    activity_date: dt.date
    total_requests: int
    baseline_median: float
    change: float  # relative to the median


@dataclass(frozen=True, slots=True)
class QualityData:
    supplier_id: str
    supplier_name: str
    period_start: dt.date
    period_end: dt.date
    generated_at: dt.datetime
    timezone: str
    warn_after: dt.timedelta
    practice_days: int
    restated_practice_days: int
    revisions_received: int
    rejected_total: int
    reasons: tuple[ReasonSummary, ...]
    volumes: tuple[DayVolume, ...]
    rejected_by_day: tuple[tuple[dt.date, int], ...]
    late_days: tuple[LateDay, ...]
    missing: tuple[MissingPractice, ...]
    unknown_practices: tuple[UnknownPractice, ...]
    missing_basis: str = "history"  # 'roster' when the supplier roster says what is expected
    roster: RosterCoverage | None = None  # the latest reported day, with a roster
    volume_flags: tuple[VolumeFlag, ...] = ()
    key_mismatches: int = 0  # valid records whose key disagreed with the body
    key_mismatch_days: int = 0  # activity dates with such records

    @property
    def restatement_rate(self) -> float | None:
        return None if not self.practice_days else self.restated_practice_days / self.practice_days

    @property
    def rejection_rate(self) -> float | None:
        received = self.rejected_total + self.revisions_received
        return None if not received else self.rejected_total / received
