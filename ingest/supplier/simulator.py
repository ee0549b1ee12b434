"""Realistic supplier traffic for demos and load tests (pure: it builds records, sends nothing).

Four invented suppliers share a few hundred invented GP practices (each practice uses one
supplier). Daily online-triage requests follow the practice's list size and the day of the
week: Monday is the busiest day, Friday the quietest weekday, weekends see a tenth of a
weekday's traffic (some practices switch online triage off at weekends). On top of the
plain daily feed the traffic carries what real feeds do:

* re-sends: the same counts sent again (new event_id)               -> ``duplicate``
* restatements: a practice-day corrected later with revision 2       -> ``accepted``
* late arrivals: revision 1 arriving after revision 2                -> ``superseded``
* conflicting re-sends: same revision, different counts              -> ``conflicting_revision``
* bad rows of every kind the contract names (bad practice code, negative or implausible
  count, broken breakdown, future date, revision 0, another supplier's id, unknown schema,
  truncated bytes)                                                    -> ``rejected``
* one supplier (``quietcare``) that goes silent: its feed stops days before the others'.

Everything is drawn from a seeded ``random.Random``: the same seed and day give the same
traffic (event ids and timestamps aside).
"""

from __future__ import annotations

import datetime as dt
import math
import random
import uuid
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from enum import StrEnum

from ingest.contract.encoding import encode_single_object, record_key
from ingest.contract.model import topic_for
from ingest.contract.schemas import SINGLE_OBJECT_MAGIC, version
from ingest.supplier.counts import DailyCounts

# Monday .. Sunday, relative to an average weekday.
WEEKDAY_FACTOR: tuple[float, ...] = (1.30, 1.05, 1.00, 0.95, 0.85, 0.12, 0.08)
PLAUSIBILITY_CAP = 100_000


class Kind(StrEnum):
    """Why a simulated record was sent."""

    DAILY = "daily"
    RESEND = "resend"
    RESTATEMENT = "restatement"
    LATE = "late"
    CONFLICT = "conflict"
    BAD = "bad"


@dataclass(frozen=True, slots=True)
class Practice:
    code: str
    list_size: int
    weekday_rate: float  # online requests per registered patient per average weekday
    weekend_off: bool


@dataclass(frozen=True, slots=True)
class SimSupplier:
    supplier_id: str
    name: str
    practices: tuple[Practice, ...]
    breakdown: bool  # sends clinical / admin / other
    schema_version: int  # 1 or 2 (v2 adds who submitted the requests)
    bad_rate: float  # share of records that break a rule
    silent_days: int = 0  # the feed stopped this many days before the others'


@dataclass(frozen=True, slots=True)
class SimRecord:
    """One Kafka record to send."""

    supplier_id: str
    topic: str
    key: bytes
    value: bytes
    kind: Kind
    note: str = ""  # for bad records: the rule broken (a contract reason code)


SUPPLIER_PROFILES: tuple[tuple[str, str, float, bool, int, float, int], ...] = (
    # name suffix, display name, share of practices, breakdown, schema, bad rate, silent days
    ("askfirst", "AskFirst Online", 0.40, True, 1, 0.004, 0),
    ("triagely", "Triagely", 0.30, True, 2, 0.004, 0),
    ("patchwork", "Patchwork Health", 0.20, False, 1, 0.03, 0),
    ("quietcare", "QuietCare", 0.10, True, 1, 0.004, 4),
)
SILENT_SUPPLIER = "quietcare"


def practices(count: int, rng: random.Random) -> list[Practice]:
    """Invented practices with distinct ODS-shaped codes and UK-like list sizes."""
    codes: set[str] = set()
    found: list[Practice] = []
    while len(found) < count:
        code = f"{rng.choice('ABCDEFGHJKLMNPY')}{rng.randint(81000, 89999)}"
        if code in codes:
            continue
        codes.add(code)
        size = int(min(max(rng.lognormvariate(math.log(9500), 0.45), 1800), 45000))
        found.append(Practice(code, size, rng.uniform(0.004, 0.015), rng.random() < 0.25))
    return found


