"""``ingest demo``: simulated supplier traffic through the real broker and consumer.

Registers the demo suppliers (creating their topics), runs the consumer service in this
process, pushes a few days of realistic traffic (:mod:`ingest.supplier.simulator`), waits
until every record has been processed, prints what happened, and stops cleanly.

The silent supplier (``quietcare``) is registered with thresholds of seconds
(warn after 3 s, error after 6 s) and pushes first, so its freshness status turns ``silent``
while the others are still ``ok`` by the end of the run.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import re
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Annotated, Any

import typer
from aiokafka import AIOKafkaProducer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn
from rich.text import Text

from ingest.cli.common import settings as load_cli_settings
from ingest.cli.tables import Cell, Column, fitted
from ingest.clock import local_today, system_clock
from ingest.consumer.service import IngestService
from ingest.contract.model import topic_for
from ingest.db.connection import connect
from ingest.durations import format_duration, parse_duration
from ingest.errors import IngestError
from ingest.kafka import create_dead_letter_topic, ensure_topics, make_producer, muted_logger
from ingest.ops.landed import consumer_positions, freshness_status, landed
from ingest.ops.metrics import IngestMetrics
from ingest.ops.suppliers import add_supplier
from ingest.security.credentials import CONSUMER_ENV, admin_settings, read_env_file, secrets_dir
from ingest.settings import Settings
from ingest.supplier.simulator import (
    SILENT_SUPPLIER,
    SimRecord,
    SimSupplier,
    demo_suppliers,
    kinds_by_supplier,
    traffic,
)

out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False, soft_wrap=True)
log = logging.getLogger(__name__)

SILENT_WARN = "3s"
SILENT_ERROR = "6s"
STATUS_STYLE = {"ok": "green", "late": "yellow", "silent": "red", "never_reported": "dim"}


class DemoError(IngestError):
    """The demo could not complete."""


@dataclass
class DemoRun:
    suppliers: list[SimSupplier]
    records: list[SimRecord] = field(default_factory=list)
    targets: dict[tuple[str, int], int] = field(default_factory=dict)  # next offset to reach
    outcomes: dict[tuple[str, str], float] = field(default_factory=dict)
    push_seconds: float = 0.0
    land_seconds: float = 0.0
    started_at: dt.datetime = field(default_factory=lambda: dt.datetime.now(dt.UTC))


def demo_settings(cfg: Settings, prefix: str) -> Settings:
    """The service's settings for the demo: only the demo topics.

    The consumer group stays the configured one (``triage-ingest``): a consumer started with
    ``ingest run`` at the same time shares the work instead of processing every record a
    second time into the same database."""
    return cfg.model_copy(
        update={
            "topic_pattern": rf"^triage\.daily\.{re.escape(prefix)}.+$",
            "metadata_max_age_ms": 1000,
            "batch_timeout_ms": 200,
        }
    )


def _consumer_settings(cfg: Settings) -> Settings:
    """On a local secure stack, the consumer's own principal; otherwise ``cfg``."""
    if cfg.sasl_username or cfg.kafka_bootstrap is not None:
        return cfg
    credentials = read_env_file(secrets_dir(cfg.state_dir) / CONSUMER_ENV)
    return credentials.settings(cfg) if credentials else cfg


async def _register(cfg: Settings, admin: Settings, suppliers: Sequence[SimSupplier]) -> None:
    topics = [topic_for(s.supplier_id) for s in suppliers]
    created = await ensure_topics(admin, topics, cfg.topic_partitions)
    if await create_dead_letter_topic(admin):
        created.append(cfg.dlq_topic)
    if created:
        err.print(f"[dim]created topics: {', '.join(created)}[/]")
    conn = await connect(cfg.database())
    try:
        for s in suppliers:
            silent = s.supplier_id.endswith(SILENT_SUPPLIER)
            warn = parse_duration(SILENT_WARN if silent else cfg.default_warn_after)
            error = parse_duration(SILENT_ERROR if silent else cfg.default_error_after)
            await add_supplier(conn, s.supplier_id, s.name, warn, error)
    finally:
        await conn.close()


