"""``ingest datapackage --out FILE``: the Frictionless data package descriptor of every dataset
the project publishes (``ingest.analytics.datapackage``), for people and tools to read the
files by."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from ingest.analytics.datapackage import descriptor
from ingest.output_file import atomic_output


def datapackage(
    out: Annotated[Path, typer.Option(help="Where to write datapackage.json (replaced whole).")],
) -> None:
    """Write the data package descriptor: the publication's practices.csv, national.csv and
    time_bands.csv and the activity CSV, each column's type, constraints and meaning."""
    text = json.dumps(descriptor(), indent=2, ensure_ascii=False) + "\n"
    with atomic_output(out) as sink:
        sink.write(text.encode("utf-8"))
    typer.echo(f"data package descriptor written to {out}", err=True)


def register(app: typer.Typer) -> None:
    """Add the top-level ``datapackage`` command to ``app``."""
    app.command("datapackage")(datapackage)
