"""``ingest status``: the suppliers' freshness in the terminal, with an exit code for scripts.

Exit codes: 0 when every active supplier is ok (or never reported: a supplier registered but
not sending yet is not an outage; ``--strict`` counts it as failing too), 1 when any supplier
is late or silent, 2 when Postgres cannot be read (the error is printed).
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Annotated
from zoneinfo import ZoneInfo

import asyncpg
import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from ingest.cli.common import database, run_async, settings
from ingest.cli.tables import Cell, Column, fitted
from ingest.clock import system_clock
from ingest.contract.model import FreshnessStatus
from ingest.durations import format_duration
from ingest.errors import StoreUnavailableError
from ingest.ops.freshness import SupplierActivity24h, SupplierFreshness, status_exit_code
from ingest.ops.freshness_store import (
    fetch_activity_since,
    fetch_freshness,
    fetch_missing_practices,
)

STYLES: dict[FreshnessStatus, str] = {
    FreshnessStatus.OK: "bold green",
    FreshnessStatus.LATE: "bold yellow",
    FreshnessStatus.SILENT: "bold red",
    FreshnessStatus.NEVER_REPORTED: "dim",
}


@dataclass(frozen=True)
class StatusReport:
    now: dt.datetime
    suppliers: list[SupplierFreshness]
    missing: dict[str, tuple[str, ...]]
    activity: dict[str, SupplierActivity24h]


async def read_status(conn: asyncpg.Connection, now: dt.datetime) -> StatusReport:
    """Freshness, missing practices and the last 24 h, evaluated at ``now``."""
    async with conn.transaction(readonly=True, isolation="repeatable_read"):
        suppliers = await fetch_freshness(conn, now)
        missing = await fetch_missing_practices(conn)
        activity = await fetch_activity_since(
            conn, now - dt.timedelta(hours=24), [s.supplier_id for s in suppliers]
        )
    return StatusReport(now, suppliers, missing, activity)


def unreadable(exc: Exception) -> StoreUnavailableError:
    """The one line ``ingest status`` ends with when Postgres cannot be read; a role without
    the privileges is told which roles have them."""
    if isinstance(exc, asyncpg.InsufficientPrivilegeError):
        return StoreUnavailableError(
            f"cannot read freshness: {exc}; connect as a member of triage_reader (read-only) "
            "or triage_writer"
        )
    return StoreUnavailableError(f"cannot read freshness from Postgres: {exc}")


def _age(value: dt.timedelta | None) -> str:
    if value is None:
        return "-"
    seconds = max(int(value.total_seconds()), 0)
    hours, rest = divmod(seconds, 3600)
    return f"{hours}h{rest // 60:02d}m"


def render_tables(report: StatusReport, timezone: str, console: Console) -> list[Table]:
    """The freshness table, stacked into several (the supplier id repeated) when the console
    is too narrow for every column whole."""
    zone = ZoneInfo(timezone)
    local_now = report.now.astimezone(zone).strftime("%Y-%m-%d %H:%M %Z")
    columns = [
        *(Column(c) for c in ("supplier", "status", "last valid event", "age", "latest day")),
        Column("late / silent after"),
        *(Column(c, right=True) for c in ("missing practices", "stored 24h", "rejected 24h")),
    ]
    rows: list[list[Cell]] = []
    for s in report.suppliers:
        activity = report.activity.get(s.supplier_id, SupplierActivity24h())
        last = (
            s.last_event_at.astimezone(zone).strftime("%Y-%m-%d %H:%M")
            if s.last_event_at is not None
            else "never"
        )
        rows.append(
            [
                Text(s.supplier_id),
                f"[{STYLES[s.status]}]{s.status.value}[/]",
                last,
                _age(s.age(report.now)),
                s.latest_activity_date.isoformat() if s.latest_activity_date else "-",
                f"{format_duration(s.warn_after)} / {format_duration(s.error_after)}",
                str(len(report.missing.get(s.supplier_id, ()))),
                str(activity.stored_events),
                str(activity.rejected),
            ]
        )
    return fitted(console, f"Supplier freshness at {local_now}", columns, rows)


def as_json(report: StatusReport) -> str:
    return json.dumps(
        {
            "now": report.now.isoformat(),
            "suppliers": [
                {
                    "supplier_id": s.supplier_id,
                    "name": s.name,
                    "status": s.status.value,
                    "last_event_at": s.last_event_at.isoformat() if s.last_event_at else None,
                    "latest_activity_date": (
                        s.latest_activity_date.isoformat() if s.latest_activity_date else None
                    ),
                    "warn_after_seconds": s.warn_after.total_seconds(),
                    "error_after_seconds": s.error_after.total_seconds(),
                    "missing_practices": list(report.missing.get(s.supplier_id, ())),
                }
                for s in report.suppliers
            ],
        },
        indent=2,
    )


def register(app: typer.Typer) -> None:
    @app.command("status")
    def status(
        strict: Annotated[
            bool, typer.Option(help="Count never-reported suppliers as failing (exit 1).")
        ] = False,
        as_json_output: Annotated[
            bool, typer.Option("--json", help="Print JSON instead of a table.")
        ] = False,
    ) -> None:
        """Suppliers' freshness; exit 0 when all ok, 1 when any is late or silent."""
        cfg = settings()

        async def go() -> StatusReport:
            try:
                async with database(cfg) as conn:
                    return await read_status(conn, system_clock())
            except (
                OSError,
                asyncpg.PostgresError,
                asyncpg.InterfaceError,
                StoreUnavailableError,
            ) as exc:
                raise unreadable(exc) from exc

        report = run_async(go())
        if as_json_output:
            typer.echo(as_json(report))
        elif not report.suppliers:
            Console().print("no active supplier is registered (ingest suppliers add)")
        else:
            console = Console()
            for table in render_tables(report, cfg.timezone, console):
                console.print(table)
            missing = {k: v for k, v in report.missing.items() if v}
            for supplier, codes in sorted(missing.items()):
                shown = ", ".join(codes[:20]) + (" ..." if len(codes) > 20 else "")
                console.print(
                    f"[yellow]{escape(supplier)}[/]: missing from its latest day: {escape(shown)}"
                )
        code = status_exit_code((s.status for s in report.suppliers), never_reported_fails=strict)
        raise typer.Exit(code)
