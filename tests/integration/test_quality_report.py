"""The supplier quality report against the real Postgres (rows inserted directly)."""

from __future__ import annotations

import datetime as dt
import html
import re
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo

import asyncpg
import pytest

from ingest.analytics.quality_report import (
    QualityData,
    QualityReportError,
    collect,
    render_html,
    render_markdown,
)
from ingest.contract.model import topic_for
from ingest.reference.parsing import ReferenceKind
from ingest.reference.store import load_file
from tests.support.cli import run_cli
from tests.support.daily_rows import insert_revision

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "reference"
REPO = Path(__file__).resolve().parents[2]
LONDON = ZoneInfo("Europe/London")
DAYS = 10


@dataclass(frozen=True)
class World:
    supplier: str
    other: str
    today: dt.date
    present_reasons: dict[str, list[str]]  # reason -> details
    absent_reasons: tuple[str, ...]

    def day(self, back: int) -> dt.date:
        """``back`` days before yesterday, the report's last day (today is not due)."""
        return self.today - dt.timedelta(days=back + 1)

    def missing_days(self, reported: set[int]) -> list[dt.date]:
        """The period's days a practice reported on days ``reported`` (backs) is expected but
        absent, by the report's rule: from its first report up to the supplier's latest day
        (day 0 here), weekends only when it was reported on a weekend day."""
        weekends = any(self.day(b).isoweekday() >= 6 for b in reported)
        first = min(max(reported), DAYS - 1)
        return [
            self.day(b)
            for b in range(first, -1, -1)
            if b not in reported and (weekends or self.day(b).isoweekday() < 6)
        ]


def end_of(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day + dt.timedelta(days=1), dt.time(), tzinfo=LONDON)


async def add_rejection(
    pg: asyncpg.Connection,
    *,
    topic: str,
    supplier: str | None,
    reason: str,
    detail: str,
    received_at: dt.datetime,
    offset: int,
    key: bytes | None = None,
    value: bytes | None = b"\xc3\x01\x00\x11\x22",
) -> None:
    await pg.execute(
        """INSERT INTO triage.rejected_events (received_at, source_topic, source_partition,
               source_offset, key, value, supplier_id, reason, detail)
           VALUES ($1, $2, 0, $3, $4, $5, $6, $7, $8)""",
        received_at,
        topic,
        offset,
        key,
        value,
        supplier,
        reason,
        detail,
    )


