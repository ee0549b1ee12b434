"""The publication's summary page (``index.html``) in a real headless Chromium: the national
series over the window drawn as one bar per month, the month's headline figures, the data
quality notes (a hostile supplier name shown as text, never run), the largest changes since
the previous edition, and nothing fetched from anywhere. A screenshot is kept at
``test-artifacts/publication_page.png``."""

from __future__ import annotations

import base64
import datetime as dt
from pathlib import Path

import asyncpg
import pytest

from ingest.analytics.publication.publish import collect_month, previous_edition, write_edition
from ingest.durations import parse_duration
from ingest.ops.suppliers import add_supplier
from ingest.reference.records import ListSize, Practice, ReferenceKind
from ingest.reference.store import load_records
from tests.support.chromium import chromium_binary, chromium_page
from tests.support.daily_rows import insert_days, insert_revision

pytestmark = [pytest.mark.browser, pytest.mark.integration]

D = dt.date
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
WIDTH, HEIGHT = 1400, 1000
HOSTILE = '<img src=x onerror="document.title=1">Evil & Co'
NOW = dt.datetime(2024, 10, 5, 9, 0, tzinfo=dt.UTC)


def practice(code: str) -> Practice:
    return Practice(code, f"SURGERY {code}", "Y63", None, None, None, None, None, None, None,
                    D(1990, 1, 1), None, "A", "B", "16C", None, None, None, None, None, 4,
                    None, "england", "gp_practice")  # fmt: skip


async def test_the_summary_page_shows_the_series_notes_and_largest_changes(
    pg: asyncpg.Connection, tmp_path: Path
) -> None:
    chromium_binary()
    await load_records(
        pg, ReferenceKind.PRACTICES, [practice("A81001"), practice("A81002")], "practices"
    )
    await load_records(
        pg,
        ReferenceKind.LIST_SIZES,
        [ListSize("A81001", D(2024, 6, 1), 1000), ListSize("A81002", D(2024, 6, 1), 2000)],
        "list sizes",
    )
    await add_supplier(pg, "evil", HOSTILE, parse_duration("26h"), parse_duration("50h"))
    months = {D(2024, 7, 1): (D(2024, 7, 31), 4), D(2024, 8, 1): (D(2024, 8, 31), 6),
              D(2024, 9, 1): (D(2024, 9, 30), 10)}  # fmt: skip
    for first, (last, daily) in months.items():
        await insert_days(pg, "evil", "A81001", first, last, daily)
    await insert_days(pg, "evil", "A81002", D(2024, 9, 1), D(2024, 9, 20), 3)  # partial month
    out = tmp_path / "publication"
    write_edition(out, await collect_month(pg, "2024-09"), NOW)
    held = previous_edition(out, "2024-09")
    later = NOW + dt.timedelta(days=1)
    await insert_revision(pg, "evil", "A81001", D(2024, 9, 10), 2, 110, later, 0)
    write_edition(out, await collect_month(pg, "2024-09", held), later)

    async with chromium_page(WIDTH, HEIGHT) as page:
        await page.call("Page.enable")
        await page.call("Network.enable")
        url = (out / "index.html").as_uri()
        await page.call("Page.navigate", url=url)
        await page.wait_event("Page.loadEventFired")
        text: str = await page.js("document.body.innerText")
        assert await page.js("document.title") == "Online consultation submissions: September 2024"
        chart = await page.js(
            """(() => { const s = document.querySelector('svg#national-series');
                const r = s.getBoundingClientRect();
                return {width: r.width, height: r.height,
                        bars: [...s.querySelectorAll('rect')].filter(b => b.querySelector('title'))
                              .map(b => b.querySelector('title').textContent)}; })()"""
        )
        expected = [
            (31 * 4, "July 2024"),
            (31 * 6, "August 2024"),
            (30 * 10 + 100 + 20 * 3, "September 2024"),
        ]
        assert chart["bars"] == [f"{m}: {n:,} submissions" for n, m in expected]
        assert chart["width"] > 600 and chart["height"] > 150
        headline = await page.js("document.getElementById('headline-submissions').innerText")
        assert headline == f"{expected[-1][0]:,}"
        notes = await page.js("[...document.querySelectorAll('#notes li')].map(l => l.innerText)")
        assert any(n.startswith(HOSTILE) and "restated 1 practice-day" in n for n in notes)
        days_fed = 30 + 20  # A81001 every day, A81002 the first 20
        assert any(f"{days_fed} practice-days of the {2 * 30} expected" in n for n in notes)
        assert await page.js("document.querySelectorAll('img').length") == 0
        changes = await page.js(
            "[...document.querySelectorAll('#changes tbody tr')]"
            ".map(tr => [...tr.cells].map(c => c.innerText))"
        )
        assert changes[0] == ["national.csv", "2024-09", str(expected[-1][0] - 100),
                              str(expected[-1][0])]  # fmt: skip
        assert ["practices.csv", "A81001", "300", "400"] in changes
        assert "Largest changes since the last edition" in text
        resources = await page.js("performance.getEntriesByType('resource').length")
        assert resources == 0
        shot = await page.call(
            "Page.captureScreenshot",
            format="png",
            captureBeyondViewport=True,
            clip={"x": 0, "y": 0, "width": WIDTH, "height": 1400, "scale": 1},
        )
        ARTIFACTS.mkdir(exist_ok=True)
        (ARTIFACTS / "publication_page.png").write_bytes(base64.b64decode(shot["data"]))
