"""The status page ``/`` in a real headless Chromium (Debian ``chromium``, no download).

The page is served by the real HTTP server and freshness refresher on the real Postgres,
loaded over the DevTools protocol, and checked for what a person sees: the visible text,
the traffic-light colours, the heat map's size and cells, and that nothing is fetched from
anywhere else. A full-page screenshot is kept at ``test-artifacts/status_page.png``.

Without Chromium the test is skipped on a developer machine and fails in CI (CI=true).
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import uuid
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from ingest.ops.http_server import start_http_server
from ingest.ops.metrics import IngestMetrics
from ingest.ops.refresher import FreshnessRefresher
from ingest.settings import Settings
from tests.support.chromium import DevTools, chromium_binary, chromium_page

pytestmark = [pytest.mark.browser, pytest.mark.integration]

REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO / "test-artifacts"
WIDTH, HEIGHT = 1400, 1000


# --- data: four suppliers in four states -------------------------------------------------


async def _seed(pg: asyncpg.Connection, token: str) -> dict[str, str]:
    ids = {k: f"{token}-{k}" for k in ("steady", "gappy", "quiet", "newco")}
    today = dt.date.today()
    for key, supplier in ids.items():
        await pg.execute(
            "INSERT INTO triage.suppliers (supplier_id, name) VALUES ($1, $2)",
            supplier,
            {"steady": "Steady Health", "gappy": "Gappy Triage", "quiet": "Quiet Ltd",
             "newco": "New Co"}[key],
        )  # fmt: skip
    rows: list[tuple[Any, ...]] = []

    def report(supplier: str, day: dt.date, practices: int) -> None:
        for n in range(practices):
            rows.append(
                (supplier, f"A{81000 + n:05d}", day, 1, 10 + n, uuid.uuid4(),
                 dt.datetime.now(dt.UTC))
            )  # fmt: skip

    for age in range(1, 31):
        day = today - dt.timedelta(days=age)
        report(ids["steady"], day, 12)
        # gappy: usually 10 practices, a thin week, and its latest day lacks 3 of them
        report(ids["gappy"], day, 7 if age == 1 else (4 if 10 <= age <= 12 else 10))
        if age >= 4:  # quiet stopped sending 4 days ago
            report(ids["quiet"], day, 8 if age % 7 else 5)
    await pg.copy_records_to_table(
        "daily_requests",
        schema_name="triage",
        columns=(
            "supplier_id", "practice_code", "activity_date", "revision", "total_requests",
            "event_id", "generated_at",
        ),
        records=rows,
    )  # fmt: skip
    await pg.executemany(
        "INSERT INTO triage.supplier_activity VALUES ($1, now() - $2::interval, $3)",
        [
            (ids["steady"], dt.timedelta(hours=2), today - dt.timedelta(days=1)),
            (ids["gappy"], dt.timedelta(hours=30), today - dt.timedelta(days=1)),
            (ids["quiet"], dt.timedelta(days=3, hours=5), today - dt.timedelta(days=4)),
        ],
    )
    columns = "supplier_id, practice_code, activity_date, revision, total_requests, event_id"
    await pg.execute(
        f"INSERT INTO triage.daily_request_revisions ({columns}, generated_at, source_topic,"
        f" source_partition, source_offset) SELECT {columns}, generated_at,"
        " 'triage.daily.' || supplier_id, 0, row_number() OVER ()"
        " FROM triage.daily_requests WHERE activity_date = $1",
        today - dt.timedelta(days=1),
    )
    rejections = [
        (ids["gappy"], "negative_count"),
        (ids["gappy"], "negative_count"),
        (ids["gappy"], "inconsistent_breakdown"),
        (None, "undecodable"),
    ]
    await pg.executemany(
        "INSERT INTO triage.rejected_events (source_topic, source_partition, source_offset,"
        " key, value, supplier_id, reason, detail) VALUES ($1, 0, $2, NULL, $3, $4, $5, 'x')",
        [
            (f"triage.daily.{s or 'nobody'}", n, b"\x00", s, reason)
            for n, (s, reason) in enumerate(rejections)
        ],
    )
    return ids


# --- what a person sees ------------------------------------------------------------------


async def _check_supplier_table(page: DevTools, ids: dict[str, str], text: str) -> None:
    rows = await page.js(
        """[...document.querySelectorAll('#suppliers tbody tr')].map(tr => ({
            id: tr.id.replace('supplier-', ''),
            status: tr.querySelector('.badge').innerText.trim(),
            colour: getComputedStyle(tr.querySelector('.dot')).backgroundColor,
            cells: [...tr.cells].map(c => c.innerText.trim()),
        }))"""
    )
    by_id = {r["id"]: r for r in rows}
    # Worst first: silent, late, never reported, ok.
    assert [r["id"] for r in rows] == [
        ids["quiet"], ids["gappy"], ids["newco"], ids["steady"]
    ]  # fmt: skip
    assert by_id[ids["quiet"]]["status"] == "silent"
    assert by_id[ids["quiet"]]["colour"] == "rgb(196, 22, 28)"
    assert by_id[ids["gappy"]]["status"] == "late"
    assert by_id[ids["gappy"]]["colour"] == "rgb(179, 92, 0)"
    assert by_id[ids["steady"]]["status"] == "ok"
    assert by_id[ids["steady"]]["colour"] == "rgb(30, 123, 52)"
    assert by_id[ids["newco"]]["cells"][2] == "never"
    gappy = by_id[ids["gappy"]]["cells"]
    assert gappy[6].startswith("3")  # rejections in 24 h
    assert "negative_count: 2" in gappy[6]
    assert gappy[7].startswith("3")  # missing practices
    assert "A81007" in gappy[7] and "A81009" in gappy[7]
    assert by_id[ids["steady"]]["cells"][5] == "12"  # events stored in 24 h
    assert "undecodable: 1" in text  # rejections not attributed to a supplier
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "status_page_rows.json").write_text(json.dumps(rows, indent=2))


async def _check_heat_map(page: DevTools, ids: dict[str, str]) -> None:
    svg = await page.js(
        """(() => { const s = document.querySelector('svg#coverage');
            const r = s.getBoundingClientRect();
            return {width: r.width, height: r.height,
                    cells: s.querySelectorAll('rect.cell').length,
                    none: [...s.querySelectorAll('rect.level-none')]
                          .map(c => c.dataset.supplier + ' ' + c.dataset.day),
                    low: s.querySelectorAll('rect.level-low').length,
                    labels: [...s.querySelectorAll('text')].map(t => t.textContent)};
        })()"""
    )
    assert svg["cells"] == 4 * 30
    assert svg["width"] > 800 and svg["height"] > 100
    today = dt.date.today()
    quiet_gaps = {f"{ids['quiet']} {today - dt.timedelta(days=n)}" for n in (1, 2, 3)}
    assert quiet_gaps <= set(svg["none"])
    assert svg["low"] == 3  # gappy's thin days
    assert not any(ids["newco"] in c for c in svg["none"])  # never reported: nothing due
    assert ids["steady"] in svg["labels"]


# --- the test ----------------------------------------------------------------------------


async def test_status_page_in_headless_chromium(
    pg: asyncpg.Connection, settings: Settings, token: str
) -> None:
    chromium_binary()
    ids = await _seed(pg, token)
    metrics = IngestMetrics()
    refresher = FreshnessRefresher(settings, metrics)

    class Ready:
        ready = True

    class Service:
        readiness = Ready()

    Service.metrics = metrics  # type: ignore[attr-defined]
    http = await start_http_server(settings, Service(), refresher)  # type: ignore[arg-type]
    url = f"http://127.0.0.1:{http.addresses[0][1]}/"
    try:
        async with chromium_page(WIDTH, HEIGHT) as page:
            await page.call("Page.enable")
            await page.call("Network.enable")
            await page.call("Page.navigate", url=url)
            await page.wait_event("Page.loadEventFired")

            text: str = await page.js("document.body.innerText")
            title: str = await page.js("document.title")
            assert title == "Triage ingestion: silent"
            assert "Supplier feeds: ingestion status" in text
            for supplier in ids.values():
                assert supplier in text
            for words in ("Steady Health", "never reported", "late after 26h"):
                assert words in text

            await _check_supplier_table(page, ids, text)
            await _check_heat_map(page, ids)

            # Self-contained: nothing fetched besides the page itself.
            resources = await page.js("performance.getEntriesByType('resource').length")
            assert resources == 0
            requested = [
                e["params"]["request"]["url"]
                for e in page.events
                if e.get("method") == "Network.requestWillBeSent"
            ]
            assert [u for u in requested if not u.startswith("data:")] == [url]

            # A full-page screenshot for people to look at.
            size = await page.js(
                "({w: document.documentElement.scrollWidth,"
                " h: document.documentElement.scrollHeight})"
            )
            assert size["w"] <= WIDTH  # no horizontal scrolling at this width
            shot = await page.call(
                "Page.captureScreenshot",
                format="png",
                captureBeyondViewport=True,
                clip={"x": 0, "y": 0, "width": WIDTH, "height": size["h"], "scale": 1},
            )
            ARTIFACTS.mkdir(exist_ok=True)
            png = base64.b64decode(shot["data"])
            assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 20_000
            (ARTIFACTS / "status_page.png").write_bytes(png)
    finally:
        await http.cleanup()
        await refresher.close()