async def _send(producer: AIOKafkaProducer, records: Sequence[SimRecord], run: DemoRun) -> None:
    with Progress(
        TextColumn("[bold]push"),
        BarColumn(),
        MofNCompleteColumn(),
        console=err,
        transient=True,
    ) as progress:
        task = progress.add_task("push", total=len(records))
        futures = []
        for record in records:
            futures.append(await producer.send(record.topic, value=record.value, key=record.key))
            if len(futures) >= 1000:
                _settle(await asyncio.gather(*futures), run)
                progress.advance(task, len(futures))
                futures = []
        _settle(await asyncio.gather(*futures), run)
        progress.advance(task, len(futures))
    run.records.extend(records)


def _settle(results: Sequence[Any], run: DemoRun) -> None:
    for meta in results:
        key = (meta.topic, meta.partition)
        run.targets[key] = max(run.targets.get(key, 0), meta.offset + 1)


async def _wait_landed(cfg: Settings, run: DemoRun, within: float) -> None:
    conn = await connect(cfg.database())
    deadline = time.monotonic() + within
    try:
        while True:
            stored = await consumer_positions(conn, cfg.consumer_group)
            behind = sum(max(0, n - stored.get(k, 0)) for k, n in run.targets.items())
            if not behind:
                return
            if time.monotonic() > deadline:
                raise DemoError(
                    f"{behind} records not processed after {within:.0f} s; is Postgres"
                    " reachable and the consumer group free?"
                )
            await asyncio.sleep(0.25)
    finally:
        await conn.close()


async def _wait_status(cfg: Settings, supplier_id: str, status: str, within: float) -> None:
    conn = await connect(cfg.database())
    deadline = time.monotonic() + within
    try:
        while time.monotonic() < deadline:
            if await freshness_status(conn, supplier_id) == status:
                return
            await asyncio.sleep(0.5)
    finally:
        await conn.close()


def _outcomes(service: IngestService[IngestMetrics]) -> dict[tuple[str, str], float]:
    found: dict[tuple[str, str], float] = {}
    for metric in service.metrics.registry.collect():
        for sample in metric.samples:
            if sample.name == "triage_events_total":
                found[(sample.labels["supplier"], sample.labels["outcome"])] = sample.value
    return found


async def _demo(cfg: Settings, prefix: str, practices: int, days: int, seed: int) -> DemoRun:
    service_cfg = demo_settings(_consumer_settings(cfg), prefix)
    admin = admin_settings(cfg)
    suppliers = demo_suppliers(prefix, practices, seed)
    run = DemoRun(suppliers)
    with muted_logger("aiokafka"):  # an unreachable broker is reported in one line, not logged
        await _register(cfg, admin, suppliers)
    err.print(f"registered {len(suppliers)} demo suppliers ({practices} practices)")

    service = IngestService(service_cfg, IngestMetrics())
    task = asyncio.create_task(service.run(), name="ingest-service")
    producer = make_producer(admin)
    await producer.start()
    try:
        today = local_today(system_clock(), cfg.timezone)
        records = traffic(suppliers, today, days, seed)
        silent = [r for r in records if r.supplier_id.endswith(SILENT_SUPPLIER)]
        rest = [r for r in records if not r.supplier_id.endswith(SILENT_SUPPLIER)]
        began = time.monotonic()
        err.print(f"pushing {len(records)} records ({days} days of feeds)")
        await _send(producer, silent, run)  # the silent supplier's last words come first
        await _send(producer, rest, run)
        run.push_seconds = time.monotonic() - began
        await _wait_landed(service_cfg, run, within=180)
        run.land_seconds = time.monotonic() - began
        silent_id = next(
            s.supplier_id for s in suppliers if s.supplier_id.endswith(SILENT_SUPPLIER)
        )
        await _wait_status(
            cfg, silent_id, "silent", within=parse_duration(SILENT_ERROR).seconds + 5
        )
        run.outcomes = _outcomes(service)
    finally:
        await producer.stop()
        service.request_stop()
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.wait_for(task, timeout=60)
    return run


