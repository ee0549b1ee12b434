"""The ``ingest`` command line: one typer app assembled from one module per command group."""

from __future__ import annotations

import logging
import sys

import typer
from aiokafka.errors import KafkaError

from ingest.cli import (
    activity_cmd,
    analytics_cmd,
    conformance_cmd,
    datapackage_cmd,
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
from ingest.kafka import connection_failures
from ingest.redaction import redact_text
from ingest.settings import load_settings

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
        activity_cmd,
        datapackage_cmd,
        publish_cmd,
        schemas_cmd,
        demo_cmd,
    ):
        module.register(app)


_register()


# Libraries whose warnings a one-shot command reports itself, in one line: they stay silent
# unless logging is configured (``ingest run`` and ``ingest demo`` configure it).
QUIET_UNLESS_CONFIGURED = ("aiokafka", "asyncio")


def main() -> None:
    """Console entry point: project errors, unusable options and an unreachable or refusing
    broker end as one clear line (exit 2), not a traceback or a panel."""
    for name in QUIET_UNLESS_CONFIGURED:
        logging.getLogger(name).addHandler(logging.NullHandler())
    try:
        with connection_failures() as failures:
            code = app(standalone_mode=False)
    except IngestError as exc:
        _fail(str(exc))
    except KafkaError as exc:
        if failures.authentication:
            _fail(
                f"Kafka{_at_bootstrap()}: authentication failed (check the user name and password)"
            )
        _fail(f"Kafka{_at_bootstrap()}: {exc} (check the address and the security settings)")
    except typer.Abort:
        typer.echo("Aborted.", err=True)
        sys.exit(1)
    except typer.TyperException as exc:  # click's usage errors (bad or missing options)
        if type(exc).__name__ == "NoArgsIsHelpError":  # bare `ingest` or `ingest GROUP`
            typer.echo(exc.format_message())
            sys.exit(exc.exit_code)
        ctx = getattr(exc, "ctx", None)
        hint = f" (see `{ctx.command_path} --help`)" if ctx is not None else ""
        _fail(exc.format_message() + hint, exc.exit_code)
    sys.exit(code if isinstance(code, int) and not isinstance(code, bool) else 0)


def _at_bootstrap() -> str:
    try:
        return f" at {load_settings().kafka()}"
    except IngestError:
        return ""


def _fail(message: str, code: int = 2) -> None:
    typer.secho(f"error: {redact_text(message)}", err=True, fg=typer.colors.RED)
    sys.exit(code)
