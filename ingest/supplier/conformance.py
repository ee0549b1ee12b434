"""The supplier conformance kit's cases and their verdicts (pure, no I/O).

A supplier proves its integration before go-live by sending the kit's rows with its own
client (Java, confluent-kafka, the project's producer...) to a sandbox, then checking what
became of each row in its feedback topic (``triage.feedback.<supplier_id>``): every row must
end as the contract says (accepted, superseded, duplicate, or rejected with the reason
given). The rows cover every outcome and every reason code a well-framed event can get.

The rows file is CSV with a header (:data:`ROW_COLUMNS`); dates are ISO (``YYYY-MM-DD``),
relative to the day the rows were made, so make them on the day they are sent. Rows with the
same practice and day must be sent in file order (the same key, so the same partition).
Rows for a schema v3 client (``schema_version=3``) add the time-band cases (bands that add up,
a restatement that changes only a band, bands that do not add up); the band columns are
empty in every other row. Files made before the band columns existed are still read.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from ingest.contract.model import BAND_FIELDS, Outcome, Reason
from ingest.errors import IngestError
from ingest.output_file import atomic_output

ROW_COLUMNS: tuple[str, ...] = (
    "case",
    "event_id",
    "supplier_id",
    "practice_code",
    "activity_date",
    "revision",
    "total_requests",
    "clinical_requests",
    "admin_requests",
    "other_requests",
    "expected_outcome",
    "expected_reason",
    *BAND_FIELDS,
)
# the header of rows files made before schema v3 (no band columns): still read
_V1_ROW_COLUMNS = ROW_COLUMNS[: -len(BAND_FIELDS)]
_NO_BANDS: tuple[int | None, ...] = (None,) * len(BAND_FIELDS)
KIT_SCHEMA_VERSIONS = (1, 2, 3)
OTHER_SUPPLIER = "conformance-other"  # the supplier_id of the supplier_mismatch row


class KitError(IngestError):
    """A rows file the kit cannot use."""


@dataclass(frozen=True, slots=True)
class _Case:
    name: str
    practice_code: str
    day_offset: int  # days after the day the rows are made (negative: before)
    revision: int
    counts: tuple[int | None, int | None, int | None, int | None]  # total, clinical, admin, other
    outcome: Outcome
    reason: Reason | None = None
    other_supplier: bool = False
    bad_event_id: str | None = None
    bands: tuple[int | None, ...] = _NO_BANDS


_CASES: tuple[_Case, ...] = (
    _Case("new practice-day", "A81001", -1, 1, (10, 5, 3, 2), Outcome.ACCEPTED),
    _Case("restatement (higher revision)", "A81001", -1, 2, (12, 6, 4, 2), Outcome.ACCEPTED),
    _Case("counts without breakdown", "A81002", -2, 3, (9, None, None, None), Outcome.ACCEPTED),
    _Case("late lower revision", "A81002", -2, 2, (8, None, None, None), Outcome.SUPERSEDED),
    _Case("first send", "A81003", -1, 1, (7, None, None, None), Outcome.ACCEPTED),
    _Case(
        "re-send with the same figures", "A81003", -1, 1, (7, None, None, None), Outcome.DUPLICATE
    ),
    _Case(
        "same revision with other figures",
        "A81003",
        -1,
        1,
        (8, None, None, None),
        Outcome.REJECTED,
        Reason.CONFLICTING_REVISION,
    ),
    _Case(
        "another supplier's id in the body",
        "A81004",
        -1,
        1,
        (1, None, None, None),
        Outcome.REJECTED,
        Reason.SUPPLIER_MISMATCH,
        other_supplier=True,
    ),
    _Case(
        "event_id not a UUID",
        "A81005",
        -1,
        1,
        (1, None, None, None),
        Outcome.REJECTED,
        Reason.INVALID_EVENT_ID,
        bad_event_id="not-a-uuid",
    ),
    _Case(
        "lower-case practice code",
        "a81006",
        -1,
        1,
        (1, None, None, None),
        Outcome.REJECTED,
        Reason.INVALID_PRACTICE_CODE,
    ),
    _Case(
        "a day in the future",
        "A81007",
        2,
        1,
        (1, None, None, None),
        Outcome.REJECTED,
        Reason.ACTIVITY_DATE_OUT_OF_RANGE,
    ),
    _Case(
        "negative count",
        "A81008",
        -1,
        1,
        (-1, None, None, None),
        Outcome.REJECTED,
        Reason.NEGATIVE_COUNT,
    ),
    _Case(
        "breakdown not summing to the total",
        "A81009",
        -1,
        1,
        (10, 1, 1, 1),
        Outcome.REJECTED,
        Reason.INCONSISTENT_BREAKDOWN,
    ),
    _Case(
        "count above the plausibility cap",
        "A81010",
        -1,
        1,
        (100_001, None, None, None),
        Outcome.REJECTED,
        Reason.IMPLAUSIBLE_COUNT,
    ),
    _Case(
        "revision 0",
        "A81011",
        -1,
        1 - 1,
        (1, None, None, None),
        Outcome.REJECTED,
        Reason.INVALID_REVISION,
    ),
)
# Schema v3 only: the nine time bands (requests_00_06 ... requests_time_unknown).
_V3_CASES: tuple[_Case, ...] = (
    _Case(
        "time bands adding up to the total",
        "A81012",
        -1,
        1,
        (10, None, None, None),
        Outcome.ACCEPTED,
        bands=(1, 0, 3, 2, 1, 1, 1, 0, 1),
    ),
    _Case(
        "restatement changing only a time band",
        "A81012",
        -1,
        2,
        (10, None, None, None),
        Outcome.ACCEPTED,
        bands=(1, 0, 2, 3, 1, 1, 1, 0, 1),
    ),
    _Case(
        "time bands not adding up to the total",
        "A81013",
        -1,
        1,
        (10, None, None, None),
        Outcome.REJECTED,
        Reason.INCONSISTENT_BREAKDOWN,
        bands=(1, 0, 3, 2, 1, 1, 1, 0, 2),
    ),
    _Case(
        "time bands partly empty",
        "A81014",
        -1,
        1,
        (10, None, None, None),
        Outcome.REJECTED,
        Reason.INCONSISTENT_BREAKDOWN,
        bands=(1, 0, 3, 2, 1, 1, 1, 1, None),
    ),
)


@dataclass(frozen=True, slots=True)
class KitRow:
    """One row to send, with what must become of it."""

    case: str
    event_id: str
    supplier_id: str
    practice_code: str
    activity_date: dt.date
    revision: int
    counts: tuple[int | None, int | None, int | None, int | None]
    expected_outcome: Outcome
    expected_reason: Reason | None
    bands: tuple[int | None, ...] = _NO_BANDS

    @property
    def expected(self) -> str:
        return self.expected_outcome.value + (
            f" ({self.expected_reason.value})" if self.expected_reason else ""
        )


def make_rows(supplier_id: str, today: dt.date, schema_version: int = 1) -> list[KitRow]:
    """The kit's rows for a supplier's client writing ``schema_version``, dated relative to
    ``today``, with fresh event ids."""
    if schema_version not in KIT_SCHEMA_VERSIONS:
        raise KitError(
            f"schema version {schema_version} is not released"
            f" (choose {' or '.join(map(str, KIT_SCHEMA_VERSIONS))})"
        )
    cases = _CASES + (_V3_CASES if schema_version >= 3 else ())
    return [
        KitRow(
            case.name,
            case.bad_event_id or str(uuid.uuid4()),
            OTHER_SUPPLIER if case.other_supplier else supplier_id,
            case.practice_code,
            today + dt.timedelta(days=case.day_offset),
            case.revision,
            case.counts,
            case.outcome,
            case.reason,
            case.bands,
        )
        for case in cases
    ]


def write_rows(rows: Iterable[KitRow], path: Path) -> None:
    """Write the rows file; ConfigurationError (one line) when ``path`` is a link or a folder."""
    text = io.StringIO(newline="")
    writer = csv.writer(text)
    writer.writerow(ROW_COLUMNS)
    for row in rows:
        writer.writerow(
            [
                row.case,
                row.event_id,
                row.supplier_id,
                row.practice_code,
                row.activity_date.isoformat(),
                row.revision,
                *("" if n is None else n for n in row.counts),
                row.expected_outcome.value,
                row.expected_reason.value if row.expected_reason else "",
                *("" if n is None else n for n in row.bands),
            ]
        )
    with atomic_output(path) as sink:
        sink.write(text.getvalue().encode("utf-8"))


def read_rows(path: Path) -> list[KitRow]:
    """The rows of a kit file; KitError (one line) when it is not one."""
    try:
        with path.open(newline="", encoding="utf-8") as handle:
            reader = csv.DictReader(handle)
            if tuple(reader.fieldnames or ()) not in (ROW_COLUMNS, _V1_ROW_COLUMNS):
                raise KitError(
                    f"{path} is not a conformance rows file (header must be"
                    f" {','.join(ROW_COLUMNS)}); make one with `ingest conformance rows`"
                )
            return [_row(line) for line in reader]
    except OSError as exc:
        raise KitError(f"cannot read {path}: {exc.strerror}") from None
    except (ValueError, KeyError) as exc:
        raise KitError(f"{path}: a row cannot be read ({exc})") from None


def _row(line: Mapping[str, str]) -> KitRow:
    def count(name: str) -> int | None:
        return int(line[name]) if line[name] else None

    return KitRow(
        line["case"],
        line["event_id"],
        line["supplier_id"],
        line["practice_code"],
        dt.date.fromisoformat(line["activity_date"]),
        int(line["revision"]),
        (
            count("total_requests"),
            count("clinical_requests"),
            count("admin_requests"),
            count("other_requests"),
        ),
        Outcome(line["expected_outcome"]),
        Reason(line["expected_reason"]) if line["expected_reason"] else None,
        tuple(count(name) if name in line else None for name in BAND_FIELDS),
    )


@dataclass(frozen=True, slots=True)
class Verdict:
    """What became of one row against what must."""

    row: KitRow
    got: str  # e.g. "accepted", "rejected (negative_count)", "no outcome yet"

    @property
    def ok(self) -> bool:
        return self.got == self.row.expected


def verdicts(
    rows: Sequence[KitRow],
    outcomes: Mapping[str, tuple[Outcome, Reason | None]],
    refused: Mapping[str, Reason] | None = None,
) -> list[Verdict]:
    """Each row's verdict. ``outcomes``: by event_id, from the feedback topic; ``refused``:
    by event_id, rows the sending client refused before sending (the project's producer
    checks rows with the consumer's rules), which count as that rejection."""
    refused = refused or {}
    found = []
    for row in rows:
        if row.event_id in outcomes:
            outcome, reason = outcomes[row.event_id]
            got = outcome.value + (f" ({reason.value})" if reason else "")
        elif row.event_id in refused:
            got = f"{Outcome.REJECTED.value} ({refused[row.event_id].value})"
        else:
            got = "no outcome yet"
        found.append(Verdict(row, got))
    return found
