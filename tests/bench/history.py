"""Synthetic national history for ``make bench-scale`` (pure, no I/O): the rows of N years.

Shape (``HistorySpec`` defaults): 6,500 practices and 3 suppliers; each supplier feeds about
85% of the practices (a practice is fed by 2 or 3 of them, as when a practice runs more than one
online-triage product), so a year holds about 6 million practice-days, the 5 to 7 million of
issue 16. Every practice-day has revision 1, generated the next morning; 3% are restated
(revision 2, a day later), so the revisions table holds 1.03 rows per current row. Rejections
are 1% of the records, cycling through the validation reason codes, received with the feed.

The reference data make the exports realistic: 106 sub-ICB locations in 42 ICBs, every
practice a member of one sub-ICB since before the history starts (2% moved to another sub-ICB
half-way), and a list size per practice per quarter.

History ends the day before ``end`` (the backlog of the benchmark starts there), so the
backlog's practice-days are never in it: the backlog's outcomes are the same on an empty
database and on the history, and its rows can be checked exactly on both.
"""

from __future__ import annotations

import datetime as dt
import uuid
import zlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from tests.bench.data import practice_codes

SUB_ICBS = 106
ICBS = 42
MOVED_SHARE = 0.02
LIST_SIZE_EVERY_DAYS = 91
_EVENT_IDS = [uuid.UUID(int=(0x5CA1E << 96) + i) for i in range(4096)]
_WEEKDAY_LOAD = (1.35, 1.1, 1.0, 1.0, 0.95, 0.25, 0.15)  # Monday busiest, weekends quiet
_REASONS = (
    ("invalid_practice_code", "practice_code 'X1' is not an ODS GP practice code (A12345)"),
    ("negative_count", "admin_requests is -1"),
    ("inconsistent_breakdown", "clinical + admin + other = 12 != total_requests 10"),
    ("implausible_count", "total_requests 250000 is above the cap 100000"),
    ("activity_date_out_of_range", "activity_date is after today"),
)


@dataclass(frozen=True)
class HistorySpec:
    """What to generate: ``years`` of days ending the day before ``end``."""

    suppliers: tuple[str, ...]
    end: dt.date
    years: float = 5.0
    practices: int = 6_500
    coverage: float = 0.85  # share of the practices each supplier feeds
    restatement_share: float = 0.03
    rejection_share: float = 0.01

    @property
    def days(self) -> int:
        return max(1, round(self.years * 365.25))

    @property
    def first_day(self) -> dt.date:
        return self.end - dt.timedelta(days=self.days)

    def day_list(self) -> list[dt.date]:
        return [self.first_day + dt.timedelta(days=i) for i in range(self.days)]


def _hash(*parts: object) -> int:
    return zlib.crc32("|".join(map(str, parts)).encode())


def fed_practices(spec: HistorySpec) -> dict[str, list[tuple[str, int]]]:
    """Supplier -> [(practice code, its usual daily requests)] it feeds."""
    codes = practice_codes(spec.practices)
    cut = int(spec.coverage * 1000)
    out: dict[str, list[tuple[str, int]]] = {}
    for s in spec.suppliers:
        out[s] = [(p, 20 + _hash(p, s) % 180) for p in codes if _hash(s, p) % 1000 < cut]
    return out


def _sub_icb(i: int) -> str:
    return f"{10 + i % 90}{chr(ord('A') + i // 90)}"  # 10A .. 99A, 10B ..