async def _report(cfg: Settings, run: DemoRun) -> None:
    ids = [s.supplier_id for s in run.suppliers]
    conn = await connect(cfg.database())
    try:
        report = await landed(conn, ids, run.started_at)
    finally:
        await conn.close()

    pushed = kinds_by_supplier(run.records)
    kinds = ["daily", "resend", "restatement", "late", "conflict", "bad"]
    rows: list[list[Cell]] = []
    for s in run.suppliers:
        counts = pushed.get(s.supplier_id, Counter())
        rows.append(
            [
                Text(s.supplier_id),
                str(len(s.practices)),
                f"v{s.schema_version}",
                *(str(counts.get(k, 0)) for k in kinds),
                str(sum(counts.values())),
            ]
        )
    figures = [Column(c, right=True) for c in ["practices", "schema", *kinds, "total"]]
    _print_fitted("pushed (simulated supplier traffic)", [Column("supplier"), *figures], rows)

    names = ["accepted", "duplicate", "superseded", "rejected"]
    rows = [
        [
            Text(sid),
            *(f"{run.outcomes.get((sid, n), 0):.0f}" for n in names),
            str(report.current.get(sid, 0)),
            str(report.revisions.get(sid, 0)),
            str(report.with_breakdown.get(sid, 0)),
        ]
        for sid in ids
    ]
    stored = [*names, "current rows", "revisions", "rows with v2 fields"]
    _print_fitted(
        "outcomes (consumer metrics of this run) and rows stored",
        [Column("supplier"), *(Column(c, right=True) for c in stored)],
        rows,
    )

    rows = [
        [
            Text(r["reason"]),
            str(r["n"]),
            Text("\n".join(sorted(r["suppliers"].split(", ")))),
            Text(r["example"] or ""),
        ]
        for r in report.rejections
    ]
    _print_fitted(
        "rejections by reason (triage.rejected_events, also on the DLQ)",
        [Column("reason"), Column("count", right=True), Column("suppliers"),
         Column("example detail", wraps=True)],
        rows,
    )  # fmt: skip

    rows = []
    for f in report.freshness:
        style = STATUS_STYLE.get(f["status"], "")
        last = f["last_event_at"]
        rows.append(
            [
                Text(f["supplier_id"]),
                f"[{style}]{f['status']}[/]",
                last.isoformat(timespec="seconds") if last else "-",
                str(f["latest_activity_date"] or "-"),
                f"{format_duration(f['warn_after'])} / {format_duration(f['error_after'])}",
            ]
        )
    headers = ("status", "last event", "latest day", "warn / error after")
    _print_fitted(
        "freshness (triage.supplier_freshness)",
        [Column("supplier"), *(Column(h) for h in headers)],
        rows,
    )
    total = len(run.records)
    seen = sum(n for (sid, _), n in run.outcomes.items() if sid in ids)
    if seen < total:
        out.print(
            f"[yellow]this demo's consumer processed {seen:.0f} of {total} records; other"
            f" members of consumer group {cfg.consumer_group} processed the rest (their"
            " outcomes are in their metrics)[/]",
            soft_wrap=False,  # wrapped at the terminal's width, between words
        )
    rate = total / run.push_seconds if run.push_seconds else 0.0
    out.print(
        f"{total} records pushed in {run.push_seconds:.1f} s ({rate:,.0f}/s), all processed"
        f" {run.land_seconds:.1f} s after the first was sent",
        soft_wrap=False,
    )


def _print_fitted(title: str, columns: list[Column], rows: list[list[Cell]]) -> None:
    for table in fitted(out, title, columns, rows):
        out.print(table)


def demo(
    practices: Annotated[int, typer.Option(help="Practices across the suppliers.")] = 300,
    days: Annotated[int, typer.Option(help="Days of feeds to push (ending yesterday).")] = 7,
    seed: Annotated[int, typer.Option(help="Seed of the simulated traffic.")] = 7,
    prefix: Annotated[str, typer.Option(help="Prefix of the demo supplier ids.")] = "demo-",
) -> None:
    """Simulated suppliers -> Kafka -> the consumer -> Postgres, then a summary; needs the
    local stack (`ingest stack up`) or INGEST_KAFKA_BOOTSTRAP / INGEST_DATABASE_URL."""
    if practices < 4 or days < 1:
        raise typer.BadParameter("use at least 4 practices and 1 day")
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    cfg = load_cli_settings()

    async def go() -> None:
        run = await _demo(cfg, prefix, practices, days, seed)
        await _report(demo_settings(cfg, prefix), run)

    asyncio.run(go())


def register(app: typer.Typer) -> None:
    app.command("demo")(demo)
