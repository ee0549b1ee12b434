"""The benchmark's data set (pure, no I/O): N encoded Kafka records and the state they must
leave in Postgres.

Shape (defaults of ``Spec``): ``practices`` GP practices (6,500), each reporting one event per
day to one of three suppliers, oldest day first, for as many days as N needs (about 290 for 2
million); 5% of N are re-sends and restatements placed later in the stream than the event they
repeat (half re-sends: mostly same figures = ``duplicate``, one in ten with other figures =
``conflicting_revision``; half restatements: revision 2 = ``accepted``, one in ten as revision 3
followed later by revision 2 = ``superseded``); 1% invalid, cycling through the contract's
reason codes (undecodable and unknown_schema bytes included). With ``writers="mixed"`` (the
default) one supplier writes schema v1, one v2, one a mix of both; with ``writers="v3"`` every
supplier writes schema v3, 85% of events with the nine time bands (summing to the total), the
rest with them null; with ``writers="v1"`` every supplier writes v1.

Values are Avro single-object encoded by hand (zig-zag varints, the same bytes fastavro
writes: ``test_bench_smoke`` checks that) because fastavro's writer would make generating 2
million events take longer than ingesting them.

``expected_state`` replays the stream with the contract's rules (CONTRACT section 3) to give
the exact final tables, independently of the service's code.
"""

from __future__ import annotations

import datetime as dt
import math
import random
import zlib
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field

from ingest.contract.encoding import record_key
from ingest.contract.model import BAND_FIELDS, COUNT_FIELDS, Reason
from ingest.contract.schemas import SINGLE_OBJECT_MAGIC, version

EPOCH = dt.date(1970, 1, 1)
EPOCH_DT = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
SUPPLIER_NAMES = ("askmygp", "klinik", "patchs")
_PRACTICE_LETTERS = "ABCDEFGHJKLMNPWY"

# Figures in the order of ingest.contract.model.COUNT_FIELDS (the fields a writer version lacks
# are null: v1 leaves the v2 pair and the bands null, v2 the bands).
Figures = tuple[int | None, ...]
WRITERS = ("mixed", "v1", "v3")
_V1_FIGURES, _V2_FIGURES = 4, 6
_NO_BANDS: tuple[None, ...] = (None,) * len(BAND_FIELDS)
Key = tuple[str, str, dt.date]


@dataclass(frozen=True)
class Spec:
    """What to generate."""

    events: int = 2_000_000
    practices: int = 6_500
    suppliers: tuple[str, ...] = SUPPLIER_NAMES
    partitions: int = 6
    resend_share: float = 0.025
    restatement_share: float = 0.025
    invalid_share: float = 0.01
    seed: int = 20261125
    prefix: str = "bench"  # supplier ids are f"{prefix}-{name}"
    writers: str = "mixed"  # one of WRITERS


@dataclass(frozen=True, slots=True)
class Item:
    """One Kafka record of the stream, with what it is meant to be (for expected_state)."""

    supplier: str  # topic's supplier id
    partition: int
    key: bytes
    value: bytes
    event_key: Key | None  # None for records that never reach resolution
    revision: int
    figures: Figures
    event_id: str
    generated_ms: int
    reason: Reason | None  # the rejection reason when invalid by construction


@dataclass
class DataSet:
    spec: Spec
    today: dt.date
    suppliers: list[str]
    items: list[Item]
    days: int

    @property
    def topics(self) -> list[str]:
        return [f"triage.daily.{s}" for s in self.suppliers]


@dataclass
class Expected:
    """The exact state of the tables after every record was processed once, in order."""

    current: dict[Key, tuple[int, Figures, str]] = field(default_factory=dict)
    revisions: dict[tuple[str, str, dt.date, int], Figures] = field(default_factory=dict)
    rejected: Counter[str] = field(default_factory=Counter)
    outcomes: Counter[str] = field(default_factory=Counter)


# --- Avro binary, by hand ------------------------------------------------------------------


