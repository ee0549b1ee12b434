"""Submission outcomes sent back to suppliers (contract v1.1 section 6; pure).

One ``uk.nhs.triage.SubmissionOutcome`` per record of a supplier's feed topic that the service
resolved, on the supplier's feedback topic ``triage.feedback.<supplier_id>``, keyed by the
source record's key, its value the Avro single-object encoding of the released schema
``schemas/submission_outcome.v1.avsc``.
"""

from __future__ import annotations

import datetime as dt
import io
import json
from dataclasses import dataclass
from functools import cache
from typing import Any

from fastavro import schemaless_reader, schemaless_writer

from ingest.contract.model import Outcome, Reason
from ingest.contract.schemas import SINGLE_OBJECT_MAGIC, SchemaVersion, schema_version, schemas_dir
from ingest.errors import DecodeError

FEEDBACK_PREFIX = "triage.feedback."
OUTCOME_SCHEMA_FILE = "submission_outcome.v1.avsc"
OUTCOME_SCHEMA_NAME = "uk.nhs.triage.SubmissionOutcome"
DETAIL_MAX_CHARS = 4000  # as the DLQ's triage.error.detail header
# An outcome carries its source record's key only up to this many bytes (a contract key
# `<practice_code>:<YYYY-MM-DD>` has 17). A longer key (a record key may be as large as the
# broker allows) is left out and the outcome goes unkeyed: copied whole, it made the outcome
# larger than the feedback topic accepts, and that outcome blocked the relay for every supplier.
# triage.rejected_events keeps the raw key whole. The outbox holds no longer key (its CHECK).
OUTCOME_KEY_MAX_BYTES = 1024


def outcome_key(key: bytes | None) -> bytes | None:
    """The key an outcome carries: its source record's key, None when that is longer than
    OUTCOME_KEY_MAX_BYTES."""
    return key if key is None or len(key) <= OUTCOME_KEY_MAX_BYTES else None


def feedback_topic(supplier_id: str) -> str:
    """The feedback topic of a supplier: ``triage.feedback.<supplier_id>``."""
    return f"{FEEDBACK_PREFIX}{supplier_id}"


@cache
def outcome_schema() -> SchemaVersion:
    """The released SubmissionOutcome schema (version 1)."""
    source = json.loads((schemas_dir() / OUTCOME_SCHEMA_FILE).read_text())
    return schema_version(source, 1)


@dataclass(frozen=True, slots=True)
class SubmissionOutcome:
    """What became of one source record."""

    source_partition: int
    source_offset: int
    event_id: str | None
    practice_code: str | None
    activity_date: dt.date | None
    revision: int | None
    outcome: Outcome
    reason: Reason | None
    detail: str | None
    processed_at: dt.datetime

    def as_record(self) -> dict[str, Any]:
        detail = self.detail
        if detail is not None and len(detail) > DETAIL_MAX_CHARS:
            detail = detail[:DETAIL_MAX_CHARS]
        return {
            "source_partition": self.source_partition,
            "source_offset": self.source_offset,
            "event_id": self.event_id,
            "practice_code": self.practice_code,
            "activity_date": self.activity_date,
            "revision": self.revision,
            "outcome": self.outcome.value,
            "reason": None if self.reason is None else self.reason.value,
            "detail": detail,
            "processed_at": self.processed_at,
        }


def encode_outcome_generic(outcome: SubmissionOutcome) -> bytes:
    """``C3 01`` + fingerprint + Avro body of the outcome, written by fastavro (the reference
    :func:`encode_outcome` is proven equal to, tests/unit/test_submission_outcomes.py)."""
    schema = outcome_schema()
    buffer = io.BytesIO()
    buffer.write(SINGLE_OBJECT_MAGIC)
    buffer.write(schema.fingerprint)
    schemaless_writer(buffer, schema.parsed, outcome.as_record())
    return buffer.getvalue()


_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
_EPOCH_ORDINAL = dt.date(1970, 1, 1).toordinal()
_NULL = b"\x00"  # union branch 0: null
_PRESENT = b"\x02"  # union branch 1: the value


def _long(n: int) -> bytes:
    """Avro int/long: zig-zag, then base-128 varint, least significant group first."""
    z = (n << 1) ^ (n >> 63)
    out = bytearray()
    while z > 0x7F:
        out.append((z & 0x7F) | 0x80)
        z >>= 7
    out.append(z)
    return bytes(out)


def _string(text: str) -> bytes:
    data = text.encode()
    return _long(len(data)) + data


def _optional_string(text: str | None) -> bytes:
    return _NULL if text is None else _PRESENT + _string(text)


def _millis(moment: dt.datetime) -> int:
    delta = moment - _EPOCH
    return (delta.days * 86400 + delta.seconds) * 1000 + int(delta.microseconds / 1000)


