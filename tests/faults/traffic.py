"""Realistic mixed supplier traffic and poison, each record with the intent it was built with.

Everything is seeded (``random.Random(seed)``): a failing run is replayed with the same seed.

* :meth:`Traffic.mixed` — several suppliers and practices over the last weeks; per
  practice-day a *story* (a first report, re-sends with a new event_id or the very same bytes,
  restatements, restatements arriving out of order, conflicting revisions, a v1 re-send of a
  v2 event), interleaved at random, plus bad events of every reason code on every kind of
  topic (registered, inactive supplier, unregistered supplier, a name that is no supplier id).
* :meth:`Traffic.poison` — the bad-input corpus: random byte strings, truncated and
  bit-flipped Avro, empty and null values, 1 MB values, wrong magic bytes, unknown
  fingerprints and schema ids, strings that are not UTF-8, keys that are not UTF-8.

Each :class:`Outgoing` record says what it must turn into: ``intent`` is the oracle's verdict
(:class:`tests.support.oracle.Valid` or :class:`tests.support.oracle.Invalid`) when it is known by
construction, ``None`` for a bit-flipped Avro body (whatever a flip decodes to is up to the
service's decoder); ``meant`` is the outcome the generator expects when the records are
processed in the order generated ("accepted", "superseded", "duplicate" or a reason code).

Valid events of one practice-day always go to one partition (chosen from the logical key,
whatever the record key is), so the outcome of every record is decided by offset order alone.
"""

from __future__ import annotations

import datetime as dt
import random
import uuid
import zlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from ingest.clock import local_today, system_clock
from ingest.consumer.decoding import Decoder
from ingest.consumer.pipeline import check_record
from ingest.consumer.types import RawRecord
from ingest.contract.encoding import encode_single_object, record_key
from ingest.contract.model import COUNT_FIELDS, Rejection, topic_for
from ingest.contract.schemas import by_fingerprint, version
from ingest.contract.validation import Limits
from tests.support.oracle import (
    ACCEPTED,
    DUPLICATE,
    SUPERSEDED,
    Invalid,
    Valid,
    Verdict,
)

PLAUSIBILITY_CAP = 100_000
HORIZON_DAYS = 400
ONE_MB = 1024 * 1024
VALID_DAYS = 45  # valid events are about the last 44 days
KNOWN_FINGERPRINTS = frozenset(by_fingerprint())


@dataclass(frozen=True, slots=True)
class Outgoing:
    """A record to produce, with what it must become."""

    topic: str
    partition: int
    key: bytes | None
    value: bytes | None
    intent: Verdict | None  # None: decided by the service's decoder (bit-flipped bodies)
    meant: str | None  # expected outcome or reason code, in generation order (None: unknown)
    kind: str  # what the generator built, for the printed summary


@dataclass
class _Event:
    """An event under construction: payload + the writer version."""

    payload: dict[str, Any]
    writer: int = 2

    def encode(self) -> bytes:
        schema = version(self.writer)
        names = set(schema.field_names)
        return encode_single_object({k: v for k, v in self.payload.items() if k in names}, schema)

    def verdict(self) -> Valid:
        p = self.payload
        names = set(version(self.writer).field_names)
        figures = tuple(p.get(n) if n in names else None for n in COUNT_FIELDS)
        return Valid(
            supplier_id=p["supplier_id"],
            practice_code=p["practice_code"],
            activity_date=p["activity_date"],
            revision=p["revision"],
            figures=figures,
            event_id=p["event_id"],
            generated_at=p["generated_at"],
        )


