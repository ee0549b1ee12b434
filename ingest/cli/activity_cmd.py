"""``ingest activity --month YYYY-MM [--icb CODE] --out FILE.csv``: appointments (GPAD)
beside online consultation submissions per practice, and which practices look quiet in
appointments while busy online (``ingest.analytics.activity``)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from ingest.analytics.activity.collect import PracticeActivity, collect_activity
from ingest.analytics.activity.csv_file import activity_csv
from ingest.analytics.activity.page import render_activity_page
from ingest.cli.common import database, run_async, settings
from ingest.output_file import atomic_output, check_target
from ingest.reference.csv_input import ORG_CODE_RE

_err = Console(stderr=True, highlight=False, soft_wrap=True)


def parse_month_option(value: str) -> dt.date:
    """``YYYY-MM`` as the month's first day (typer.BadParameter otherwise)."""
    try:
        if len(value) != 7 or value[4] != "-":
            raise ValueError(value)
        return dt.date(int(value[:4]), int(value[5:]), 1)
    except ValueError as exc:
        raise typer.BadParameter(f"{value!r} is not a month YYYY-MM", param_hint="--month") from exc


def activity(
    month: Annotated[str, typer.Option(help="The month (YYYY-MM).")],
    out: Annotated[Path, typer.Option(help="The CSV file to write (replaced whole).")],
    icb: Annotated[
        str | None,
        typer.Option(help="Only this ICB's practices (ODS code, e.g. QHM); the rule is the same."),
    ] = None,
    pages: Annotated[
        Path | None,
        typer.Option(
            help="Also write an HTML page per ICB into this existing folder "
            "(activity-<ICB>-<YYYY-MM>.html): every practice as a point, the practices that "
            "look quiet in appointments listed with their figures.",
            file_okay=False,
        ),
    ] = None,
) -> None:
    """One row per practice with appointments or online consultation submissions in the month:
    appointments by mode and status (NHS England's GPAD, `ingest reference appointments`),
    submissions, both per 1,000 registered patients, and looks_quiet_in_appointments: among
    the fifth of its ICB's practices with the fewest appointments per 1,000, yet at or above
    the ICB's median of online submissions per 1,000 (docs/analytics.md)."""
    first_day = parse_month_option(month)
    code = None if icb is None else icb.strip().upper()
    if code is not None and not ORG_CODE_RE.fullmatch(code):
        raise typer.BadParameter(f"{icb!r} is not an ODS ICB code", param_hint="--icb")
    check_target(out)
    if pages is not None and not pages.is_dir():
        raise typer.BadParameter(f"{pages} is not an existing folder", param_hint="--pages")
    cfg = settings()

    async def go() -> list[PracticeActivity]:
        async with database(cfg) as conn:
            return await collect_activity(conn, first_day, code)

    practices = run_async(go())
    with atomic_output(out) as sink:
        sink.write(activity_csv(practices))
    if pages is not None:
        written = write_pages(pages, first_day, practices)
        _err.print(f"{month}: {written:,} ICB pages written to {pages}", markup=False)
    if not any(p.appointments is not None for p in practices):
        _err.print(
            f"{month}: no GPAD appointments are loaded for this month (ingest reference "
            "appointments): nobody can look quiet in appointments",
            markup=False,
        )
    flagged = sum(p.looks_quiet_in_appointments for p in practices)
    where = f" in {code}" if code else ""
    _err.print(
        f"{month}: {len(practices):,} practices{where} written to {out}; "
        f"{flagged:,} look quiet in appointments",
        markup=False,
    )


def write_pages(folder: Path, month: dt.date, practices: list[PracticeActivity]) -> int:
    """One page per ICB of ``practices`` into ``folder``; how many."""
    now = dt.datetime.now(dt.UTC)
    by_icb: dict[str, list[PracticeActivity]] = {}
    for p in practices:
        if p.icb_code is not None:
            by_icb.setdefault(p.icb_code, []).append(p)
    for code, members in sorted(by_icb.items()):
        with atomic_output(folder / f"activity-{code}-{month:%Y-%m}.html") as sink:
            sink.write(render_activity_page(code, month, members, now).encode("utf-8"))
    return len(by_icb)


def register(app: typer.Typer) -> None:
    """Add the top-level ``activity`` command to ``app``."""
    app.command("activity")(activity)
