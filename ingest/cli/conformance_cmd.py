"""``ingest conformance rows|check``: the supplier conformance kit (docs/suppliers.md)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from ingest.cli.common import settings as load_cli_settings
from ingest.clock import local_today, system_clock
from ingest.contract.model import check_supplier_id
from ingest.supplier.conformance import make_rows, read_rows, verdicts, write_rows
from ingest.supplier.feedback import outcomes_of

_out = Console(highlight=False, soft_wrap=True)


def register(app: typer.Typer) -> None:
    group = typer.Typer(
        help="The supplier conformance kit: rows to send with your own client, then a"
        " row-by-row check of what became of them.",
        no_args_is_help=True,
    )

    @group.command("rows")
    def rows(
        supplier: Annotated[str, typer.Option("--supplier", help="Your supplier id.")],
        out: Annotated[Path, typer.Option("--out", help="The CSV file to write.")],
        schema_version: Annotated[
            int,
            typer.Option(
                "--schema-version",
                help="The schema your client writes: 1 (default), 2 or 3 (3 adds the time-band"
                " rows).",
            ),
        ] = 1,
    ) -> None:
        """Write the kit's rows (one per outcome and reason code), dated from today."""
        check_supplier_id(supplier)
        cfg = load_cli_settings()
        made = make_rows(supplier, local_today(system_clock(), cfg.timezone), schema_version)
        write_rows(made, out)
        _out.print(f"{len(made)} rows written to {escape(str(out))}: send them in file order")

    @group.command("check")
    def check(
        file: Annotated[Path, typer.Argument(help="The rows file that was sent.")],
        supplier: Annotated[str, typer.Option("--supplier", help="Your supplier id.")],
        within: Annotated[
            float, typer.Option("--within", help="Seconds to wait for every outcome.")
        ] = 60.0,
    ) -> None:
        """Read your feedback topic and check every row's outcome; exit 1 on any mismatch."""
        check_supplier_id(supplier)
        sent = read_rows(file)
        found = asyncio.run(
            outcomes_of(load_cli_settings(), supplier, [r.event_id for r in sent], within)
        )
        results = verdicts(sent, found)
        table = Table(title=f"conformance of {escape(supplier)}")
        for column in ("row", "case", "expected", "got", ""):
            table.add_column(column)
        for number, verdict in enumerate(results, start=2):
            table.add_row(
                str(number),
                escape(verdict.row.case),
                escape(verdict.row.expected),
                escape(verdict.got),
                "[green]ok[/green]" if verdict.ok else "[red]WRONG[/red]",
            )
        _out.print(table)
        wrong = sum(not v.ok for v in results)
        _out.print(f"{len(results) - wrong} of {len(results)} rows as the contract says")
        if wrong:
            raise typer.Exit(1)

    app.add_typer(group, name="conformance")
