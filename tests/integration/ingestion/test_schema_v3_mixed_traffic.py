"""A month of mixed traffic on the real broker and database: suppliers on schema v1, v2 and v3,
one switching from v2 to v3 mid-month, band-only restatements, re-sends and bad bands. Both
tables end exactly as the contract's outcome table (the oracle) says, record by record; the
older writers' events land unchanged, their time bands null."""

from __future__ import annotations

import datetime as dt
import random
import uuid
from dataclasses import dataclass
from typing import Any

import asyncpg
import pytest

from ingest.contract.model import BAND_FIELDS, COUNT_FIELDS
from ingest.contract.schemas import version
from ingest.settings import Settings
from tests.support.events import encoded, event, key_of, split_into_bands
from tests.support.kafka import produce
from tests.support.oracle import Expected, Invalid, Record, Valid, expected_state
from tests.support.service import running, wait_consumed
from tests.support.suppliers import register_with_topic

pytestmark = [pytest.mark.integration, pytest.mark.slow]

GENERATED_AT = dt.datetime(2026, 1, 2, 3, 4, 5, 678000, tzinfo=dt.UTC)
PRACTICES = ("A81001", "B82002")


def last_full_month() -> list[dt.date]:
    """Every day of the month before this one (inside the contract's 400-day horizon)."""
    first_of_this = dt.date.today().replace(day=1)
    first = (first_of_this - dt.timedelta(days=1)).replace(day=1)
    return [first + dt.timedelta(days=n) for n in range((first_of_this - first).days)]


@dataclass
class Sent:
    """One record to send: its event, the writer version, and what the service must do."""

    payload: dict[str, Any]
    writer: int
    invalid_reason: str | None = None


def figures(payload: dict[str, Any], writer: int) -> tuple[int | None, ...]:
    """The figures an event carries once read: the fields its writer lacks are null."""
    carried = set(version(writer).field_names)
    return tuple(payload[name] if name in carried else None for name in COUNT_FIELDS)


def daily_event(
    supplier: str, practice: str, day: dt.date, rng: random.Random, writer: int
) -> Sent:
    total = rng.randint(0, 60)
    clinical = rng.randint(0, total)
    admin = rng.randint(0, total - clinical)
    bands = None
    if writer == 3 and rng.random() < 0.85:  # else: a day the supplier has no times for
        bands = split_into_bands(total, rng)
    payload = event(
        supplier,
        practice,
        day,
        1,
        total,
        clinical,
        admin,
        total - clinical - admin,
        bands=bands,
        patient=rng.randint(0, total),
        staff=rng.randint(0, 5),
        generated_at=GENERATED_AT,
    )
    return Sent(payload, writer)


def again(sent: Sent, writer: int | None = None, **changes: Any) -> Sent:
    """The same event sent again (a new event_id), by ``writer``, with ``changes``."""
    payload = {**sent.payload, "event_id": str(uuid.uuid4()), **changes}
    return Sent(payload, sent.writer if writer is None else writer)


def band_only_restatement(sent: Sent) -> Sent:
    """Revision + 1 of a v3 event with bands: one request moved to another band, nothing else."""
    bands = [sent.payload[name] for name in BAND_FIELDS]
    source = max(range(len(bands)), key=lambda i: bands[i])
    target = (source + 3) % len(bands)
    bands[source] -= 1
    bands[target] += 1
    return again(
        sent, revision=sent.payload["revision"] + 1, **dict(zip(BAND_FIELDS, bands, strict=True))
    )


