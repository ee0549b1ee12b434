"""What a supplier's event or file row can have wrong with it, field by field (pure)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from ingest.errors import IngestError


class FileError(IngestError):
    """The file as a whole cannot be read (unknown layout, not UTF-8...)."""


class FileReason(StrEnum):
    """Reason codes of problems found before the contract's rules can be applied."""

    MISSING_COLUMN = "missing_column"
    UNKNOWN_COLUMN = "unknown_column"
    DUPLICATE_COLUMN = "duplicate_column"
    MALFORMED_LINE = "malformed_line"
    MISSING_VALUE = "missing_value"
    NOT_AN_INTEGER = "not_an_integer"
    NOT_A_DATE = "not_a_date"
    NEEDS_SCHEMA_V2 = "needs_schema_v2"
    NEEDS_SCHEMA_V3 = "needs_schema_v3"


@dataclass(frozen=True, slots=True)
class FieldProblem:
    """One thing wrong with one field of an event or a row."""

    field: str
    reason: str  # a Reason or FileReason value
    detail: str


@dataclass(frozen=True, slots=True)
class RowProblem:
    """A FieldProblem located in a file (1-based line number; the CSV header is line 1)."""

    line: int
    field: str
    reason: str
    detail: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.field}: {self.reason}: {self.detail}"
