"""The quality report's renderers (pure): supplier-controlled text never becomes markup."""

from __future__ import annotations

import datetime as dt
import html
from html.parser import HTMLParser

from markdown_it import MarkdownIt

from ingest.analytics.quality_report import QualityData, render_html, render_markdown
from ingest.analytics.quality_report.markdown_report import md_text
from ingest.analytics.quality_report.model import (
    DayVolume,
    LateDay,
    MissingPractice,
    ReasonSummary,
    RejectionSample,
    UnknownPractice,
)

NOW = dt.datetime(2026, 11, 25, 9, 0, tzinfo=dt.UTC)
DAY = dt.date(2026, 11, 24)

# Each would render as a link, an image, raw HTML or a new cell if printed as it is.
HOSTILE = (
    "[click](https://evil.example/a)",
    "![pixel](https://evil.example/p.png)",
    "<img src=x onerror=alert(1)>",
    "<https://evil.example/auto>",
    "www.evil-example.com",  # linkify needs a real top-level domain
    "https://evil.example/bare",
    "victim@evil-example.com",
    "[ref][1]\n\n[1]: https://evil.example/ref",
    "cell | break",
)
HOSTILE_TEXT = " ".join(HOSTILE)
HOSTILE_LINE = HOSTILE_TEXT.replace("\n", " ")  # printable bytes are shown as text, not hex


def hostile_report() -> QualityData:
    sample = RejectionSample(
        received_at=NOW,
        source_topic=f"topic {HOSTILE_TEXT}",
        source_partition=0,
        source_offset=7,
        key=f"key {HOSTILE_LINE}".encode(),
        value_head=b"\xc3\x01" + bytes(398),
        value_length=400,
        detail=f"detail {HOSTILE_TEXT}",
        decoded=f"value {HOSTILE_LINE}",  # a decoded value carries the supplier's text
    )
    return QualityData(
        supplier_id=f"id {HOSTILE_TEXT}",
        supplier_name=f"name {HOSTILE_TEXT}",
        period_start=DAY,
        period_end=DAY,
        generated_at=NOW,
        timezone="Europe/London",
        warn_after=dt.timedelta(hours=26),
        practice_days=1,
        restated_practice_days=0,
        revisions_received=1,
        rejected_total=1,
        reasons=(ReasonSummary(f"reason `{HOSTILE_TEXT}", 1, NOW, NOW, (sample,)),),
        volumes=(DayVolume(DAY, 1, 10),),
        rejected_by_day=((DAY, 1),),
        late_days=(LateDay(DAY, 1, 1, dt.timedelta(hours=3)),),
        missing=(
            MissingPractice(
                f"code {HOSTILE_TEXT}", f"practice {HOSTILE_TEXT}", None, 1, DAY, DAY, None
            ),
        ),
        unknown_practices=(UnknownPractice(f"unknown {HOSTILE_TEXT}", DAY, DAY, 1),),
    )


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: set[str] = set()
        self.attributes: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.add(tag)
        self.attributes.update(name for name, _ in attrs)


def tags_of(page: str) -> _Tags:
    parser = _Tags()
    parser.feed(page)
    return parser


def as_mail_client_renders(markdown: str) -> str:
    """GFM-like rendering: tables, strikethrough, bare-URL autolinks, raw HTML allowed."""
    return MarkdownIt("gfm-like", {"html": True, "linkify": True}).render(markdown)


def test_markdown_report_renders_no_link_image_or_html_from_supplier_text() -> None:
    rendered = as_mail_client_renders(render_markdown(hostile_report()))
    tags = tags_of(rendered)
    assert not {"a", "img", "script"} & tags.tags, tags.tags
    assert "onerror" not in tags.attributes


def test_markdown_report_shows_supplier_text_literally() -> None:
    rendered = html.unescape(as_mail_client_renders(render_markdown(hostile_report())))
    for text in HOSTILE:
        for line in text.splitlines():
            if line:
                assert line in rendered, line


def test_markdown_text_keeps_ordinary_figures_readable() -> None:
    assert md_text("5.3% (1 of 19 practice-days)") == "5.3% (1 of 19 practice-days)"
    assert md_text("CASTLE GATE PARTNERSHIP") == "CASTLE GATE PARTNERSHIP"


def test_html_report_escapes_every_cell_and_heading() -> None:
    page = render_html(hostile_report())
    tags = tags_of(page)
    assert not {"a", "img", "script", "link"} & tags.tags, tags.tags
    assert "onerror" not in tags.attributes and "href" not in tags.attributes
    text = html.unescape(page)
    for field in ("key", "value"):
        assert f"{field} {HOSTILE_LINE}" in text, field
    for field in ("id", "name", "topic", "detail", "code", "practice", "unknown"):
        assert f"{field} {HOSTILE_TEXT}" in text, field


def test_html_report_draws_one_bar_per_day_with_its_figures() -> None:
    page = render_html(hostile_report())
    assert page.startswith("<!DOCTYPE html>")
    assert page.count("<svg") == 1
    assert f"<title>{DAY.isoformat()}: 10 requests, 1 practices</title>" in page
