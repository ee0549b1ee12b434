"""The ``ingest`` command line: one typer app assembled from one module per command group."""

from __future__ import annotations

import importlib
import sys

import typer

from ingest.errors import IngestError

app = typer.Typer(
    name="ingest",
    help="Ingestion service for NHS online-triage suppliers' daily feeds.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)

# (module, sub-command group name or None for top-level commands)
_COMMAND_MODULES: tuple[str, ...] = (
    "ingest.cli.stack_cmd",
    "ingest.cli.service_cmd",
    "ingest.cli.suppliers_cmd",
    "ingest.cli.dlq_cmd",
    "ingest.cli.status_cmd",
    "ingest.cli.push_cmd",
    "ingest.cli.reference_cmd",
    "ingest.cli.analytics_cmd",
    "ingest.cli.demo_cmd",
)


def _register() -> None:
    for name in _COMMAND_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name == name:
                continue  # command group not built yet
            raise
        module.register(app)


_register()


def main() -> None:
    """Console entry point: project errors end as one clear line, not a traceback."""
    try:
        app()
    except IngestError as exc:
        typer.secho(f"error: {exc}", err=True, fg=typer.colors.RED)
        sys.exit(2)
