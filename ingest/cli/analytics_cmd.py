"""``ingest export`` (boundary-consistent daily series as CSV) and ``ingest quality-report``."""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path
from typing import Annotated, BinaryIO
from zoneinfo import ZoneInfo

import typer
from rich.console import Console

from ingest.analytics.export import ExportRequest, ExportStats, Level, Period, export_csv
from ingest.analytics.quality_report import ReportFormat, collect, render
from ingest.cli.common import database, run_async, settings
from ingest.output_file import atomic_output, check_target

_err = Console(stderr=True, highlight=False, soft_wrap=True)


def _iso_date(value: str, option: str) -> dt.date:
    try:
        if len(value) != 10:
            raise ValueError(value)
        return dt.date.fromisoformat(value)
    except ValueError as exc:
        raise typer.BadParameter(f"{value!r} is not a date YYYY-MM-DD", param_hint=option) from exc


def export(
    by: Annotated[Level, typer.Option("--by", help="Aggregation level.")],
    from_: Annotated[str, typer.Option("--from", help="First activity date (YYYY-MM-DD).")],
    to: Annotated[str, typer.Option("--to", help="Last activity date (YYYY-MM-DD).")],
    vintage: Annotated[
        str | None,
        typer.Option(
            help="Boundary date: the whole series is attributed to sub-ICBs/ICBs as they stood "
            "that day. Default: today.",
        ),
    ] = None,
    out: Annotated[
        Path | None, typer.Option(help="CSV file to write (default: standard output).")
    ] = None,
    period: Annotated[
        Period,
        typer.Option(
            help="What one row sums: a day, an ISO week (Monday-Sunday) or a month, cut to "
            "--from/--to. Every row carries its completeness (docs/analytics.md).",
        ),
    ] = Period.DAY,
    by_band: Annotated[
        bool,
        typer.Option(
            "--by-band",
            help="Add submissions by UK local time of day: the nine time bands of schema v3"
            " (requests_00_06 ... requests_18_24, requests_time_unknown) and"
            " requests_time_not_reported (sent without bands); the ten sum to total_requests.",
        ),
    ] = False,
) -> None:
    """Stream totals per day, week or month as CSV (header row, ISO dates), summing
    suppliers; each row carries its completeness and the list-size extract used."""
    cfg = settings()
    start, end = _iso_date(from_, "--from"), _iso_date(to, "--to")
    today = dt.datetime.now(ZoneInfo(cfg.timezone)).date()
    boundary = _iso_date(vintage, "--vintage") if vintage else today
    request = ExportRequest(by, start, end, boundary, period, by_band)

    async def go(sink: BinaryIO) -> ExportStats:
        async def write(chunk: bytes) -> None:
            sink.write(chunk)

        async with database(cfg) as conn:
            return await export_csv(conn, request, write)

    if out is not None:
        check_target(out)  # before the work: a bad --out is one line, at once
    if out is None:
        stats = run_async(go(sys.stdout.buffer))
        sys.stdout.buffer.flush()
        target = "standard output"
    else:
        with atomic_output(out) as sink:
            stats = run_async(go(sink))
        target = str(out)
    _err.print(
        f"exported {stats.rows:,} rows ({stats.bytes:,} bytes) by {by.value} per {period.value}"
        f"{' with time bands' if by_band else ''}, "
        f"{start} to {end}, vintage {boundary}, to {target}"
    )


def quality_report(
    supplier: Annotated[str, typer.Option(help="Supplier id.")],
    out: Annotated[Path, typer.Option(help="File to write.")],
    days: Annotated[
        int,
        typer.Option(min=1, max=3660, help="Days covered, ending yesterday (today is not due)."),
    ] = 30,
    fmt: Annotated[
        ReportFormat | None,
        typer.Option("--format", help="html or md (default: from --out's suffix, else html)."),
    ] = None,
) -> None:
    """Write a supplier's data-quality report: self-contained HTML, or Markdown for email."""
    cfg = settings()
    check_target(out)  # before the work: a bad --out is one line, at once
    chosen = fmt or (ReportFormat.MARKDOWN if out.suffix.lower() == ".md" else ReportFormat.HTML)

    async def go() -> str:
        async with database(cfg) as conn:
            data = await collect(conn, supplier, days=days, timezone=cfg.timezone)
        return render(data, chosen)

    text = run_async(go())
    with atomic_output(out) as sink:
        sink.write(text.encode("utf-8"))
    _err.print(f"wrote the {chosen.value} quality report of {supplier} ({days} days) to {out}")


def register(app: typer.Typer) -> None:
    """Add the top-level ``export`` and ``quality-report`` commands to ``app``."""
    app.command("export")(export)
    app.command("quality-report")(quality_report)