@dataclass
class Traffic:
    """The generator of one test: its suppliers, topics and random source."""

    token: str
    seed: int
    partitions: int = 6
    today: dt.date = field(default_factory=lambda: local_today(system_clock(), "Europe/London"))

    def __post_init__(self) -> None:
        self.rng = random.Random(self.seed)
        self.suppliers = [f"{self.token}-{name}" for name in ("askfirst", "patchs", "klinik")]
        self.inactive = f"{self.token}-dormant"  # registered, active = false
        self.ghost = f"{self.token}-ghost"  # never registered
        self.badly_named_topic = f"triage.daily.{self.token}-Not_A_Supplier"
        self.practices = {
            s: [f"{chr(65 + i % 26)}{self.rng.randrange(10**5):05d}" for i in range(150)]
            for s in self.suppliers
        }
        self._generated_at = dt.datetime.now(dt.UTC).replace(microsecond=0)

    # --- topics --------------------------------------------------------------------
    @property
    def feed_topics(self) -> list[str]:
        return [topic_for(s) for s in self.suppliers]

    @property
    def other_topics(self) -> list[str]:
        """Topics the consumer subscribes to whose supplier is unknown."""
        return [topic_for(self.inactive), topic_for(self.ghost), self.badly_named_topic]

    @property
    def topics(self) -> list[str]:
        return [*self.feed_topics, *self.other_topics]

    @property
    def registered(self) -> list[str]:
        """The active suppliers (the inactive one is registered but not active)."""
        return list(self.suppliers)

    # --- building blocks -----------------------------------------------------------
    def _now(self) -> dt.datetime:
        self._generated_at += dt.timedelta(milliseconds=self.rng.randrange(1, 5000))
        return self._generated_at

    def _figures(self, v2: bool) -> dict[str, int | None]:
        total = self.rng.randrange(0, 400)
        parts: list[int | None] = [None, None, None]
        if self.rng.random() < 0.6:
            a = self.rng.randrange(0, total + 1)
            b = self.rng.randrange(0, total - a + 1)
            parts = [a, b, total - a - b]
        patient = staff = None
        if v2 and self.rng.random() < 0.7:
            patient = self.rng.randrange(0, total + 1)
            staff = total - patient
        return {
            "total_requests": total,
            "clinical_requests": parts[0],
            "admin_requests": parts[1],
            "other_requests": parts[2],
            "patient_submitted_requests": patient,
            "staff_submitted_requests": staff,
        }

    def _event(
        self,
        supplier: str,
        practice: str,
        day: dt.date,
        revision: int,
        figures: dict[str, int | None] | None = None,
        writer: int | None = None,
    ) -> _Event:
        writer = writer or self.rng.choice((1, 2, 2))
        return _Event(
            {
                "event_id": str(uuid.UUID(int=self.rng.getrandbits(128), version=4)),
                "supplier_id": supplier,
                "practice_code": practice,
                "activity_date": day,
                "revision": revision,
                "generated_at": self._now(),
                **(figures or self._figures(writer == 2)),
            },
            writer,
        )

    def _resend(self, original: _Event) -> _Event:
        """The same (key, revision, figures) with a new event_id and generated_at."""
        payload = dict(
            original.payload,
            event_id=str(uuid.UUID(int=self.rng.getrandbits(128), version=4)),
            generated_at=self._now(),
        )
        return _Event(payload, original.writer)

    def _changed(self, original: _Event) -> _Event:
        """Same (key, revision), different figures: a conflicting revision."""
        again = self._resend(original)
        again.payload["total_requests"] = original.payload["total_requests"] + 1
        again.payload["clinical_requests"] = None  # keep the breakdown consistent
        return again

    def _partition_of(self, practice: str, day: dt.date) -> int:
        return zlib.crc32(f"{practice}:{day}".encode()) % self.partitions

    def _record_key(self, practice: str, day: dt.date) -> bytes | None:
        roll = self.rng.random()
        if roll < 0.85:
            return record_key(practice, day)
        if roll < 0.92:
            return None
        return bytes([0xFF, 0xFE]) + self.rng.randbytes(6)  # not UTF-8 (keys are optional)

    def _valid_day(self) -> dt.date:
        return self.today - dt.timedelta(days=self.rng.randrange(1, VALID_DAYS))

    def _out(
        self, topic: str, e: _Event, meant: str, kind: str, value: bytes | None = None
    ) -> Outgoing:
        p = e.payload
        return Outgoing(
            topic,
            self._partition_of(p["practice_code"], p["activity_date"]),
            self._record_key(p["practice_code"], p["activity_date"]),
            value if value is not None else e.encode(),
            e.verdict(),
            meant,
            kind,
        )

    # --- valid traffic: one story per practice-day ----------------------------------
    def _story(self, supplier: str, practice: str, day: dt.date) -> list[Outgoing]:
        topic = topic_for(supplier)
        kind = self.rng.choices(
            [
                "single",
                "resend",
                "resend_same_bytes",
                "restate",
                "out_of_order",
                "late_first",
                "conflict",
                "conflict_after_restate",
                "resend_old",
                "v1_resend_of_v2",
                "conflict_then_restate",
                "bad_then_good",
            ],
            weights=[30, 10, 5, 10, 6, 5, 5, 3, 4, 3, 3, 3],
        )[0]
        ev = lambda r, **kw: self._event(supplier, practice, day, r, **kw)  # noqa: E731
        out = lambda e, meant, **kw: self._out(topic, e, meant, kind, **kw)  # noqa: E731
        if kind == "single":
            return [out(ev(1), ACCEPTED)]
        if kind == "resend":
            first = ev(1)
            return [out(first, ACCEPTED), out(self._resend(first), DUPLICATE)]
        if kind == "resend_same_bytes":
            first = ev(1)
            value = first.encode()
            return [out(first, ACCEPTED, value=value), out(first, DUPLICATE, value=value)]
        if kind == "restate":
            return [out(ev(1), ACCEPTED), out(ev(2), ACCEPTED)]
        if kind == "out_of_order":
            return [out(ev(1), ACCEPTED), out(ev(3), ACCEPTED), out(ev(2), SUPERSEDED)]
        if kind == "late_first":
            return [out(ev(2), ACCEPTED), out(ev(1), SUPERSEDED)]
        if kind == "conflict":
            first = ev(1)
            return [out(first, ACCEPTED), out(self._changed(first), "conflicting_revision")]
        if kind == "conflict_after_restate":
            second = ev(2)
            return [
                out(ev(1), ACCEPTED),
                out(second, ACCEPTED),
                out(self._changed(second), "conflicting_revision"),
            ]
        if kind == "resend_old":
            first = ev(1)
            return [out(first, ACCEPTED), out(ev(2), ACCEPTED), out(self._resend(first), DUPLICATE)]
        if kind == "v1_resend_of_v2":
            figures = self._figures(True)
            figures["patient_submitted_requests"] = figures["total_requests"]
            figures["staff_submitted_requests"] = 0
            first = ev(1, figures=figures, writer=2)
            older = self._resend(first)
            older.writer = 1  # a v1 writer drops the v2 counts: the figures differ
            return [out(first, ACCEPTED), out(older, "conflicting_revision")]
        if kind == "conflict_then_restate":
            first = ev(1)
            return [
                out(first, ACCEPTED),
                out(self._changed(first), "conflicting_revision"),
                out(ev(2), ACCEPTED),
            ]
        # bad_then_good: a negative count for the practice-day, then the corrected event
        bad = ev(1)
        bad.payload["total_requests"] = -3
        good = ev(1)
        return [
            self._bad(topic, bad.encode(), "negative_count", kind, bad.payload),
            out(good, ACCEPTED),
        ]

    def mixed(self, practice_days: int, bad_events: int) -> list[Outgoing]:
        """Stories of ``practice_days`` distinct practice-days, interleaved, plus bad events."""
        capacity = sum(len(p) for p in self.practices.values()) * (VALID_DAYS - 1)
        if practice_days > capacity // 2:
            raise ValueError(f"{practice_days} practice-days: at most {capacity // 2}")
        stories: list[list[Outgoing]] = []
        seen: set[tuple[str, str, dt.date]] = set()
        while len(stories) < practice_days:
            supplier = self.rng.choice(self.suppliers)
            practice = self.rng.choice(self.practices[supplier])
            day = self._valid_day()
            if (supplier, practice, day) in seen:
                continue
            seen.add((supplier, practice, day))
            stories.append(self._story(supplier, practice, day))
        stories.extend([[b] for b in self.bad_events(bad_events)])
        return list(_interleave(stories, self.rng))

    # --- bad events ----------------------------------------------------------------
    def _bad(
        self,
        topic: str,
        value: bytes | None,
        reason: str,
        kind: str,
        payload: dict[str, Any] | None = None,
        key: bytes | None = b"",
    ) -> Outgoing:
        if key == b"":
            if payload is not None and self.rng.random() < 0.7:
                key = record_key(payload["practice_code"][:20], payload["activity_date"])
            else:
                key = self.rng.choice(
                    [None, b"\xff\xfe\xfd", b"\xc3\x28 not utf-8", b"", self.rng.randbytes(12)]
                )
        if value is None and key is None:
            key = b"\xff"  # a record needs a key or a value (aiokafka refuses neither)
        partition = self.rng.randrange(self._partitions_of(topic))
        return Outgoing(topic, partition, key, value, Invalid(reason), reason, kind)

    def _partitions_of(self, topic: str) -> int:
        return self.partitions if topic in self.feed_topics else 2

    def bad_events(self, n: int) -> list[Outgoing]:
        """``n`` bad events cycling through every way of being wrong."""
        makers = self._bad_makers()
        return [makers[i % len(makers)]() for i in range(n)]

    def _bad_makers(self) -> list[Callable[[], Outgoing]]:
        def on_feed(reason: str, kind: str, mutate: Callable[[dict[str, Any]], None]) -> Outgoing:
            supplier = self.rng.choice(self.suppliers)
            e = self._event(
                supplier, self.rng.choice(self.practices[supplier]), self._valid_day(), 1
            )
            mutate(e.payload)
            return self._bad(topic_for(supplier), e.encode(), reason, kind, e.payload)

        def other_supplier(p: dict[str, Any]) -> None:
            others = [s for s in self.suppliers if s != p["supplier_id"]]
            p["supplier_id"] = self.rng.choice([*others, "someone-else", ""])

        def bad_event_id(p: dict[str, Any]) -> None:
            p["event_id"] = self.rng.choice(
                [
                    "not-a-uuid",
                    "",
                    "0b2c4e6a-0000-4000-8000",
                    "0b2c4e6a00004000800000000000002a",
                    "g" * 8 + "-0000-4000-8000-00000000002a",
                    "{0b2c4e6a-0000-4000-8000-00000000002a}",
                ]
            )

        def bad_code(p: dict[str, Any]) -> None:
            p["practice_code"] = self.rng.choice(
                ["a81001", "A8100", "A810011", "AB1234", "", "A81 01", "Å81001", "181001"]
            )

        def future(p: dict[str, Any]) -> None:
            p["activity_date"] = self.today + dt.timedelta(days=self.rng.randrange(2, 60))

        def ancient(p: dict[str, Any]) -> None:
            p["activity_date"] = self.today - dt.timedelta(
                days=HORIZON_DAYS + self.rng.randrange(2, 3000)
            )

        def negative(p: dict[str, Any]) -> None:
            field_name = self.rng.choice(["total_requests", "clinical_requests", "other_requests"])
            p[field_name] = -self.rng.randrange(1, 1000)

        def inconsistent(p: dict[str, Any]) -> None:
            p.update(total_requests=10, clinical_requests=3, admin_requests=3, other_requests=3)

        def implausible(p: dict[str, Any]) -> None:
            p["total_requests"] = PLAUSIBILITY_CAP + self.rng.randrange(1, 10**6)
            p["clinical_requests"] = None

        def bad_revision(p: dict[str, Any]) -> None:
            p["revision"] = self.rng.choice([0, -1, -(2**31)])

        def several(p: dict[str, Any]) -> None:
            # invalid_practice_code comes before the date, the counts and the revision
            bad_code(p)
            future(p)
            negative(p)
            bad_revision(p)

        def mismatch_and_negative(p: dict[str, Any]) -> None:
            other_supplier(p)
            negative(p)

        def implausible_and_revision(p: dict[str, Any]) -> None:
            implausible(p)
            bad_revision(p)

        def on_unknown_supplier() -> Outgoing:
            topic = self.rng.choice(self.other_topics)
            supplier = topic.removeprefix("triage.daily.")
            e = self._event(supplier, "A12345", self._valid_day(), 1)
            if self.rng.random() < 0.3:
                e.payload["total_requests"] = -1  # the supplier check comes first
            return self._bad(topic, e.encode(), "unknown_supplier", "unknown_supplier", e.payload)

        def garbage_anywhere() -> Outgoing:
            topic = self.rng.choice(self.topics)
            value, kind = self.rng.choice(self._undecodable_values())
            return self._bad(topic, value, "undecodable", kind)

        def unknown_schema() -> Outgoing:
            topic = self.rng.choice(self.topics)
            return self._bad(
                topic, self._unknown_schema_value(), "unknown_schema", "unknown_schema"
            )

        return [
            lambda: on_feed("supplier_mismatch", "supplier_mismatch", other_supplier),
            lambda: on_feed("invalid_event_id", "invalid_event_id", bad_event_id),
            lambda: on_feed("invalid_practice_code", "invalid_practice_code", bad_code),
            lambda: on_feed("activity_date_out_of_range", "date_in_future", future),
            lambda: on_feed("activity_date_out_of_range", "date_beyond_horizon", ancient),
            lambda: on_feed("negative_count", "negative_count", negative),
            lambda: on_feed("inconsistent_breakdown", "inconsistent_breakdown", inconsistent),
            lambda: on_feed("implausible_count", "implausible_count", implausible),
            lambda: on_feed("invalid_revision", "invalid_revision", bad_revision),
            lambda: on_feed("invalid_practice_code", "several_problems", several),
            lambda: on_feed("supplier_mismatch", "mismatch_and_negative", mismatch_and_negative),
            lambda: on_feed(
                "implausible_count", "implausible_and_revision", implausible_and_revision
            ),
            on_unknown_supplier,
            garbage_anywhere,
            unknown_schema,
        ]

    def _sample_encoding(self) -> bytes:
        supplier = self.rng.choice(self.suppliers)
        return self._event(
            supplier, self.rng.choice(self.practices[supplier]), self._valid_day(), 1
        ).encode()

    def _undecodable_values(self) -> list[tuple[bytes | None, str]]:
        good = self._sample_encoding()
        not_utf8 = self._event(self.suppliers[0], "ZZZZZZ", self._valid_day(), 1).encode()
        not_utf8 = not_utf8.replace(b"ZZZZZZ", b"\xff\xfe\xfd\xfc\xfb\xfa")
        return [
            (None, "null_value"),
            (b"", "empty_value"),
            (b'{"event_id": "json is not accepted"}', "json_text"),
            (b"\xc3\x02" + good[2:], "wrong_magic_second_byte"),
            (b"\xc4\x01" + good[2:], "wrong_magic_first_byte"),
            (good[: self.rng.randrange(0, len(good))], "truncated_avro"),
            (good + self.rng.randbytes(self.rng.randrange(1, 5)), "trailing_bytes"),
            (good[:10], "header_only"),
            (not_utf8, "string_not_utf8"),
            (b"\x00\x00\x01", "confluent_header_truncated"),
        ]

    def _unknown_schema_value(self) -> bytes:
        body = self._sample_encoding()[10:]
        if self.rng.random() < 0.5:
            return b"\x00" + self.rng.randrange(1, 2**31).to_bytes(4, "big") + body
        return b"\xc3\x01" + _unknown_fingerprint(self.rng) + body

    # --- the poison corpus ---------------------------------------------------------
    def poison(self, random_values: int, avro_mutations: int, fuzz_topic: str) -> list[Outgoing]:
        """Random byte strings (spread over every topic), truncated and bit-flipped Avro (on
        partition 0 of ``fuzz_topic``, each right after the event it corrupts), and the special
        cases. ``fuzz_topic`` must be a registered supplier's topic."""
        rng = self.rng
        others = [self._random_value() for _ in range(random_values)]
        others.extend(self._specials(fuzz_topic))
        rng.shuffle(others)
        supplier = fuzz_topic.removeprefix("triage.daily.")
        corrupted: list[Outgoing] = []
        for i in range(avro_mutations):
            base = self._event(supplier, f"F{i:05d}", self._valid_day(), 1)
            encoded = base.encode()
            key = record_key(base.payload["practice_code"], base.payload["activity_date"])
            if i % 4 == 0:  # sometimes the intact event is sent before its corruption
                corrupted.append(
                    Outgoing(fuzz_topic, 0, key, encoded, base.verdict(), None, "fuzz_base")
                )
            if rng.random() < 0.5:
                cut = rng.randrange(0, len(encoded))
                corrupted.append(
                    Outgoing(
                        fuzz_topic,
                        0,
                        key,
                        encoded[:cut],
                        Invalid("undecodable"),
                        "undecodable",
                        "truncated_avro",
                    )
                )
            else:
                corrupted.append(self._flipped(fuzz_topic, key, encoded))
        return list(_interleave([others, corrupted], rng))

    def _random_value(self) -> Outgoing:
        rng = self.rng
        topic = rng.choice(self.topics)
        roll = rng.random()
        length = rng.randrange(1, 300)
        if roll < 0.80:
            first = rng.choice([b for b in range(256) if b not in (0x00, 0xC3)])
            value = bytes([first]) + rng.randbytes(length - 1)
            reason = "undecodable"
        elif roll < 0.88:
            value = b"\xc3\x01" + _unknown_fingerprint(rng) + rng.randbytes(length)
            reason = "unknown_schema"
        elif roll < 0.92:
            value = b"\xc3\x01" + rng.randbytes(rng.randrange(0, 8))
            reason = "undecodable"  # the single-object header needs 10 bytes
        elif roll < 0.96:
            value = b"\x00" + rng.randbytes(length + 4)
            reason = "unknown_schema"  # no schema registry configured
        else:
            value = b"\x00" + rng.randbytes(rng.randrange(0, 4))
            reason = "undecodable"  # the Confluent header needs 5 bytes
        key = rng.choice([None, rng.randbytes(rng.randrange(0, 20)), b"\xff\xfe\xfd"])
        partition = rng.randrange(self._partitions_of(topic))
        return Outgoing(topic, partition, key, value, Invalid(reason), reason, "random_bytes")

    def _flipped(self, topic: str, key: bytes, encoded: bytes) -> Outgoing:
        rng = self.rng
        value = bytearray(encoded)
        where = rng.choice(("magic", "fingerprint", "body", "body", "body", "body"))
        bits = rng.randrange(1, 4)
        if where == "magic":
            span, intent, meant = range(0, 2), Invalid("undecodable"), "undecodable"
        elif where == "fingerprint":
            span, intent, meant = range(2, 10), Invalid("unknown_schema"), "unknown_schema"
        else:
            span, intent, meant = range(10, len(value)), None, None
        for _ in range(bits):
            i = rng.choice(span)
            value[i] ^= 1 << rng.randrange(8)
        if value == bytearray(encoded) or (
            where == "fingerprint" and bytes(value[2:10]) in KNOWN_FINGERPRINTS
        ):
            value[-1] ^= 0x80  # flips cancelled out: corrupt the body instead
            intent, meant, where = None, None, "body"
        return Outgoing(topic, 0, key, bytes(value), intent, meant, f"bit_flip_{where}")

    def _specials(self, fuzz_topic: str) -> list[Outgoing]:
        """Empty and null values, 1 MB values, wrong magic, unknown fingerprint, keys that are
        not UTF-8 (on both bad and valid events)."""
        supplier = fuzz_topic.removeprefix("triage.daily.")
        rng = self.rng
        out: list[Outgoing] = []

        def bad(value: bytes | None, reason: str, kind: str, key: bytes | None = None) -> None:
            out.append(
                Outgoing(
                    fuzz_topic,
                    rng.randrange(self.partitions),
                    key,
                    value,
                    Invalid(reason),
                    reason,
                    kind,
                )
            )

        big = self._event(supplier, "B" + "1" * (ONE_MB - 1), self._valid_day(), 1)
        bad(big.encode(), "invalid_practice_code", "1mb_practice_code", b"\xff" * 8)
        bad(bytes([0x7B]) + rng.randbytes(ONE_MB - 1), "undecodable", "1mb_random")
        bad(self._sample_encoding() + bytes(ONE_MB), "undecodable", "1mb_trailing_zeros")
        bad(b"\x00" + rng.randbytes(ONE_MB), "unknown_schema", "1mb_confluent")
        for _ in range(5):
            bad(b"", "undecodable", "empty_value", rng.choice([None, b"\xfe\xff"]))
            bad(None, "undecodable", "null_value", rng.choice([b"", b"A81001:2026-01-01"]))
            good = self._sample_encoding()
            bad(b"\xc3\x00" + good[2:], "undecodable", "wrong_magic")
            bad(b"\x01" + good[1:], "undecodable", "wrong_magic")
            bad(
                b"\xc3\x01" + _unknown_fingerprint(rng) + good[10:],
                "unknown_schema",
                "unknown_fingerprint",
            )
        for _ in range(20):  # valid events with keys that are not UTF-8 are accepted
            e = self._event(supplier, f"K{rng.randrange(10**5):05d}", self._valid_day(), 1)
            out.append(
                Outgoing(
                    fuzz_topic,
                    0,
                    b"\xff\xfe" + rng.randbytes(4),
                    e.encode(),
                    e.verdict(),
                    None,
                    "valid_key_not_utf8",
                )
            )
        return out