def demo_suppliers(
    prefix: str = "demo-", practice_count: int = 300, seed: int = 7
) -> list[SimSupplier]:
    """The demo's suppliers, each serving its share of the practices."""
    rng = random.Random(seed)
    pool = practices(practice_count, rng)
    suppliers: list[SimSupplier] = []
    start = 0
    for i, (suffix, name, share, breakdown, schema, bad, silent) in enumerate(SUPPLIER_PROFILES):
        last = i == len(SUPPLIER_PROFILES) - 1
        end = practice_count if last else start + max(1, round(practice_count * share))
        suppliers.append(
            SimSupplier(
                f"{prefix}{suffix}", name, tuple(pool[start:end]), breakdown, schema, bad, silent
            )
        )
        start = end
    return suppliers


def day_counts(
    practice: Practice, day: dt.date, supplier: SimSupplier, rng: random.Random
) -> DailyCounts:
    """One practice-day's counts: list size x rate x day-of-week factor, with noise."""
    weekday = day.weekday()
    if weekday >= 5 and practice.weekend_off:
        mean = 0.0
    else:
        mean = practice.list_size * practice.weekday_rate * WEEKDAY_FACTOR[weekday]
    total = max(0, round(rng.gauss(mean, math.sqrt(mean) + 0.5))) if mean else 0
    clinical = admin = other = None
    if supplier.breakdown:
        clinical = round(total * rng.uniform(0.55, 0.72))
        admin = min(total - clinical, round(total * rng.uniform(0.2, 0.35)))
        other = total - clinical - admin
    patient = staff = None
    if supplier.schema_version >= 2:
        patient = round(total * rng.uniform(0.82, 0.95))
        staff = total - patient
    return DailyCounts(
        practice.code,
        day,
        total,
        clinical,
        admin,
        other,
        revision=1,
        patient_submitted_requests=patient,
        staff_submitted_requests=staff,
    )


def encode(supplier: SimSupplier, counts: DailyCounts, generated_at: dt.datetime) -> bytes:
    """Single-object encoding with the supplier's writer schema."""
    schema = version(supplier.schema_version)
    event = counts.event(supplier.supplier_id, str(uuid.uuid4()), generated_at)
    fields = set(schema.field_names)
    return encode_single_object({k: v for k, v in event.items() if k in fields}, schema)


def _record(
    supplier: SimSupplier,
    counts: DailyCounts,
    kind: Kind,
    at: dt.datetime,
    note: str = "",
    value: bytes | None = None,
) -> SimRecord:
    return SimRecord(
        supplier.supplier_id,
        topic_for(supplier.supplier_id),
        record_key(counts.practice_code, counts.activity_date),
        value if value is not None else encode(supplier, counts, at),
        kind,
        note,
    )


BAD_KINDS: tuple[str, ...] = (
    "invalid_practice_code",
    "negative_count",
    "inconsistent_breakdown",
    "implausible_count",
    "activity_date_out_of_range",
    "invalid_revision",
    "supplier_mismatch",
    "unknown_schema",
    "undecodable",
)


def bad_record(
    supplier: SimSupplier,
    counts: DailyCounts,
    today: dt.date,
    other_supplier: str,
    at: dt.datetime,
    rng: random.Random,
) -> SimRecord:
    """A record that breaks one rule of the contract (which one: drawn)."""
    broken = rng.choice(BAD_KINDS)
    bad = counts
    value: bytes | None = None
    match broken:
        case "invalid_practice_code":
            bad = replace(counts, practice_code=counts.practice_code.lower())
        case "negative_count":
            bad = replace(counts, total_requests=-counts.total_requests - 1)
        case "inconsistent_breakdown":
            bad = replace(counts, clinical_requests=1, admin_requests=1, other_requests=1)
            bad = replace(bad, total_requests=counts.total_requests + 7)
        case "implausible_count":
            bad = replace(counts, total_requests=PLAUSIBILITY_CAP + rng.randint(1, 10**6))
            bad = replace(bad, clinical_requests=None, admin_requests=None, other_requests=None)
        case "activity_date_out_of_range":
            bad = replace(counts, activity_date=today + dt.timedelta(days=rng.randint(1, 30)))
        case "invalid_revision":
            bad = replace(counts, revision=0)
        case "supplier_mismatch":
            foreign = replace(supplier, supplier_id=other_supplier)
            value = encode(foreign, counts, at)
        case "unknown_schema":
            body = encode(supplier, counts, at)[10:]
            value = SINGLE_OBJECT_MAGIC + rng.randbytes(8) + body
        case _:  # undecodable: a truncated record
            value = encode(supplier, counts, at)[: rng.randint(3, 20)]
    return _record(supplier, bad, Kind.BAD, at, broken, value)