@pytest.fixture
async def world(pg: asyncpg.Connection, token: str) -> World:
    supplier, other = f"{token}-sup", f"{token}-other"
    await pg.execute(
        "INSERT INTO triage.suppliers (supplier_id, name) VALUES ($1, 'Sup Ltd'), ($2, 'Other')",
        supplier,
        other,
    )
    await load_file(pg, ReferenceKind.PRACTICES, FIXTURES / "epraccur_sample.csv")
    now = dt.datetime.now(dt.UTC)
    today = now.astimezone(LONDON).date()
    w = World(
        supplier=supplier,
        other=other,
        today=today,
        present_reasons={
            "inconsistent_breakdown": [
                "clinical_requests + admin_requests + other_requests = 12 != total_requests 10",
                "clinical_requests + admin_requests + other_requests = 9 != total_requests 10",
                "clinical_requests + admin_requests + other_requests = 1 != total_requests 2",
            ],
            "negative_count": ["admin_requests is -3"],
            "conflicting_revision": [
                "revision 2 of B99001 2024-10-01 is stored with total_requests 40, got 41"
            ],
            "invalid_practice_code": ["practice_code '<script>alert(1)</script>' is not A12345"],
            "undecodable": ["value does not start with C3 01 or 00 (first byte 0x7b)"],
        },
        absent_reasons=("implausible_count", "unknown_schema"),
    )
    offset = 0

    def next_offset() -> int:
        nonlocal offset
        offset += 1
        return offset

    def on_time(day: dt.date) -> dt.datetime:
        return min(now, end_of(day) - dt.timedelta(hours=2))

    # B99001 every day; restated once; its day 7 arrived 4 hours past the 26 h deadline.
    for back in range(DAYS):
        day = w.day(back)
        arrival = end_of(day) + dt.timedelta(hours=30) if back == 7 else on_time(day)
        await insert_revision(pg, supplier, "B99001", day, 1, 40, arrival, next_offset())
    await insert_revision(pg, supplier, "B99001", w.day(2), 2, 44, now, next_offset())
    # B99002 missing three days; B99003 last seen before the period (missing throughout);
    # Z00009 is not in the ODS reference.
    for back in range(DAYS):
        if back not in (3, 4, 5):
            await insert_revision(
                pg, supplier, "B99002", w.day(back), 1, 25, on_time(w.day(back)), next_offset()
            )
    await insert_revision(
        pg, supplier, "B99003", w.day(15), 1, 9, on_time(w.day(15)), next_offset()
    )
    for back in (1, 2):
        await insert_revision(
            pg, supplier, "Z00009", w.day(back), 1, 3, on_time(w.day(back)), next_offset()
        )
    # Another supplier's data must not leak into this supplier's report.
    await insert_revision(pg, other, "C99004", w.day(1), 1, 77, on_time(w.day(1)), next_offset())

    for reason, details in w.present_reasons.items():
        for i, detail in enumerate(details):
            undecodable = reason == "undecodable"
            await add_rejection(
                pg,
                topic=topic_for(supplier),
                supplier=None if undecodable else supplier,  # known by its topic only
                reason=reason,
                detail=detail,
                received_at=now - dt.timedelta(hours=i + 1),
                offset=next_offset(),
                key=None if undecodable else f"B99001:{w.day(1)}".encode(),
                value=b'{"not": "avro"}' if undecodable else b"\xc3\x01" + bytes(range(60)),
            )
    await add_rejection(
        pg,
        topic=topic_for(other),
        supplier=other,
        reason="implausible_count",
        detail="total_requests 999999 is above the cap 100000",
        received_at=now,
        offset=next_offset(),
    )
    await add_rejection(
        pg,
        topic=topic_for(supplier),
        supplier=supplier,
        reason="unknown_schema",
        detail="fingerprint 0102030405060708 is not a released schema",
        received_at=now - dt.timedelta(days=DAYS + 30),  # before the period
        offset=next_offset(),
    )
    return w


async def report(pg: asyncpg.Connection, w: World) -> QualityData:
    return await collect(pg, w.supplier, days=DAYS)


async def test_report_names_every_reason_present_with_exact_details(
    pg: asyncpg.Connection, world: World
) -> None:
    data = await report(pg, world)
    assert {r.reason for r in data.reasons} == set(world.present_reasons)
    assert data.rejected_total == sum(len(d) for d in world.present_reasons.values())
    page = render_html(data)
    text = render_markdown(data)
    for reason, details in world.present_reasons.items():
        assert reason in page and reason in text
        for detail in details:
            assert detail in html.unescape(page)
    for reason in world.absent_reasons:  # another supplier's, or before the period
        assert reason not in page and reason not in text
    # Undecodable value bytes are shown as text when printable, else as hex.
    assert '{"not": "avro"}' in html.unescape(page)
    assert "c3 01 00 01 02" in page
    assert "(62 bytes)" in page


async def test_report_is_self_contained_and_escaped(pg: asyncpg.Connection, world: World) -> None:
    data = await report(pg, world)
    page = render_html(data)
    text = render_markdown(data)
    assert "<script" not in text and "&lt;script&gt;" in text  # no raw HTML in the Markdown
    assert page.startswith("<!DOCTYPE html>")
    lowered = page.lower()
    for external in ("<script", "<link", "src=", "href=", "@import", "url("):
        assert external not in lowered
    # The only URL is the SVG namespace name (an identifier, never fetched).
    assert re.findall(r"https?://[^\s\"'<>]+", page) == ["http://www.w3.org/2000/svg"]
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert lowered.count("<svg") == 1
    for back in range(DAYS):  # one bar per day, with its date in the bar's tooltip
        assert f"<title>{world.day(back).isoformat()}:" in page


