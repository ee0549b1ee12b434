"""The status page renderer (pure): escaping, ordering, self-containment."""

from __future__ import annotations

import datetime as dt
import re

from ingest.contract.model import FreshnessStatus as S
from ingest.ops.freshness import (
    RosterCoverage,
    StatusSnapshot,
    SupplierActivity24h,
    SupplierFreshness,
)
from ingest.ops.status_page import render_status_page
from ingest.ops.volume import VolumeAssessment

NOW = dt.datetime(2026, 11, 25, 9, 0, tzinfo=dt.UTC)
DAYS = tuple(dt.date(2026, 11, 25) - dt.timedelta(days=n) for n in range(29, -1, -1))


def _row(supplier: str, status: S, name: str = "Name") -> SupplierFreshness:
    last = None if status is S.NEVER_REPORTED else NOW - dt.timedelta(hours=1)
    day = None if last is None else dt.date(2026, 11, 24)
    return SupplierFreshness(
        supplier, name, last, day, status, dt.timedelta(hours=26), dt.timedelta(hours=50)
    )


def _page(*rows: SupplierFreshness, **changes: object) -> str:
    snapshot = StatusSnapshot(
        now=NOW,
        today=DAYS[-1],
        suppliers=rows,
        missing={},
        activity={"unknown": SupplierActivity24h(0, {"undecodable": 2})},
        coverage={("a", DAYS[-2]): 5},
        days=DAYS,
    )
    for key, value in changes.items():
        object.__setattr__(snapshot, key, value)
    return render_status_page(snapshot)


def test_names_are_escaped() -> None:
    page = _page(_row("a", S.OK, name="<script>alert(1)</script>"))
    assert "<script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_worst_first_and_title_says_the_worst() -> None:
    page = _page(_row("a", S.OK), _row("b", S.SILENT), _row("c", S.LATE))
    assert "<title>Triage ingestion: silent</title>" in page
    order = re.findall(r'<tr id="supplier-(\w+)"', page)
    assert order == ["b", "c", "a"]


def test_self_contained_no_external_reference() -> None:
    page = _page(_row("a", S.OK))
    assert not re.search(r'(src|href)="(https?:)?//', page)
    assert "<script" not in page
    assert page.count('class="cell') == 30
    assert "undecodable" in page  # rejections of no registered supplier


def test_no_supplier_yet() -> None:
    page = _page()
    assert "No active supplier is registered" in page


def test_every_supplier_controlled_text_is_escaped() -> None:
    hostile = '<img src=x onerror="alert(1)">'
    page = _page(
        _row("a", S.OK, name=hostile),
        activity={"a": SupplierActivity24h(1, {hostile: 1})},
        missing={"a": (hostile,)},
        database_error=hostile,
    )
    assert "<img" not in page
    assert page.count("&lt;img src=x onerror=&#34;alert(1)&#34;&gt;") == 4


def test_roster_coverage_and_a_flagged_volume_are_shown() -> None:
    page = _page(
        _row("a", S.OK),
        _row("b", S.OK),
        roster={"a": RosterCoverage(dt.date(2026, 11, 24), 120, 110, 97)},
        volume={
            "a": VolumeAssessment(
                "a", dt.date(2026, 11, 24), 8900, 6, 10000.0, -0.11, -9.5, True, "drop"
            ),
            "b": VolumeAssessment(
                "b", dt.date(2026, 11, 24), 500, 2, 510.0, -0.02, -0.4, False, None
            ),
        },
    )
    row_a = page[page.index('id="supplier-a"') :].split("</tr>")[0]
    row_b = page[page.index('id="supplier-b"') :].split("</tr>")[0]
    assert "120 installed, 110 participating, 97 reporting on 2026-11-24" in row_a
    assert (
        "<strong>-11.0% against the median of 6 same weekdays (8,900 vs 10,000): flagged drop"
        in row_a
    )
    assert "2 weeks of history: not assessed yet" in row_b
    assert "installed" not in row_b  # no roster for b