def zigzag_varint(n: int) -> bytes:
    """Avro's long: zig-zag, then base-128 varint."""
    z = (n << 1) ^ (n >> 63)
    out = bytearray()
    while z & ~0x7F:
        out.append((z & 0x7F) | 0x80)
        z >>= 7
    out.append(z)
    return bytes(out)


_SMALL = [zigzag_varint(i) for i in range(1 << 14)]


def _long(n: int) -> bytes:
    return _SMALL[n] if 0 <= n < len(_SMALL) else zigzag_varint(n)


def _string(s: str) -> bytes:
    raw = s.encode()
    return _long(len(raw)) + raw


def _opt(n: int | None) -> bytes:
    return b"\x00" if n is None else b"\x02" + _long(n)


_HEADERS = {v: SINGLE_OBJECT_MAGIC + version(v).fingerprint for v in (1, 2, 3)}


def encode_value(
    schema_version: int,
    event_id: str,
    supplier_id: str,
    practice_code: str,
    day: dt.date,
    revision: int,
    generated_ms: int,
    figures: Figures,
) -> bytes:
    """Avro single-object encoding of one event, written with released schema v1, v2 or v3."""
    total, clinical, admin, other, patient, staff = figures[:_V2_FIGURES]
    parts = [
        _HEADERS[schema_version],
        _string(event_id),
        _string(supplier_id),
        _string(practice_code),
        _long((day - EPOCH).days),
        _long(revision),
        _long(generated_ms),
        _long(total if total is not None else 0),
        _opt(clinical),
        _opt(admin),
        _opt(other),
    ]
    if schema_version >= 2:
        parts += [_opt(patient), _opt(staff)]
    if schema_version >= 3:
        parts += [_opt(b) for b in figures[_V2_FIGURES:]]
    return b"".join(parts)


# --- generation ----------------------------------------------------------------------------


def practice_codes(n: int) -> list[str]:
    """n distinct valid ODS-style practice codes."""
    letters = len(_PRACTICE_LETTERS)
    return [f"{_PRACTICE_LETTERS[i % letters]}{80000 + i // letters:05d}" for i in range(n)]


def _bands(rng: random.Random, total: int) -> Figures:
    cuts = sorted(rng.randrange(total + 1) for _ in range(len(BAND_FIELDS) - 1))
    return tuple(b - a for a, b in zip([0, *cuts], [*cuts, total], strict=True))


def _figures(rng: random.Random, v2: bool, v3: bool = False) -> Figures:
    total = rng.randrange(0, 400)
    clinical = admin = other = None
    if rng.random() < 0.7:
        clinical = rng.randrange(total + 1)
        admin = rng.randrange(total - clinical + 1)
        other = total - clinical - admin
    patient = staff = None
    if v2 and rng.random() < 0.8:
        patient = rng.randrange(total + 1)
        staff = total - patient
    bands = _bands(rng, total) if v3 and rng.random() < 0.85 else _NO_BANDS
    return (total, clinical, admin, other, patient, staff, *bands)


def _other_figures(rng: random.Random, old: Figures, v2: bool, v3: bool = False) -> Figures:
    while True:
        new = _figures(rng, v2, v3)
        if new != old:
            return new


_INVALID_KINDS: tuple[Reason, ...] = (
    Reason.INVALID_PRACTICE_CODE,
    Reason.NEGATIVE_COUNT,
    Reason.INCONSISTENT_BREAKDOWN,
    Reason.ACTIVITY_DATE_OUT_OF_RANGE,
    Reason.IMPLAUSIBLE_COUNT,
    Reason.INVALID_REVISION,
    Reason.SUPPLIER_MISMATCH,
    Reason.UNDECODABLE,
    Reason.UNKNOWN_SCHEMA,
)


