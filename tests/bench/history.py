"""Synthetic national history for ``make bench-scale`` (pure, no I/O): the rows of N years.

Shape (``HistorySpec`` defaults): 6,500 practices and 3 suppliers; each supplier feeds about
85% of the practices (a practice is fed by 2 or 3 of them, as when a practice runs more than one
online-triage product), so a year holds about 6 million practice-days, the 5 to 7 million of
national data. Every practice-day has revision 1, generated the next morning; 3% are restated
(revision 2, a day later), so the revisions table holds 1.03 rows per current row. Rejections
are 1% of the records, cycling through the validation reason codes, received with the feed;
those received more than the bytes' retention ago (``rejection_bytes_retention_days``) are
stored as the service's hourly purge leaves them (no key or value, ``bytes_purged_at`` set),
or the service started on the history would first purge years of them at once.

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

from ingest.settings import Settings
from tests.bench.data import practice_codes

SUB_ICBS = 106
ICBS = 42
MOVED_SHARE = 0.02
LIST_SIZE_EVERY_DAYS = 91
_EVENT_IDS = [uuid.UUID(int=(0x5CA1E << 96) + i) for i in range(4096)]
_WEEKDAY_LOAD = (1.35, 1.1, 1.0, 1.0, 0.95, 0.25, 0.15)  # Monday busiest, weekends quiet
# the purge's retention of every reason below (none is practice_not_participating)
_BYTES_KEPT = dt.timedelta(days=Settings.model_fields["rejection_bytes_retention_days"].default)
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


# The rest of a real ODS practice file (epraccur: about 16.5k rows of every organisation type)
# beside the active English GP practices: closed GP practices, other settings, Welsh and
# Crown Dependency rows. Shares as in the 2024-2026 files.
CLOSED_GP_PRACTICES = 3_200
OTHER_ORGANISATIONS = 6_300
WELSH_GP_PRACTICES = 400
OTHER_SETTINGS = (
    "walk_in_or_out_of_hours", "hospital", "community", "urgent_care", "justice", "other",
    "unknown",
)  # fmt: skip
PCN_MONTHS = 18  # monthly practice-map extracts (PCN and region) before the history's end
PCN_MOVED_SHARE = 0.03
NOT_PARTICIPATING_SHARE = 0.01
REGIONS = (("Y56", "LONDON"), ("Y58", "SOUTH WEST"), ("Y59", "SOUTH EAST"), ("Y60", "MIDLANDS"),
           ("Y61", "EAST OF ENGLAND"), ("Y62", "NORTH WEST"),
           ("Y63", "NORTH EAST AND YORKSHIRE"))  # fmt: skip


def _other_codes(n: int, first: int) -> list[str]:
    return [f"{chr(ord('A') + i % 26)}{first + i // 26:05d}" for i in range(n)]


def reference_rows(spec: HistorySpec) -> dict[str, list[tuple[object, ...]]]:
    """Rows of ref_practices, ref_memberships, ref_sub_icbs, ref_list_sizes, ref_pcns and
    ref_participation (no load_id), of a real file's size and shape: the fed practices plus
    closed GP practices (with their old memberships and list sizes), every other ODS
    organisation type, Welsh rows; memberships renamed at the CCG -> sub-ICB change and moved
    for a share; PCNs by monthly extract with moves; a share of practices not participating."""
    codes = practice_codes(spec.practices)
    since = spec.first_day - dt.timedelta(days=365)
    renamed_on = spec.first_day + dt.timedelta(days=spec.days // 3)
    moved_on = spec.first_day + dt.timedelta(days=spec.days // 2)
    practices: list[tuple[object, ...]] = []
    memberships: list[tuple[object, ...]] = []
    list_sizes: list[tuple[object, ...]] = []
    pcns: list[tuple[object, ...]] = []
    participation: list[tuple[object, ...]] = []
    extracts = range(0, spec.days + LIST_SIZE_EVERY_DAYS, LIST_SIZE_EVERY_DAYS)
    last = spec.first_day + dt.timedelta(days=spec.days - 1)
    pcn_extracts = [
        dt.date(last.year + (last.month - 1 - k) // 12, (last.month - 1 - k) % 12 + 1, 1)
        for k in range(PCN_MONTHS)
    ]
    for code in codes:
        first = _sub_icb(_hash("sub", code) % SUB_ICBS)
        practices.append(
            (code, f"PRACTICE {code}", first, since, None, None, 4, "england", "gp_practice")
        )
        memberships.append((code, f"0{first}", since, renamed_on - dt.timedelta(days=1)))
        if _hash("moved", code) % 1000 < MOVED_SHARE * 1000:
            second = _sub_icb((_hash("sub", code) + 1) % SUB_ICBS)
            memberships.append((code, first, renamed_on, moved_on - dt.timedelta(days=1)))
            memberships.append((code, second, moved_on, None))
        else:
            memberships.append((code, first, renamed_on, None))
        size = 2_000 + _hash("size", code) % 18_000
        for k, offset in enumerate(extracts):
            extract = spec.first_day + dt.timedelta(days=offset)
            list_sizes.append((code, extract, size + 10 * k))
        region_code, region_name = REGIONS[_hash("region", code) % len(REGIONS)]
        pcn = _hash("pcn", code) % 1_250
        moves = _hash("pcn-moved", code) % 1000 < PCN_MOVED_SHARE * 1000
        for k, extract in enumerate(pcn_extracts):
            this = pcn + 1 if moves and k < PCN_MONTHS // 2 else pcn
            pcns.append((code, extract, f"U{this:05d}", f"PCN {this}", region_code, region_name))
        participation.append((code, since, None))
    # Practices that did not sign up: open, with list sizes and PCNs, never fed (their events
    # would be rejected), absent from the participation list.
    for i, code in enumerate(_other_codes(round(spec.practices * NOT_PARTICIPATING_SHARE), 60_000)):
        sub_icb = _sub_icb(i % SUB_ICBS)
        practices.append(
            (code, f"PRACTICE {code}", sub_icb, since, None, None, 4, "england", "gp_practice")
        )
        memberships.append((code, sub_icb, since, None))
        list_sizes.append((code, since, 4_000 + i))
        pcns.extend((code, e, "U00001", "PCN 1", "Y56", "LONDON") for e in pcn_extracts)
    for i, code in enumerate(_other_codes(CLOSED_GP_PRACTICES, 20_000)):
        closed = since + dt.timedelta(days=_hash("closed", code) % (spec.days + 365))
        sub_icb = _sub_icb(i % SUB_ICBS)
        practices.append(
            (code, f"CLOSED {code}", sub_icb, since - dt.timedelta(days=3650), "C", closed, 4,
             "england", "gp_practice")
        )  # fmt: skip
        memberships.append((code, sub_icb, since, closed))
        list_sizes.append((code, since, 1_000 + i % 9_000))
    for i, code in enumerate(_other_codes(OTHER_ORGANISATIONS, 40_000)):
        status = "C" if i % 3 == 0 else None
        practices.append(
            (code, f"SERVICE {code}", _sub_icb(i % SUB_ICBS), since, status,
             since if status else None, 0, "england", OTHER_SETTINGS[i % len(OTHER_SETTINGS)])
        )  # fmt: skip
    for i in range(WELSH_GP_PRACTICES):
        code = f"W{90_000 + i:05d}"
        practices.append(
            (code, f"WELSH {code}", "7A1", since, None, None, 4, "wales", "gp_practice")
        )
        memberships.append((code, "7A1", since, None))
        list_sizes.append((code, since, 5_000))
    sub_icbs = [
        (_sub_icb(i), f"SUB-ICB {_sub_icb(i)}", f"QA{i % ICBS:02d}", f"ICB {i % ICBS:02d}", since)
        for i in range(SUB_ICBS)
    ] + [
        (
            f"0{_sub_icb(i)}",
            f"CCG 0{_sub_icb(i)}",
            f"QA{i % ICBS:02d}",
            f"ICB {i % ICBS:02d}",
            since,
        )
        for i in range(SUB_ICBS)
    ]
    return {
        "practices": practices,
        "memberships": memberships,
        "sub_icbs": sub_icbs,
        "list_sizes": list_sizes,
        "pcns": pcns,
        "participation": participation,
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
    "bytes_purged_at",
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
    purged_before = dt.datetime.now(dt.UTC) - _BYTES_KEPT
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
                            _rejection(supplier, practice, day, pick, stored, topic, offset,
                                       purged_before)
                        )  # fmt: skip
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
    purged_before: dt.datetime,
) -> tuple[object, ...]:
    """A row of REJECTION_COLUMNS, purged of its bytes if received before ``purged_before``."""
    reason, detail = _REASONS[pick % len(_REASONS)]
    if received < purged_before:
        purged = received + _BYTES_KEPT
        return (received, topic, HISTORY_PARTITION, offset, None, None, supplier, reason, detail,
                purged)  # fmt: skip
    key = f"{practice}:{day}".encode()
    value = b"\xc3\x01" + bytes(30)
    return (received, topic, HISTORY_PARTITION, offset, key, value, supplier, reason, detail, None)


def last_activity(spec: HistorySpec) -> Sequence[tuple[str, dt.datetime, dt.date]]:
    """supplier_activity rows as the history leaves them."""
    last_day = spec.end - dt.timedelta(days=1)
    stored = dt.datetime.combine(spec.end, dt.time(2, 3), dt.UTC)
    return [(s, stored, last_day) for s in spec.suppliers]