async def test_report_late_days_missing_practices_restatements(
    pg: asyncpg.Connection, world: World
) -> None:
    data = await report(pg, world)
    assert data.period_start == world.day(DAYS - 1) and data.period_end == world.day(0)
    assert data.period_end < world.today  # today is not due
    assert [(d.activity_date, d.late_practices) for d in data.late_days] == [(world.day(7), 1)]
    assert dt.timedelta(hours=3) < data.late_days[0].worst_delay < dt.timedelta(hours=5)

    missing = {m.practice_code: m for m in data.missing}
    expected = {
        "B99002": world.missing_days(set(range(DAYS)) - {3, 4, 5}),
        "B99003": world.missing_days({15}),
        "Z00009": world.missing_days({1, 2}),
    }
    assert set(missing) == {code for code, days in expected.items() if days}
    assert missing["B99002"].days_missing == len(expected["B99002"])
    assert (missing["B99002"].first_missing, missing["B99002"].last_missing) == (
        expected["B99002"][0],
        expected["B99002"][-1],
    )
    assert missing["B99003"].days_missing == len(expected["B99003"])
    assert missing["B99003"].last_reported == world.day(15)
    assert missing["B99003"].name == "CASTLE GATE PARTNERSHIP"
    if expected["Z00009"]:  # not when its only missing days are a weekend it never reported
        assert missing["Z00009"].name is None

    # 10 (B99001) + 7 (B99002) + 2 (Z00009) practice-days, one restated.
    assert (data.practice_days, data.restated_practice_days) == (19, 1)
    assert [u.practice_code for u in data.unknown_practices] == ["Z00009"]
    by_day = {v.activity_date: v for v in data.volumes}
    assert by_day[world.day(2)].total_requests == 44 + 25 + 3  # current revision counted
    assert by_day[world.day(4)].practices == 1

    text = render_markdown(data)
    assert "5.3% (1 of 19 practice-days)" in text
    assert f"| {world.day(7).isoformat()} | 2 | 1 |" in text  # B99001 late, B99002 not
    assert f"| B99003 | CASTLE GATE PARTNERSHIP | {len(expected['B99003'])} |" in text
    assert ("| Z00009 |" in text) == bool(expected["Z00009"])


async def test_unknown_supplier_is_refused(pg: asyncpg.Connection) -> None:
    with pytest.raises(QualityReportError, match="not registered"):
        await collect(pg, "nobody-here", days=7)


async def test_a_supplier_without_data_gets_an_empty_report(
    pg: asyncpg.Connection, token: str
) -> None:
    await pg.execute(
        "INSERT INTO triage.suppliers (supplier_id, name) VALUES ($1, 'Quiet')", f"{token}-q"
    )
    data = await collect(pg, f"{token}-q", days=3)
    assert (data.rejected_total, data.practice_days, len(data.volumes)) == (0, 0, 3)
    assert "No records were rejected" in render_html(data)
    assert "No records were rejected" in render_markdown(data)


async def check_command_outputs(world: World, db_url: str, tmp_path: Path) -> None:
    outputs = {"html": tmp_path / "report.html", "md": tmp_path / "report.md"}
    for fmt, out in outputs.items():
        done = await run_cli(
            "quality-report",
            "--supplier",
            world.supplier,
            "--days",
            str(DAYS),
            "--out",
            str(out),
            "--format",
            fmt,
            env={"INGEST_DATABASE_URL": db_url},
        )
        assert done.code == 0, done.stderr
        content = out.read_text(encoding="utf-8")
        for reason in world.present_reasons:
            assert reason in content
    assert outputs["html"].read_text().startswith("<!DOCTYPE html>")
    assert outputs["md"].read_text().startswith("# Feed quality report")
    assert not list(tmp_path.glob(".*.part"))
    refused = await run_cli(
        "quality-report",
        "--supplier",
        "nobody-here",
        "--out",
        str(tmp_path / "x.html"),
        env={"INGEST_DATABASE_URL": db_url},
    )
    assert refused.code == 2
    assert "not registered" in refused.stderr
    assert not (tmp_path / "x.html").exists()


async def test_quality_report_command_writes_both_formats(
    world: World, db_url: str, tmp_path: Path
) -> None:
    await check_command_outputs(world, db_url, tmp_path)
