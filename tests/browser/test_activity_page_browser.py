"""The ICB activity page (`ingest activity --pages DIR`) in a real headless Chromium: a
practice named with markup shows as text and runs nothing, the axes carry their labels and
ticks, every practice with appointments is a point placed by its figures, and the marked
points and the list of practices that look quiet are exactly the flagged practices of the
CSV written beside it. A screenshot is kept at ``test-artifacts/activity_page.png``."""

from __future__ import annotations

import base64
import csv
import io
from pathlib import Path

import asyncpg
import pytest

from ingest.settings import Settings
from tests.support.activity_month import set_up_month
from tests.support.activity_oracle import expected_flags
from tests.support.chromium import chromium_binary, chromium_page
from tests.support.cli import cli_env, run_cli
from tests.support.gpad import HEADER, crosstab_text, fixture_rows

pytestmark = [pytest.mark.browser, pytest.mark.integration]

REPO = Path(__file__).resolve().parents[2]
WIDTH, HEIGHT = 1200, 900
HOSTILE = '<img src=x onerror="window.pwned=1"><script>window.pwned=2</script> & "Partners"'


async def test_the_icb_page_shows_every_practice_and_lists_exactly_the_flagged_ones(
    settings: Settings, pg: asyncpg.Connection, tmp_path: Path
) -> None:
    chromium_binary()
    # The excerpt with one practice renamed by someone hostile: the quietest one of QHM.
    rows = [list(r.values()) for r in fixture_rows()]
    for row in rows:
        if row[HEADER.index("GP_CODE")] == "A81004":
            row[HEADER.index("GP_NAME")] = HOSTILE
    crosstab = tmp_path / "Practice_Level_Crosstab_Oct_24.csv"
    crosstab.write_text(crosstab_text(rows))
    expected = await set_up_month(pg, 4, crosstab)  # seed 4 flags A81004 in QHM
    flagged = expected_flags([p for p in expected.values() if p.icb_code == "QHM"])
    assert "A81004" in flagged

    out, pages = tmp_path / "activity.csv", tmp_path / "pages"
    pages.mkdir()
    done = await run_cli(
        "activity", "--month", "2024-10", "--icb", "QHM", "--out", str(out),
        "--pages", str(pages), env=cli_env(settings),
    )  # fmt: skip
    assert done.code == 0, done.output
    table = {r["practice_code"]: r for r in csv.DictReader(io.StringIO(out.read_text()))}
    page_file = pages / "activity-QHM-2024-10.html"
    assert sorted(p.name for p in pages.iterdir()) == [page_file.name]

    async with chromium_page(WIDTH, HEIGHT) as page:
        await page.call("Page.enable")
        await page.call("Page.navigate", url=page_file.as_uri())
        await page.wait_event("Page.loadEventFired")

        # Escaping: the hostile name is text, nothing of it ran or became an element.
        assert await page.js("window.pwned === undefined")
        assert await page.js("document.querySelectorAll('img, main script').length") == 0
        listed = await page.js(
            "[...document.querySelectorAll('#flagged tbody tr')].map(tr => "
            "[tr.dataset.practice, tr.cells[0].innerText])"
        )
        assert [code for code, _ in listed] == sorted(
            flagged, key=lambda c: (float(table[c]["appointments_per_1000"]), c)
        )
        assert dict(listed)["A81004"] == HOSTILE
        titles = await page.js(
            "[...document.querySelectorAll('#scatter circle')].map(c => "
            "[c.dataset.practice, c.querySelector('title').textContent])"
        )
        assert dict(titles)["A81004"].startswith(HOSTILE)

        # The figures of the list are the CSV's.
        cells = await page.js(
            "[...document.querySelectorAll('#flagged tbody tr')].map(tr => "
            "[tr.dataset.practice, tr.cells[7].innerText, tr.cells[9].innerText])"
        )
        for code, appts, subs in cells:
            assert (appts, subs) == (
                table[code]["appointments_per_1000"],
                table[code]["submissions_per_1000"],
            )

        # Axes: both labels, ticks from 0 upwards.
        texts = await page.js(
            "[...document.querySelectorAll('#scatter text')].map(t => t.textContent)"
        )
        assert any(t.startswith("GP appointments per 1,000") for t in texts)
        assert "Online submissions per 1,000 patients" in texts
        assert texts.count("0") == 2  # the origin of each axis

        # A point per practice with a list size and appointments, placed by its figures;
        # the marked ones are exactly the flagged practices.
        points = await page.js(
            "[...document.querySelectorAll('#scatter circle')].map(c => ({code: c.dataset.practice,"
            " x: +c.getAttribute('cx'), y: +c.getAttribute('cy'),"
            " marked: c.classList.contains('marked')}))"
        )
        charted = {c for c, r in table.items() if r["appointments"] not in ("", "0")}
        assert {p["code"] for p in points} == charted
        assert {p["code"] for p in points if p["marked"]} == flagged
        by_x = sorted(points, key=lambda p: p["x"])
        rates = [float(table[p["code"]]["appointments_per_1000"]) for p in by_x]
        assert rates == sorted(rates)  # further right = more appointments per 1,000
        by_y = sorted(points, key=lambda p: -p["y"])
        online = [float(table[p["code"]]["submissions_per_1000"] or 0) for p in by_y]
        assert online == sorted(online)  # higher = more online submissions per 1,000

        sentence = await page.js("document.getElementById('sentence').innerText")
        assert f"{len(flagged)} of the" in sentence and "median" in sentence

        shot = await page.call("Page.captureScreenshot", format="png", captureBeyondViewport=True)
        artifacts = REPO / "test-artifacts"
        artifacts.mkdir(exist_ok=True)
        (artifacts / "activity_page.png").write_bytes(base64.b64decode(shot["data"]))