def traffic(token: str, rng: random.Random) -> dict[str, list[Sent]]:
    """Each supplier's records, in the order it sends them."""
    month = last_full_month()
    middle = month[len(month) // 2]
    writers = {f"{token}-onv1": 1, f"{token}-onv2": 2, f"{token}-onv3": 3, f"{token}-switch": 0}
    sent: dict[str, list[Sent]] = {}
    for supplier, writer in writers.items():
        records = sent[supplier] = []
        for day in month:
            for practice in PRACTICES:
                chosen = writer or (2 if day < middle else 3)  # 0: v2, then v3 from mid-month
                records.append(daily_event(supplier, practice, day, rng, chosen))
    for supplier in (f"{token}-onv3", f"{token}-switch"):
        records = sent[supplier]
        with_bands = [s for s in records if s.payload["requests_00_06"] is not None]
        for original in rng.sample(with_bands, 6):
            restated = band_only_restatement(original)
            records += [
                restated,  # accepted: a new revision although only a band changed
                again(original),  # duplicate: the same figures, whatever the event_id
                again(restated),  # duplicate of the restatement
                again(original, writer=2),  # conflicting_revision: v2 carries no bands
            ]
        bad_sum = again(with_bands[0], revision=9, requests_time_unknown=10_000)
        bad_sum.invalid_reason = "inconsistent_breakdown"
        partly_null = again(with_bands[1], revision=9, requests_18_24=None)
        partly_null.invalid_reason = "inconsistent_breakdown"
        records += [bad_sum, partly_null]
    switch = sent[f"{token}-switch"]
    early = [s for s in switch if s.writer == 2][:4]
    for original in early:  # early-month v2 days restated with v3, bands now known
        total = original.payload["total_requests"]
        switch.append(
            again(
                original,
                writer=3,
                revision=2,
                **dict(zip(BAND_FIELDS, split_into_bands(total, rng), strict=True)),
            )
        )
    return sent


async def send_all(
    settings: Settings, pg: asyncpg.Connection, sent: dict[str, list[Sent]]
) -> tuple[list[str], Expected]:
    """Produce every supplier's records to partition 0 of its topic; the oracle's state."""
    topics, records = [], []
    for supplier, items in sent.items():
        topic = await register_with_topic(pg, settings, supplier)
        topics.append(topic)
        values = [(key_of(s.payload), encoded(s.payload, s.writer)) for s in items]
        placed = await produce(settings, topic, values, partition=0)
        for s, (key, value), (partition, offset) in zip(items, values, placed, strict=True):
            p = s.payload
            verdict = (
                Invalid(s.invalid_reason)
                if s.invalid_reason
                else Valid(
                    supplier,
                    p["practice_code"],
                    p["activity_date"],
                    p["revision"],
                    figures(p, s.writer),
                    p["event_id"],
                    p["generated_at"],
                )
            )
            records.append(Record(topic, partition, offset, key, value, verdict))
    return topics, expected_state(records, set(sent))


_FIGURES = ", ".join(COUNT_FIELDS)


async def test_mixed_v1_v2_v3_month_lands_exactly_as_the_contract_says(
    settings: Settings, pg: asyncpg.Connection, token: str
) -> None:
    sent = traffic(token, random.Random(20261207))
    topics, expected = await send_all(settings, pg, sent)

    async with running(settings):
        await wait_consumed(pg, settings, topics, timeout=120)

    current = {
        (r["supplier_id"], r["practice_code"], r["activity_date"]): (
            r["revision"],
            tuple(r[n] for n in COUNT_FIELDS),
            str(r["event_id"]),
        )
        for r in await pg.fetch(
            f"SELECT supplier_id, practice_code, activity_date, revision, {_FIGURES}, event_id"
            " FROM triage.daily_requests"
        )
    }
    assert current == {
        k: (s.event.revision, s.event.figures, s.event.event_id)
        for k, s in expected.current.items()
    }
    revisions = {
        ((r["supplier_id"], r["practice_code"], r["activity_date"]), r["revision"]): (
            tuple(r[n] for n in COUNT_FIELDS),
            (r["source_topic"], r["source_partition"], r["source_offset"]),
        )
        for r in await pg.fetch(
            f"SELECT supplier_id, practice_code, activity_date, revision, {_FIGURES},"
            " source_topic, source_partition, source_offset FROM triage.daily_request_revisions"
        )
    }
    assert revisions == {k: (s.event.figures, s.source) for k, s in expected.revisions.items()}
    rejected = {
        (r["source_topic"], r["source_partition"], r["source_offset"]): r["reason"]
        for r in await pg.fetch(
            "SELECT source_topic, source_partition, source_offset, reason"
            " FROM triage.rejected_events"
        )
    }
    assert rejected == {p: r.reason for p, r in expected.rejections.items()}
    # the traffic exercised what it set out to: every outcome, both reasons, band-only revisions
    assert set(expected.outcomes) == {"accepted", "duplicate", "rejected"}
    assert set(rejected.values()) == {"conflicting_revision", "inconsistent_breakdown"}
    band_only = [
        k
        for (k, rev), s in expected.revisions.items()
        if rev == 2 and s.event.figures[:6] == expected.revisions[(k, 1)].event.figures[:6]
    ]
    restated = {
        (supplier, s.payload["practice_code"], s.payload["activity_date"])
        for supplier, items in sent.items()
        for s in items
        if s.payload["revision"] == 2
    }
    assert sorted(band_only) == sorted(restated)


async def test_older_writers_land_unchanged_with_their_time_bands_null(
    settings: Settings, pg: asyncpg.Connection, token: str
) -> None:
    sent = traffic(token, random.Random(7))
    older = {s: sent[s] for s in (f"{token}-onv1", f"{token}-onv2")}
    topics, _ = await send_all(settings, pg, older)

    async with running(settings):
        await wait_consumed(pg, settings, topics, timeout=120)

    stored = {
        (r["supplier_id"], r["practice_code"], r["activity_date"]): tuple(
            r[n] for n in COUNT_FIELDS
        )
        for r in await pg.fetch(
            f"SELECT supplier_id, practice_code, activity_date, {_FIGURES}"
            " FROM triage.daily_requests"
        )
    }
    for supplier, items in older.items():
        for s in items:
            p = s.payload
            key = (supplier, p["practice_code"], p["activity_date"])
            assert stored[key] == figures(p, s.writer)
            assert stored[key][-len(BAND_FIELDS) :] == (None,) * len(BAND_FIELDS)
    assert len(stored) == sum(len(items) for items in older.values())