def _unknown_fingerprint(rng: random.Random) -> bytes:
    while True:
        candidate = rng.randbytes(8)
        if candidate not in KNOWN_FINGERPRINTS:
            return candidate


def _interleave(stories: Sequence[list[Outgoing]], rng: random.Random) -> Iterator[Outgoing]:
    """Merge the stories at random, keeping each story's own order."""
    pending = [list(reversed(s)) for s in stories if s]
    while pending:
        i = rng.randrange(len(pending))
        yield pending[i].pop()
        if not pending[i]:
            pending[i] = pending[-1]
            pending.pop()


# --- cross-check with the service's own decoder and validator -------------------------


@dataclass
class Classifier:
    """Verdicts from ``ingest.consumer.pipeline.check_record`` (decode + validate), for bit-flipped
    bodies and for cross-checking the generator's intent."""

    registered: Sequence[str]
    today: dt.date = field(default_factory=lambda: local_today(system_clock(), "Europe/London"))

    def __post_init__(self) -> None:
        self._decoder = Decoder()
        self._limits = Limits(self.today, HORIZON_DAYS, PLAUSIBILITY_CAP)

    def __call__(self, topic: str, value: bytes | None) -> Verdict:
        result = check_record(
            RawRecord(topic, 0, 0, None, value), self._decoder, self.registered, self._limits
        )
        if isinstance(result, Rejection):
            return Invalid(result.reason.value)
        return Valid(
            supplier_id=result.supplier_id,
            practice_code=result.practice_code,
            activity_date=result.activity_date,
            revision=result.revision,
            figures=result.figures,
            event_id=result.event_id,
            generated_at=result.generated_at,
        )


def verdict_of(record: Outgoing, classify: Classifier) -> Verdict:
    """The record's verdict: its intent, or the decoder's for a corrupted body."""
    return record.intent if record.intent is not None else classify(record.topic, record.value)


def disagreements(records: Sequence[Outgoing], classify: Classifier) -> list[str]:
    """Records whose intent differs from what the service's decoder and validator say."""
    problems = []
    for r in records:
        if r.intent is None:
            continue
        seen = classify(r.topic, r.value)
        if seen != r.intent:
            problems.append(f"{r.kind} on {r.topic}: meant {r.intent}, decoder says {seen}")
    return problems
