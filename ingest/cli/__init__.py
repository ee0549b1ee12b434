"""The ``ingest`` command line: one typer app assembled from one module per command group."""

from __future__ import annotations

import sys

import typer

from ingest.cli import (
    analytics_cmd,
    conformance_cmd,
    demo_cmd,
    dlq_cmd,
    publish_cmd,
    push_cmd,
    reference_cmd,
    schemas_cmd,
    service_cmd,
    stack_cmd,
    status_cmd,
    suppliers_cmd,
)
from ingest.errors import IngestError

app = typer.Typer(
    name="ingest",
    help="Ingestion service for NHS online-triage suppliers' daily feeds.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)


def _register() -> None:
    """Each command module adds its commands or sub-command group to the app."""
    for module in (
        stack_cmd,
        service_cmd,
        suppliers_cmd,
        dlq_cmd,
        status_cmd,
        push_cmd,
        conformance_cmd,
        reference_cmd,
        analytics_cmd,
        publish_cmd,
        schemas_cmd,
        demo_cmd,
    ):
        module.register(app)


_register()


def main() -> None:
    """Console entry point: project errors end as one clear line, not a traceback."""
    try:
        app()
    except IngestError as exc:
        typer.secho(f"error: {exc}", err=True, fg=typer.colors.RED)
        sys.exit(2)