def traffic(
    suppliers: Sequence[SimSupplier],
    today: dt.date,
    days: int = 7,
    seed: int = 7,
    now: dt.datetime | None = None,
) -> list[SimRecord]:
    """Every record of ``days`` days of feeds, in sending order per supplier: each feed ends
    yesterday, except the silent supplier's, which ended ``silent_days`` earlier."""
    rng = random.Random(seed * 7919 + today.toordinal())
    at = now or dt.datetime.now(dt.UTC)
    others = [s.supplier_id for s in suppliers]
    out: list[SimRecord] = []
    for supplier in suppliers:
        last_day = today - dt.timedelta(days=1 + supplier.silent_days)
        first_day = last_day - dt.timedelta(days=days - 1)
        day = first_day
        while day <= last_day:
            out.extend(_supplier_day(supplier, day, today, others, at, rng))
            day += dt.timedelta(days=1)
    return out


def _supplier_day(
    supplier: SimSupplier,
    day: dt.date,
    today: dt.date,
    others: Sequence[str],
    at: dt.datetime,
    rng: random.Random,
) -> Iterator[SimRecord]:
    older = (today - day).days > 2  # old enough to have been corrected
    for practice in supplier.practices:
        counts = day_counts(practice, day, supplier, rng)
        roll = rng.random()
        if roll < supplier.bad_rate:
            other = rng.choice([s for s in others if s != supplier.supplier_id] or ["nobody"])
            yield bad_record(supplier, counts, today, other, at, rng)
            continue
        corrected = replace(counts, revision=2, total_requests=counts.total_requests + 3)
        if supplier.breakdown and corrected.other_requests is not None:
            corrected = replace(corrected, other_requests=corrected.other_requests + 3)
        if supplier.schema_version >= 2 and corrected.staff_submitted_requests is not None:
            corrected = replace(
                corrected, staff_submitted_requests=corrected.staff_submitted_requests + 3
            )
        if older and roll < supplier.bad_rate + 0.005:
            yield _record(supplier, corrected, Kind.RESTATEMENT, at)  # revision 2 first...
            yield _record(supplier, counts, Kind.LATE, at)  # ...then the late revision 1
            continue
        yield _record(supplier, counts, Kind.DAILY, at)
        if roll > 0.98:
            yield _record(supplier, counts, Kind.RESEND, at)
        elif older and roll > 0.95:
            yield _record(supplier, corrected, Kind.RESTATEMENT, at)
        elif 0.947 < roll <= 0.95:
            conflicting = replace(counts, total_requests=counts.total_requests + 1)
            if supplier.breakdown and conflicting.other_requests is not None:
                conflicting = replace(conflicting, other_requests=conflicting.other_requests + 1)
            if supplier.schema_version >= 2 and conflicting.staff_submitted_requests is not None:
                conflicting = replace(
                    conflicting,
                    staff_submitted_requests=conflicting.staff_submitted_requests + 1,
                )
            yield _record(supplier, conflicting, Kind.CONFLICT, at, "conflicting_revision")


def kinds_by_supplier(records: Sequence[SimRecord]) -> dict[str, Counter[str]]:
    """How many records of each kind per supplier (bad ones by the rule they break)."""
    found: dict[str, Counter[str]] = {}
    for r in records:
        found.setdefault(r.supplier_id, Counter())[r.kind.value] += 1
    return found