class _Builder:
    def __init__(self, spec: Spec, today: dt.date, suppliers: list[str]) -> None:
        self.spec, self.today, self.suppliers = spec, today, suppliers
        self.rng = random.Random(spec.seed)
        self.serial = 0
        self.base_ms = int(
            (dt.datetime.combine(today, dt.time(2)) - dt.datetime(1970, 1, 1)).total_seconds()
            * 1000
        )

    def _writer_version(self, supplier_index: int) -> int:
        if self.spec.writers != "mixed":
            return int(self.spec.writers[1:])
        if supplier_index % 3 == 0:
            return 1
        if supplier_index % 3 == 1:
            return 2
        return 1 + (self.serial & 1)

    def item(
        self,
        supplier_index: int,
        practice: str,
        day: dt.date,
        revision: int,
        figures: Figures,
        reason: Reason | None = None,
    ) -> Item:
        self.serial += 1
        supplier = self.suppliers[supplier_index]
        schema_version = self._writer_version(supplier_index)
        carried = {1: _V1_FIGURES, 2: _V2_FIGURES}.get(schema_version, len(COUNT_FIELDS))
        figures = (*figures[:carried], *(None,) * (len(COUNT_FIELDS) - carried))
        event_id = f"{self.spec.seed & 0xFFFFFFFF:08x}-0000-4000-8000-{self.serial:012x}"
        generated_ms = self.base_ms - (self.today - day).days * 3_600_000 + self.serial % 1000
        key = record_key(practice, day)
        claimed = supplier
        if reason is Reason.SUPPLIER_MISMATCH:
            claimed = self.suppliers[(supplier_index + 1) % len(self.suppliers)]
        value = encode_value(
            schema_version, event_id, claimed, practice, day, revision, generated_ms, figures
        )
        if reason is Reason.UNDECODABLE:
            value = b"\x7f" + value[1:]
        elif reason is Reason.UNKNOWN_SCHEMA:
            value = SINGLE_OBJECT_MAGIC + b"\x00" * 8 + value[10:]
        return Item(
            supplier=supplier,
            partition=zlib.crc32(key) % self.spec.partitions,
            key=key,
            value=value,
            event_key=(supplier, practice, day) if reason is None else None,
            revision=revision,
            figures=figures,
            event_id=event_id,
            generated_ms=generated_ms,
            reason=reason,
        )

    def invalid(self, supplier_index: int, practice: str, day: dt.date, n: int) -> Item:
        kind = _INVALID_KINDS[n % len(_INVALID_KINDS)]
        figures = _figures(self.rng, False)
        revision = 1
        if kind is Reason.INVALID_PRACTICE_CODE:
            practice = practice.lower()
        elif kind is Reason.NEGATIVE_COUNT:
            figures = (5, None, -1, None, None, None, *_NO_BANDS)
        elif kind is Reason.INCONSISTENT_BREAKDOWN:
            figures = (10, 5, 4, 3, None, None, *_NO_BANDS)
        elif kind is Reason.ACTIVITY_DATE_OUT_OF_RANGE:
            day = self.today + dt.timedelta(days=3)
        elif kind is Reason.IMPLAUSIBLE_COUNT:
            figures = (250_000, None, None, None, None, None, *_NO_BANDS)
        elif kind is Reason.INVALID_REVISION:
            revision = 0
        return self.item(supplier_index, practice, day, revision, figures, kind)


