"""``ingest push --supplier S FILE``: check a file of daily counts and send it to Kafka.

Every row is checked with the consumer's rules before anything is sent; each bad row is
reported as ``line N: field: reason: detail``. Good rows are sent as Avro single-object
records (schema v1 unless ``--schema-version 2``) with an idempotent producer and acks=all.
Exit code: 0 when every row was good and acknowledged, 1 when a row was bad or a send failed,
2 when the file or Kafka could not be used at all.

``--wait``: then read the supplier's submission outcomes (its feedback topic, with its own
credentials) and print, per file line, what became of each row; exit 0 only when every row is
stored (accepted, superseded or duplicate), 1 when any was rejected (here or by the service)
or has no outcome within ``--wait-timeout`` seconds.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter, deque
from collections.abc import AsyncIterator, Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, TextIO

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table

from ingest.cli.common import settings as load_cli_settings
from ingest.cli.push_outcomes import (
    STORED_KINDS,
    RowFates,
    none_picked_up_line,
    position_of,
    row_fates,
)
from ingest.clock import local_today, system_clock
from ingest.contract.model import check_supplier_id, topic_for
from ingest.contract.validation import Limits
from ingest.settings import Settings
from ingest.supplier.counts import SCHEMA_VERSIONS, DailyCounts
from ingest.supplier.file_reading import FileFormat, format_of
from ingest.supplier.outcome_waiter import await_outcomes, now_ms
from ingest.supplier.problems import FileError, RowProblem
from ingest.supplier.producer import Delivery, DeliveryStatus, SupplierProducer
from ingest.supplier.push_file import CheckedRow, FileCheck, check_lines

out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False, soft_wrap=True)

MAX_PROBLEMS_SHOWN_PER_REASON = 1000


@dataclass
class PushReport:
    """What a push did, for the summary and the exit code."""

    check: FileCheck = field(default_factory=FileCheck)
    problems: Counter[str] = field(default_factory=Counter)
    sent: int = 0
    failed: int = 0
    failures: Counter[str] = field(default_factory=Counter)
    partitions: set[int] = field(default_factory=set)
    seconds: float = 0.0
    # (line, (partition, offset) written at, None when not acknowledged) of each row sent
    sent_lines: list[tuple[int, tuple[int, int] | None]] = field(default_factory=list)
    repeat_lines: list[tuple[int, int]] = field(default_factory=list)  # (line, first line)

    @property
    def ok(self) -> bool:
        return self.check.clean and not self.failed


def _count_lines(path: Path) -> int:
    total = 0
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 20):
            total += chunk.count(b"\n")
    return max(total, 1)


def _open_lines(path: Path, stack: ExitStack) -> TextIO:
    try:
        return stack.enter_context(path.open("r", encoding="utf-8", newline=""))
    except OSError as exc:
        raise FileError(f"cannot read {path}: {exc.strerror}") from None


def _lines(handle: TextIO, path: Path) -> Iterator[str]:
    number = 0
    try:
        for line in handle:
            number += 1
            yield line
    except UnicodeDecodeError as exc:
        raise FileError(
            f"{path} is not UTF-8 text after line {number}: {exc.reason}; save it as UTF-8"
        ) from None


def _show_problem(console: Console, problem: RowProblem, report: PushReport) -> None:
    report.problems[problem.reason] += 1
    if report.problems[problem.reason] <= MAX_PROBLEMS_SHOWN_PER_REASON:
        console.print(
            f"[red]line {problem.line}[/]: {escape(str(problem.field))}: {problem.reason}: ", end=""
        )
        console.print(problem.detail, markup=False)
    elif report.problems[problem.reason] == MAX_PROBLEMS_SHOWN_PER_REASON + 1:
        console.print(f"[dim]... further {problem.reason} rows counted, not shown[/]")


def _limits(cfg: Settings) -> Limits:
    return Limits(
        today=local_today(system_clock(), cfg.timezone),
        horizon_days=cfg.date_horizon_days,
        plausibility_cap=cfg.plausibility_cap,
    )


def _progress(console: Console) -> Progress:
    return Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("lines  {task.fields[status]}"),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=console,
        transient=False,
    )


def _status(report: PushReport) -> str:
    return (
        f"good {report.check.good}  bad {report.check.bad}  sent {report.sent}"
        f"  failed {report.failed}"
    )


async def _push(
    path: Path,
    fmt: FileFormat,
    supplier_id: str,
    cfg: Settings,
    schema_version: int,
    dry_run: bool,
    strict: bool,
) -> PushReport:
    report = PushReport()
    total_lines = _count_lines(path)
    began = time.monotonic()
    limits = _limits(cfg)
    send = not dry_run
    if strict and send:
        first = await _push_pass(path, fmt, supplier_id, cfg, schema_version, limits, None, 0)
        if not first.check.clean:
            err.print("[yellow]--strict: bad rows found, nothing sent[/]")
            first.seconds = time.monotonic() - began
            return first
        report = PushReport()
    producer = SupplierProducer(supplier_id, cfg, schema_version=schema_version) if send else None
    if producer is not None:
        await producer.start()
    try:
        report = await _push_pass(
            path, fmt, supplier_id, cfg, schema_version, limits, producer, total_lines
        )
    finally:
        if producer is not None:
            await producer.stop()
    report.seconds = time.monotonic() - began
    return report


async def _push_pass(
    path: Path,
    fmt: FileFormat,
    supplier_id: str,
    cfg: Settings,
    schema_version: int,
    limits: Limits,
    producer: SupplierProducer | None,
    total_lines: int,
) -> PushReport:
    """One read of the file: check every row, send the good ones when a producer is given."""
    report = PushReport()
    with ExitStack() as stack:
        handle = _open_lines(path, stack)
        header, rows = check_lines(_lines(handle, path), fmt, supplier_id, limits, schema_version)
        for problem in header:
            _show_problem(err, problem, report)
        report.check.header_problems.extend(header)
        if header:
            return report
        progress = _progress(err) if total_lines else None
        if progress is not None:
            stack.enter_context(progress)
            task = progress.add_task(
                f"{'push' if producer else 'check'} {path.name}",
                total=total_lines,
                status=_status(report),
            )
        console = progress.console if progress is not None else err

        def on_row(row: CheckedRow) -> None:
            report.check.add(row)
            if row.repeat_of is not None:
                report.repeat_lines.append((row.line, row.repeat_of))
            for problem in row.problems:
                _show_problem(console, problem, report)
            if progress is not None:
                progress.update(task, completed=row.line, status=_status(report))

        in_flight: deque[int] = deque()  # lines of the rows sent, in order

        async def good_rows() -> AsyncIterator[DailyCounts]:
            for row in rows:
                on_row(row)
                if row.ok and row.repeat_of is None and row.counts is not None:
                    in_flight.append(row.line)
                    yield row.counts
                if row.line % 500 == 0:
                    await asyncio.sleep(0)  # let the producer's sender run

        if producer is None:
            async for _ in good_rows():
                pass
        else:
            async for delivery in producer.deliveries(good_rows(), prechecked=True):
                _record(delivery, report, console)
                report.sent_lines.append((in_flight.popleft(), position_of(delivery)))
        if progress is not None:
            progress.update(task, completed=total_lines, status=_status(report))
    return report


def _record(delivery: Delivery, report: PushReport, console: Console) -> None:
    if delivery.status is DeliveryStatus.SENT:
        report.sent += 1
        if delivery.partition is not None:
            report.partitions.add(delivery.partition)
        return
    report.failed += 1
    reason = delivery.error or "; ".join(p.reason for p in delivery.problems) or "unknown"
    report.failures[reason.split(":", 1)[0]] += 1
    if report.failed <= MAX_PROBLEMS_SHOWN_PER_REASON:
        console.print(f"[red]send failed[/]: {delivery.summary()}", markup=True)


def _summary(report: PushReport, path: Path, supplier_id: str, dry_run: bool) -> None:
    check = report.check
    table = Table(
        title=f"{'dry run of ' if dry_run else ''}{path.name} -> {topic_for(supplier_id)}"
    )
    table.add_column("what")
    table.add_column("rows", justify="right")
    table.add_row("rows read", str(check.rows))
    table.add_row("good", str(check.good))
    table.add_row("repeated in the file (sent once)", str(check.repeats))
    table.add_row("bad (not sent)", str(check.bad), style="red" if check.bad else None)
    for reason, n in sorted(report.problems.items()):
        table.add_row(f"  problems: {reason}", str(n))
    if not dry_run:
        table.add_row("sent, acknowledged by Kafka (acks=all)", str(report.sent))
        table.add_row("send failed", str(report.failed), style="red" if report.failed else None)
        for reason, n in sorted(report.failures.items()):
            table.add_row(f"  failures: {reason}", str(n))
    out.print(table)
    rate = check.rows / report.seconds if report.seconds > 0 else 0.0
    verdict = "[green]ok[/]" if report.ok else "[red]not clean[/]"
    out.print(f"{verdict}: {check.rows} rows in {report.seconds:.1f} s ({rate:,.0f} rows/s)")


async def _wait_for_outcomes(
    report: PushReport, supplier_id: str, cfg: Settings, since_ms: int, within: float
) -> RowFates:
    positions = [p for _, p in report.sent_lines if p is not None]
    err.print(f"waiting up to {within:g} s for the outcomes of {len(positions)} rows ...")
    found = await await_outcomes(cfg, supplier_id, positions, since_ms, within)
    return row_fates(report.sent_lines, report.repeat_lines, found, within)


def _show_fates(fates: RowFates, report: PushReport, supplier_id: str, within: float) -> None:
    if fates.none_picked_up:
        out.print(none_picked_up_line(fates, supplier_id, within), markup=False, soft_wrap=True)
    else:
        for line, text in fates.lines:
            out.print(f"line {line}: {text}", markup=False)
    table = Table(title="outcomes")
    table.add_column("what became of the rows")
    table.add_column("rows", justify="right")
    for kind, n in sorted(fates.totals.items()):
        table.add_row(kind, str(n), style=None if kind in STORED_KINDS else "red")
    if report.check.bad:
        table.add_row("bad, not sent", str(report.check.bad), style="red")
    out.print(table)


def push(
    file: Annotated[Path, typer.Argument(help="CSV or JSON-lines file of daily counts.")],
    supplier: Annotated[str, typer.Option("--supplier", "-s", help="Supplier id, e.g. askmygp.")],
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Check only; send nothing.")] = False,
    schema_version: Annotated[
        int, typer.Option("--schema-version", help="Writer schema: 1 (default), 2 or 3.")
    ] = 1,
    file_format: Annotated[
        str | None, typer.Option("--format", help="csv or jsonl (default: from the suffix).")
    ] = None,
    strict: Annotated[
        bool, typer.Option("--strict", help="Send nothing when any row is bad.")
    ] = False,
    wait: Annotated[
        bool,
        typer.Option(
            "--wait",
            help="After sending, read the outcomes and print what became of each row (the"
            " service, `ingest run`, must be running to give them).",
        ),
    ] = False,
    wait_timeout: Annotated[
        float,
        typer.Option("--wait-timeout", min=0.0, help="Seconds to wait for the outcomes."),
    ] = 120.0,
) -> None:
    """Check a file of daily per-practice counts and send its good rows to the supplier's topic.

    Columns: practice_code, activity_date (YYYY-MM-DD), total_requests, clinical_requests,
    admin_requests, other_requests, revision (default 1); with --schema-version 2 or 3 also
    patient_submitted_requests, staff_submitted_requests; with --schema-version 3 also the
    nine time bands requests_00_06, requests_06_08, requests_08_10, requests_10_12,
    requests_12_14, requests_14_16, requests_16_18, requests_18_24, requests_time_unknown
    (all empty, or all given and summing to total_requests). Credentials come from
    INGEST_SECURITY_PROTOCOL / INGEST_SASL_USERNAME / INGEST_SASL_PASSWORD.
    """
    check_supplier_id(supplier)
    if schema_version not in SCHEMA_VERSIONS:
        raise typer.BadParameter(f"choose {' or '.join(map(str, SCHEMA_VERSIONS))}")
    fmt = format_of(file.name, file_format)
    if not file.is_file():
        raise FileError(f"{file} is not a file")
    cfg = load_cli_settings()
    since_ms = now_ms()
    report = asyncio.run(_push(file, fmt, supplier, cfg, schema_version, dry_run, strict))
    _summary(report, file, supplier, dry_run)
    if wait and not dry_run and not report.check.header_problems:
        fates = asyncio.run(_wait_for_outcomes(report, supplier, cfg, since_ms, wait_timeout))
        _show_fates(fates, report, supplier, wait_timeout)
        if not fates.all_stored:
            raise typer.Exit(1)
    if not report.ok:
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    app.command("push")(push)
