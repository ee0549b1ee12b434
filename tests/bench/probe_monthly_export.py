"""The 3-year ICB monthly export of `make bench-scale` (what the practice-month summary saves),
timed with today's period functions and with their definitions before the practice-month summary
(0031, 0033: see tests/support/period_definitions.py), on the same database, and checked byte for
byte.

    .venv/bin/python -m tests.bench.probe_monthly_export --database-url URL [--repeats 1]

The range is the benchmark's: three years of 365 days to yesterday, vintage today (UTC).
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import hashlib
import statistics
import time

import asyncpg

from ingest.analytics.export import ExportRequest, Level, Period, export_csv, export_query
from tests.support.period_definitions import before_summary_query, create_before_summary


async def export_before_summary(conn: asyncpg.Connection, request: ExportRequest) -> bytes:
    query, args = export_query(request)
    chunks: list[bytes] = []

    async def keep(chunk: bytes) -> None:
        chunks.append(chunk)

    async with conn.transaction(isolation="repeatable_read", readonly=True):
        await conn.execute("SET LOCAL DateStyle = 'ISO, YMD'")
        await conn.copy_from_query(
            before_summary_query(query), *args, output=keep, format="csv", header=True
        )
    return b"".join(chunks)


async def export_today(conn: asyncpg.Connection, request: ExportRequest) -> bytes:
    chunks: list[bytes] = []

    async def keep(chunk: bytes) -> None:
        chunks.append(chunk)

    await export_csv(conn, request, keep)
    return b"".join(chunks)


async def main(database_url: str, repeats: int) -> None:
    today = dt.datetime.now(dt.UTC).date()
    yesterday = today - dt.timedelta(days=1)
    request = ExportRequest(
        Level.ICB, yesterday - dt.timedelta(days=3 * 365), yesterday, today, Period.MONTH
    )
    conn = await asyncpg.connect(database_url)
    seconds: dict[str, list[float]] = {"before": [], "today": []}
    outputs: dict[str, set[str]] = {"before": set(), "today": set()}
    try:
        await create_before_summary(conn)
        for i in range(repeats):
            order = ("before", "today") if i % 2 == 0 else ("today", "before")
            for name in order:
                run = export_before_summary if name == "before" else export_today
                started = time.perf_counter()
                csv = await run(conn, request)
                seconds[name].append(time.perf_counter() - started)
                lines = csv.count(b"\n")
                outputs[name].add(f"{hashlib.sha256(csv).hexdigest()[:16]} ({lines} lines)")
        await conn.execute("DROP SCHEMA exports_before_0064 CASCADE")
    finally:
        await conn.close()
    for name in ("before", "today"):
        runs = [round(s, 2) for s in seconds[name]]
        median = statistics.median(seconds[name])
        print(f"{name:>7}: median {median:.2f} s of {runs}; output {sorted(outputs[name])}")
    ratio = statistics.median(seconds["before"]) / statistics.median(seconds["today"])
    print(f"before / today: {ratio:.1f}; identical: {outputs['before'] == outputs['today']}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--repeats", type=int, default=1)
    args = parser.parse_args()
    asyncio.run(main(args.database_url, args.repeats))