def reference_rows(spec: HistorySpec) -> dict[str, list[tuple[object, ...]]]:
    """Rows of ref_practices, ref_memberships, ref_sub_icbs and ref_list_sizes (no load_id)."""
    codes = practice_codes(spec.practices)
    since = spec.first_day - dt.timedelta(days=365)
    moved_on = spec.first_day + dt.timedelta(days=spec.days // 2)
    practices: list[tuple[object, ...]] = []
    memberships: list[tuple[object, ...]] = []
    list_sizes: list[tuple[object, ...]] = []
    extracts = range(0, spec.days + LIST_SIZE_EVERY_DAYS, LIST_SIZE_EVERY_DAYS)
    for code in codes:
        first = _sub_icb(_hash("sub", code) % SUB_ICBS)
        practices.append((code, f"PRACTICE {code}", first, since, 4, "england", "gp_practice"))
        if _hash("moved", code) % 1000 < MOVED_SHARE * 1000:
            second = _sub_icb((_hash("sub", code) + 1) % SUB_ICBS)
            memberships.append((code, first, since, moved_on - dt.timedelta(days=1)))
            memberships.append((code, second, moved_on, None))
        else:
            memberships.append((code, first, since, None))
        size = 2_000 + _hash("size", code) % 18_000
        for k, offset in enumerate(extracts):
            extract = spec.first_day + dt.timedelta(days=offset)
            list_sizes.append((code, extract, size + 10 * k))
    sub_icbs = [
        (_sub_icb(i), f"SUB-ICB {_sub_icb(i)}", f"QA{i % ICBS:02d}", f"ICB {i % ICBS:02d}", since)
        for i in range(SUB_ICBS)
    ]
    return {
        "practices": practices,
        "memberships": memberships,
        "sub_icbs": sub_icbs,
        "list_sizes": list_sizes,
    }


CURRENT_COLUMNS = (
    "supplier_id",
    "practice_code",
    "activity_date",
    "revision",
    "total_requests",
    "clinical_requests",
    "admin_requests",
    "other_requests",
    "event_id",
    "generated_at",
    "ingested_at",
)
REVISION_COLUMNS = (*CURRENT_COLUMNS, "source_topic", "source_partition", "source_offset")
REJECTION_COLUMNS = (
    "received_at",
    "source_topic",
    "source_partition",
    "source_offset",
    "key",
    "value",
    "supplier_id",
    "reason",
    "detail",
)
HISTORY_PARTITION = 1_000  # history rows name partitions no benchmark topic has


@dataclass
class HistoryChunk:
    """The rows of a run of consecutive days."""

    current: list[tuple[object, ...]]
    revisions: list[tuple[object, ...]]
    rejections: list[tuple[object, ...]]


def history_chunks(spec: HistorySpec, days_per_chunk: int = 14) -> Iterator[HistoryChunk]:
    """The history, a few days at a time, oldest first (memory stays small)."""
    fed = fed_practices(spec)
    days = spec.day_list()
    restate_cut = int(spec.restatement_share * 10_000)
    reject_cut = int(spec.rejection_share * 10_000)
    offset = 0
    serial = 0
    for start in range(0, len(days), days_per_chunk):
        chunk = HistoryChunk([], [], [])
        for day in days[start : start + days_per_chunk]:
            load = _WEEKDAY_LOAD[day.weekday()]
            generated = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(2), dt.UTC)
            stored = generated + dt.timedelta(minutes=3)
            restated = stored + dt.timedelta(days=1)
            ordinal = day.toordinal()
            for supplier, practices in fed.items():
                topic = f"triage.daily.{supplier}"
                for practice, usual in practices:
                    serial += 1
                    total = int(usual * load)
                    row = _row(supplier, practice, day, 1, total, serial, generated, stored)
                    offset += 1
                    chunk.revisions.append((*row, topic, HISTORY_PARTITION, offset))
                    pick = (serial * 2_654_435_761 + ordinal) % 10_000
                    if pick < restate_cut:
                        total += 1 + pick % 7
                        row = _row(supplier, practice, day, 2, total, serial, generated, restated)
                        offset += 1
                        chunk.revisions.append((*row, topic, HISTORY_PARTITION, offset))
                    chunk.current.append(row)
                    if pick >= 10_000 - reject_cut:
                        offset += 1
                        chunk.rejections.append(
                            _rejection(supplier, practice, day, pick, stored, topic, offset)
                        )
        yield chunk


def _row(
    supplier: str,
    practice: str,
    day: dt.date,
    revision: int,
    total: int,
    serial: int,
    generated: dt.datetime,
    stored: dt.datetime,
) -> tuple[object, ...]:
    """A row of CURRENT_COLUMNS: 60% clinical, 30% admin, the rest other."""
    clinical, admin = total * 6 // 10, total * 3 // 10
    event_id = _EVENT_IDS[serial & 4095]
    return (supplier, practice, day, revision, total, clinical, admin, total - clinical - admin,
            event_id, generated, stored)  # fmt: skip


def _rejection(
    supplier: str,
    practice: str,
    day: dt.date,
    pick: int,
    received: dt.datetime,
    topic: str,
    offset: int,
) -> tuple[object, ...]:
    """A row of REJECTION_COLUMNS."""
    reason, detail = _REASONS[pick % len(_REASONS)]
    key = f"{practice}:{day}".encode()
    value = b"\xc3\x01" + bytes(30)
    return (received, topic, HISTORY_PARTITION, offset, key, value, supplier, reason, detail)


def last_activity(spec: HistorySpec) -> Sequence[tuple[str, dt.datetime, dt.date]]:
    """supplier_activity rows as the history leaves them."""
    last_day = spec.end - dt.timedelta(days=1)
    stored = dt.datetime.combine(spec.end, dt.time(2, 3), dt.UTC)
    return [(s, stored, last_day) for s in spec.suppliers]
