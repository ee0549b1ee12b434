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


def encode_outcome(outcome: SubmissionOutcome) -> bytes:
    """``C3 01`` + fingerprint + Avro body of the outcome."""
    schema = outcome_schema()
    buffer = io.BytesIO()
    buffer.write(SINGLE_OBJECT_MAGIC)
    buffer.write(schema.fingerprint)
    schemaless_writer(buffer, schema.parsed, outcome.as_record())
    return buffer.getvalue()


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