def generate(spec: Spec, today: dt.date) -> DataSet:
    """The whole stream, in production order per partition."""
    suppliers = [f"{spec.prefix}-{name}" for name in spec.suppliers]
    n_invalid = round(spec.events * spec.invalid_share)
    n_resend = round(spec.events * spec.resend_share)
    n_restate = round(spec.events * spec.restatement_share)
    late_pairs = n_restate // 20  # each late pair is 2 records (rev 3, then rev 2)
    n_restate_simple = n_restate - 2 * late_pairs
    n_base = spec.events - n_invalid - n_resend - n_restate
    if n_base < 1:
        raise ValueError("too few events for the mix")
    if spec.writers not in WRITERS:
        raise ValueError(f"writers {spec.writers!r} is not one of {', '.join(WRITERS)}")
    v3 = spec.writers == "v3"

    def v2(s: int) -> bool:  # the supplier writes the v2 pair (v1-only suppliers do not)
        return spec.writers == "v3" or (spec.writers == "mixed" and s % 3 != 0)

    practices = practice_codes(min(spec.practices, n_base))
    days = math.ceil(n_base / len(practices))
    if days > 390:
        raise ValueError(f"{days} days exceed the 400-day horizon: raise --practices")
    b = _Builder(spec, today, suppliers)
    rng = b.rng

    base: list[Item] = []
    for d in range(days, 0, -1):
        day = today - dt.timedelta(days=d)
        for p, practice in enumerate(practices):
            if len(base) == n_base:
                break
            s = p % len(suppliers)
            base.append(b.item(s, practice, day, 1, _figures(rng, v2(s), v3)))

    after: dict[int, list[Item]] = {}

    def later(j: int, item: Item, gap: int = 100_000) -> int:
        at = min(n_base - 1, j + rng.randrange(1, gap))
        after.setdefault(at, []).append(item)
        return at

    def origin() -> tuple[int, Item, int, str, dt.date]:
        j = rng.randrange(n_base)
        o = base[j]
        assert o.event_key is not None
        return j, o, suppliers.index(o.supplier), o.event_key[1], o.event_key[2]

    for n in range(n_resend):
        j, o, s, practice, day = origin()
        figures = o.figures if n % 10 else _other_figures(rng, o.figures, v2(s), v3)
        later(j, b.item(s, practice, day, 1, figures))
    for _ in range(n_restate_simple):
        j, o, s, practice, day = origin()
        later(j, b.item(s, practice, day, 2, _other_figures(rng, o.figures, v2(s), v3)))
    for _ in range(late_pairs):
        j, o, s, practice, day = origin()
        at = later(j, b.item(s, practice, day, 3, _other_figures(rng, o.figures, v2(s), v3)))
        later(at, b.item(s, practice, day, 2, _other_figures(rng, o.figures, v2(s), v3)))
    for n in range(n_invalid):
        j, _, s, practice, day = origin()
        after.setdefault(j, []).append(b.invalid(s, practice, day, n))

    items: list[Item] = []
    for j, item in enumerate(base):
        items.append(item)
        extra = after.get(j)
        if extra:
            items.extend(extra)
    return DataSet(spec, today, suppliers, items, days)


def by_partition(items: list[Item]) -> Iterator[tuple[str, int, list[Item]]]:
    """Items grouped by (supplier, partition), keeping their order."""
    groups: dict[tuple[str, int], list[Item]] = {}
    for item in items:
        groups.setdefault((item.supplier, item.partition), []).append(item)
    for (supplier, partition), group in sorted(groups.items()):
        yield supplier, partition, group


def expected_state(data: DataSet) -> Expected:
    """Replay the stream with the contract's rules (independent of the service's code).

    The items are replayed in the order generated, across partitions: right because only one
    key's items affect each other, and a key's items share a partition (the crc32 of the key)
    and are produced to it in order, so the service reads them in that order (the contract's
    per-key order). Items of different keys may be read in any order."""
    out = Expected()
    seen: dict[Key, dict[int, Figures]] = {}
    for item in data.items:
        if item.reason is not None or item.event_key is None:
            out.rejected[(item.reason or Reason.UNDECODABLE).value] += 1
            out.outcomes["rejected"] += 1
            continue
        key = item.event_key
        revisions = seen.setdefault(key, {})
        known = revisions.get(item.revision)
        if known is not None:
            if known == item.figures:
                out.outcomes["duplicate"] += 1
            else:
                out.rejected[Reason.CONFLICTING_REVISION.value] += 1
                out.outcomes["rejected"] += 1
            continue
        top = max(revisions) if revisions else None
        revisions[item.revision] = item.figures
        out.revisions[(*key, item.revision)] = item.figures
        if top is None or item.revision > top:
            out.current[key] = (item.revision, item.figures, item.event_id)
            out.outcomes["accepted"] += 1
        else:
            out.outcomes["superseded"] += 1
    return out


def generated_at(item: Item) -> dt.datetime:
    return EPOCH_DT + dt.timedelta(milliseconds=item.generated_ms)
