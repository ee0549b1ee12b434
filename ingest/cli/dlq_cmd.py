"""``ingest dlq list | replay | outcomes``: see and re-submit rejected events."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from ingest.cli.common import database, run_async, settings, shown
from ingest.contract.model import Reason
from ingest.kafka import make_producer
from ingest.ops.replay import (
    Replayed,
    ReplayFilter,
    latest_rejections,
    replay,
    replay_outcomes,
)
from ingest.ops.retention import Purged, purge_rejection_bytes

dlq_app = typer.Typer(help="See and replay rejected events.")
console = Console()


MAX_LIMIT = 2**31 - 1  # --limit reaches Postgres as an integer: beyond it, one line


@dlq_app.command("list")
def list_rejections(
    supplier: Annotated[
        str | None,
        typer.Option(help="Only this supplier's events (by supplier id or by its topic)."),
    ] = None,
    limit: Annotated[int, typer.Option(min=1, max=MAX_LIMIT, help="How many to show.")] = 50,
) -> None:
    """The latest rejected events with their reason and detail."""
    cfg = settings()

    async def go() -> list[tuple[object, ...]]:
        async with database(cfg) as conn:
            rows = await latest_rejections(conn, supplier, limit)
            return [tuple(r) for r in rows]

    table = Table("id", "received", "source", "supplier", "reason", "detail")
    for rid, at, topic, part, off, sup, reason, detail in run_async(go()):
        table.add_row(
            str(rid),
            f"{at:%Y-%m-%d %H:%M}",
            shown(f"{topic}[{part}]@{off}"),
            shown(sup or "-"),
            shown(reason),
            shown(detail),
        )
    console.print(table)


@dlq_app.command("replay")
def replay_command(
    reason: Annotated[Reason | None, typer.Option(help="Only rejections with this reason.")] = None,
    supplier: Annotated[str | None, typer.Option(help="Only this supplier's events.")] = None,
    again: Annotated[bool, typer.Option("--again", help="Include ones replayed before.")] = False,
    limit: Annotated[
        int | None, typer.Option(min=1, max=MAX_LIMIT, help="At most this many.")
    ] = None,
) -> None:
    """Re-submit rejected events to their original topic and record each replay."""
    cfg = settings()

    async def go() -> list[Replayed]:
        producer = make_producer(cfg)
        await producer.start()
        try:
            async with database(cfg) as conn:
                return await replay(conn, producer, ReplayFilter(reason, supplier, again, limit))
        finally:
            await producer.stop()

    done = run_async(go())
    for r in done:
        console.print(
            f"replayed #{r.rejected_id} ({r.reason}) -> {r.topic}[{r.partition}]@{r.offset}",
            markup=False,
        )
    console.print(
        f"{len(done)} rejected events re-submitted; see `ingest dlq outcomes` once consumed"
    )


@dlq_app.command("outcomes")
def outcomes(
    limit: Annotated[int, typer.Option(min=1, max=MAX_LIMIT, help="How many to show.")] = 50,
) -> None:
    """What became of replayed events."""
    cfg = settings()

    async def go() -> list[tuple[object, ...]]:
        async with database(cfg) as conn:
            return [tuple(r) for r in await replay_outcomes(conn, limit)]

    table = Table("replay", "rejected", "was", "now", "new reason", "detail")
    for row in run_async(go()):
        table.add_row(
            str(row[0]),
            str(row[1]),
            shown(row[2]),
            shown(row[8]),
            shown(row[9] or ""),
            shown(row[10] or ""),
        )
    console.print(table)


@dlq_app.command("purge")
def purge(
    older_than_days: Annotated[
        int | None,
        typer.Option(
            min=0,
            help="Purge practice_not_participating rejections received more than this many"
            " days ago (default: INGEST_NOT_PARTICIPATING_RETENTION_DAYS).",
        ),
    ] = None,
    others_older_than_days: Annotated[
        int | None,
        typer.Option(
            min=1,
            help="Purge every other rejection received more than this many days ago"
            " (default: INGEST_REJECTION_BYTES_RETENTION_DAYS).",
        ),
    ] = None,
) -> None:
    """Purge the key and value of rejections past their retention (the row, reason and detail
    stay; a purged rejection can no longer be replayed). The service does the same every
    INGEST_PURGE_INTERVAL_SECONDS."""
    cfg = settings()
    days = cfg.not_participating_retention_days if older_than_days is None else older_than_days
    other_days = (
        cfg.rejection_bytes_retention_days
        if others_older_than_days is None
        else others_older_than_days
    )

    async def go() -> Purged:
        async with database(cfg) as conn:
            return await purge_rejection_bytes(
                conn, dt.timedelta(days=days), dt.timedelta(days=other_days)
            )

    purged = run_async(go())
    console.print(
        f"purged the key and value of {purged.not_participating} practice_not_participating"
        f" rejections received more than {days} days ago",
        markup=False,
    )
    console.print(
        f"purged the key and value of {purged.other} other rejections received more than"
        f" {other_days} days ago",
        markup=False,
    )


def register(app: typer.Typer) -> None:
    app.add_typer(dlq_app, name="dlq")
