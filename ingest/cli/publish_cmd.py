"""``ingest publish --month YYYY-MM --out DIR``: the month's publication as NHS England
publishes it (``ingest.analytics.publication``)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from ingest.analytics.publication.files import month_bounds
from ingest.analytics.publication.publish import (
    Edition,
    MonthFiles,
    collect_month,
    previous_edition,
    write_edition,
)
from ingest.cli.common import database, run_async, settings

_out = Console(highlight=False, soft_wrap=True)


def publish(
    month: Annotated[str, typer.Option(help="The month to publish (YYYY-MM).")],
    out: Annotated[
        Path,
        typer.Option(
            help="Folder of this month's publication (created; publishing again writes a new "
            "edition and what changed)."
        ),
    ],
) -> None:
    """Publish a month as NHS England publishes it: publication.xlsx (Title sheet, Data
    Quality, Tables 1-3), practices.csv, national.csv (the window), time_bands.csv, index.html
    and README.md. Run it as triage_reader: it only reads."""
    try:
        month_bounds(month)
    except ValueError as exc:
        raise typer.BadParameter(f"{month!r} is not a month YYYY-MM", param_hint="--month") from exc
    cfg = settings()
    since = previous_edition(out, month)  # refuses a folder with links before reading data

    async def go() -> MonthFiles:
        async with database(cfg) as conn:
            return await collect_month(conn, month, since)

    month_files = run_async(go())
    edition: Edition = write_edition(out, month_files, dt.datetime.now(dt.UTC))
    if not edition.created:
        _out.print(f"{month}: unchanged since edition {edition.number} in {out}", markup=False)
        return
    changed = (
        f"; {edition.changed_figures:,} figure(s) changed since edition {edition.number - 1}"
        if edition.changed_figures is not None
        else ""
    )
    _out.print(
        f"{month}: edition {edition.number} written to {out} "
        f"({len(month_files.practices):,} practices){changed}",
        markup=False,
    )


def register(app: typer.Typer) -> None:
    """Add the top-level ``publish`` command to ``app``."""
    app.command("publish")(publish)