def encode_outcome(outcome: SubmissionOutcome) -> bytes:
    """``C3 01`` + fingerprint + Avro body of the outcome, written directly for the one
    released schema (about ten times cheaper than the generic writer; the relay encodes one per
    record of every supplier's feed). ``processed_at`` must be time-zone aware."""
    day = outcome.activity_date
    detail = outcome.detail
    if detail is not None and len(detail) > DETAIL_MAX_CHARS:
        detail = detail[:DETAIL_MAX_CHARS]
    parts = [
        SINGLE_OBJECT_MAGIC,
        outcome_schema().fingerprint,
        _long(outcome.source_partition),
        _long(outcome.source_offset),
        _optional_string(outcome.event_id),
        _optional_string(outcome.practice_code),
        _NULL if day is None else _PRESENT + _long(day.toordinal() - _EPOCH_ORDINAL),
        _NULL if outcome.revision is None else _PRESENT + _long(outcome.revision),
        _string(outcome.outcome.value),
        _NULL if outcome.reason is None else _PRESENT + _string(outcome.reason.value),
        _optional_string(detail),
        _long(_millis(outcome.processed_at)),
    ]
    return b"".join(parts)


_OUTCOME_TEXT = {o.value: _string(o.value) for o in Outcome}
_REASON_TEXT = {r.value: _PRESENT + _string(r.value) for r in Reason}
_CACHE_MAX = 65_536  # repeated texts and dates kept encoded, up to this many each


class OutcomeEncoder:
    """:func:`encode_outcome` for a stream of outcomes given by their fields (no
    SubmissionOutcome built), what repeats from one to the next encoded once: the outcome and
    reason texts, practice codes, dates, small numbers and the stored time (outcomes of one
    batch share it). ``outcome`` and ``reason`` are the enums' values; anything else is a
    ValueError. Equal to encode_outcome (tests/unit/test_submission_outcomes.py)."""

    def __init__(self) -> None:
        self._head = SINGLE_OBJECT_MAGIC + outcome_schema().fingerprint
        self._codes: dict[str, bytes] = {}
        self._days: dict[dt.date, bytes] = {}
        self._small: dict[int, bytes] = {}
        self._moment: dt.datetime | None = None
        self._moment_bytes = b""

    def _int(self, n: int) -> bytes:
        encoded = self._small.get(n)
        if encoded is None:
            encoded = _long(n)
            if 0 <= n < _CACHE_MAX:
                self._small[n] = encoded
        return encoded

    def encode(
        self,
        source_partition: int,
        source_offset: int,
        event_id: str | None,
        practice_code: str | None,
        activity_date: dt.date | None,
        revision: int | None,
        outcome: str,
        reason: str | None,
        detail: str | None,
        processed_at: dt.datetime,
    ) -> bytes:
        try:
            outcome_text = _OUTCOME_TEXT[outcome]
            reason_text = _NULL if reason is None else _REASON_TEXT[reason]
        except KeyError as exc:
            raise ValueError(f"not an outcome or reason code: {exc}") from None
        if practice_code is None:
            code = _NULL
        else:
            code = self._codes.get(practice_code)  # type: ignore[assignment]
            if code is None:
                code = _PRESENT + _string(practice_code)
                if len(self._codes) >= _CACHE_MAX:
                    self._codes.clear()
                self._codes[practice_code] = code
        if activity_date is None:
            day = _NULL
        else:
            day = self._days.get(activity_date)  # type: ignore[assignment]
            if day is None:
                day = _PRESENT + _long(activity_date.toordinal() - _EPOCH_ORDINAL)
                if len(self._days) >= _CACHE_MAX:
                    self._days.clear()
                self._days[activity_date] = day
        if processed_at != self._moment:
            self._moment, self._moment_bytes = processed_at, _long(_millis(processed_at))
        if detail is not None and len(detail) > DETAIL_MAX_CHARS:
            detail = detail[:DETAIL_MAX_CHARS]
        return b"".join(
            (
                self._head,
                self._int(source_partition),
                _long(source_offset),
                _NULL if event_id is None else _PRESENT + _string(event_id),
                code,
                day,
                _NULL if revision is None else _PRESENT + self._int(revision),
                outcome_text,
                reason_text,
                _NULL if detail is None else _PRESENT + _string(detail),
                self._moment_bytes,
            )
        )


def decode_outcome(value: bytes) -> SubmissionOutcome:
    """The outcome in a feedback record; DecodeError when it is not one."""
    schema = outcome_schema()
    if value[:2] != SINGLE_OBJECT_MAGIC or value[2:10] != schema.fingerprint:
        raise DecodeError("unknown_schema", "not a SubmissionOutcome v1 single-object record")
    try:
        record = schemaless_reader(io.BytesIO(value[10:]), schema.parsed, None)
    except (EOFError, ValueError, IndexError, UnicodeDecodeError) as exc:
        raise DecodeError("undecodable", f"unreadable SubmissionOutcome: {exc}") from exc
    if not isinstance(record, dict):
        raise DecodeError("undecodable", "a SubmissionOutcome must be a record")
    return SubmissionOutcome(
        source_partition=record["source_partition"],
        source_offset=record["source_offset"],
        event_id=record["event_id"],
        practice_code=record["practice_code"],
        activity_date=record["activity_date"],
        revision=record["revision"],
        outcome=Outcome(record["outcome"]),
        reason=None if record["reason"] is None else Reason(record["reason"]),
        detail=record["detail"],
        processed_at=record["processed_at"],
    )
