"""``ingest suppliers add | update | list | remove``: the supplier registry."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from ingest.cli.common import database, run_async, settings, shown
from ingest.contract.model import check_supplier_id, topic_for
from ingest.contract.outcomes import feedback_topic
from ingest.durations import format_duration, parse_duration
from ingest.kafka import ensure_topics, feedback_topic_spec
from ingest.ops.suppliers import (
    Supplier,
    add_supplier,
    list_suppliers,
    remove_supplier,
    update_supplier,
)
from ingest.security.acls import supplier_user
from ingest.security.admin import (
    check_authorizer,
    create_supplier_credentials,
    revoke_supplier_credentials,
    rotate_supplier_credentials,
)
from ingest.security.credentials import Credentials, admin_settings

suppliers_app = typer.Typer(help="Register suppliers and their freshness thresholds.")
console = Console()

WarnAfter = Annotated[str | None, typer.Option(help="Late after this silence, e.g. 26h.")]
ErrorAfter = Annotated[str | None, typer.Option(help="Silent after this silence, e.g. 50h.")]


def _show(supplier: Supplier, verb: str) -> None:
    console.print(
        f"{verb} supplier [bold]{supplier.supplier_id}[/] ({escape(supplier.name)}): topic"
        f" {topic_for(supplier.supplier_id)}, warn after {format_duration(supplier.warn_after)},"
        f" error after {format_duration(supplier.error_after)}, active={supplier.active}"
    )


@suppliers_app.command("add")
def add(
    supplier_id: Annotated[str, typer.Argument(help="e.g. askmygp")],
    name: Annotated[str, typer.Option(help="Display name.")],
    warn_after: WarnAfter = None,
    error_after: ErrorAfter = None,
    credentials: Annotated[
        bool,
        typer.Option(
            "--credentials",
            help="Also create the supplier's Kafka user (SASL/SCRAM-SHA-512) allowed to write"
            " its own topic only, and print its new password once.",
        ),
    ] = False,
) -> None:
    """Register a supplier and create its topic triage.daily.<id> and its feedback topic
    triage.feedback.<id> (submission outcomes, readable by that supplier only)."""
    cfg = settings()
    check_supplier_id(supplier_id)
    warn = parse_duration(warn_after or cfg.default_warn_after)
    error = parse_duration(error_after or cfg.default_error_after)
    admin_cfg = admin_settings(cfg)

    async def go() -> tuple[Supplier, Credentials | None]:
        if credentials:  # refused before any topic is created when the broker cannot hold them
            await check_authorizer(admin_cfg)
        created = await ensure_topics(admin_cfg, [topic_for(supplier_id)], cfg.topic_partitions)
        if created:
            console.print(f"created topic {created[0]} ({cfg.topic_partitions} partitions)")
        spec = feedback_topic_spec(cfg)
        if await ensure_topics(admin_cfg, [feedback_topic(supplier_id)], spec):
            console.print(
                f"created feedback topic {feedback_topic(supplier_id)} ({spec.partitions}"
                f" partitions, outcomes kept {cfg.feedback_retention_days:g} days)"
            )
        # Credentials before the registration: a failure leaves no supplier registered
        # without the access it was asked for.
        made = await create_supplier_credentials(admin_cfg, supplier_id) if credentials else None
        async with database(cfg) as conn:
            supplier = await add_supplier(conn, supplier_id, name, warn, error)
        return supplier, made

    supplier, made = run_async(go())
    _show(supplier, "registered")
    if made is not None:
        _show_credentials(supplier_id, made)


def _show_credentials(supplier_id: str, made: Credentials) -> None:
    """The new password, printed once (never logged, not stored by us)."""
    console.print(
        f"Kafka user [bold]{made.username}[/] may write {topic_for(supplier_id)} and nothing"
        " else. Its password is shown this once and stored nowhere: hand it to the supplier"
        " through a secret store. Their environment for `ingest push` or the Python producer:"
    )
    for line in made.env_lines():
        console.print(f"  {line}", markup=False, highlight=False, soft_wrap=True)


@suppliers_app.command("update")
def update(
    supplier_id: str,
    name: Annotated[str | None, typer.Option(help="New display name.")] = None,
    warn_after: WarnAfter = None,
    error_after: ErrorAfter = None,
) -> None:
    """Change a supplier's name or thresholds."""
    cfg = settings()
    warn = parse_duration(warn_after) if warn_after else None
    error = parse_duration(error_after) if error_after else None

    async def go() -> Supplier:
        async with database(cfg) as conn:
            return await update_supplier(conn, supplier_id, name, warn, error)

    _show(run_async(go()), "updated")


@suppliers_app.command("remove")
def remove(supplier_id: str) -> None:
    """Deactivate a supplier (history kept; new events rejected unknown_supplier)."""
    cfg = settings()

    async def go() -> Supplier:
        async with database(cfg) as conn:
            return await remove_supplier(conn, supplier_id)

    _show(run_async(go()), "deactivated")


@suppliers_app.command("list")
def list_command() -> None:
    """List registered suppliers."""
    cfg = settings()

    async def go() -> list[Supplier]:
        async with database(cfg) as conn:
            return await list_suppliers(conn)

    table = Table("supplier", "name", "topic", "warn after", "error after", "active")
    for s in run_async(go()):
        table.add_row(
            shown(s.supplier_id),
            shown(s.name),
            topic_for(s.supplier_id),
            format_duration(s.warn_after),
            format_duration(s.error_after),
            "yes" if s.active else "no",
        )
    console.print(table)


credentials_app = typer.Typer(help="A supplier's Kafka user: new password, or none at all.")


@credentials_app.command("rotate")
def rotate(supplier_id: str) -> None:
    """Give the supplier's Kafka user a new password, printed once. The old one stops working
    for new connections at once and for open ones within connections.max.reauth.ms (60 s on
    the secure local stack)."""
    check_supplier_id(supplier_id)
    made = run_async(rotate_supplier_credentials(admin_settings(settings()), supplier_id))
    _show_credentials(supplier_id, made)


@credentials_app.command("revoke")
def revoke(supplier_id: str) -> None:
    """Take every right of the supplier's Kafka user away (its ACLs: open connections are
    refused at their next request) and its password (no new connection). The supplier stays
    registered; `ingest suppliers credentials rotate` gives it a new password and its ACLs."""
    check_supplier_id(supplier_id)
    removed = run_async(revoke_supplier_credentials(admin_settings(settings()), supplier_id))
    console.print(
        f"revoked Kafka user {supplier_user(supplier_id)}: {removed} ACL bindings and its"
        " SCRAM credential removed",
        markup=False,
    )


suppliers_app.add_typer(credentials_app, name="credentials")


def register(app: typer.Typer) -> None:
    app.add_typer(suppliers_app, name="suppliers")
