"""What migration 0080 (schema v3's nine time-band columns) costs on a database holding years of
national history, one command (with the local stack up):

    .venv/bin/python -m tests.bench.probe_band_migration --years 1

A fresh database is migrated up to the release before 0080 (0070), loaded with ``--years`` of
the bench-scale history (tests/bench/history.py, by COPY as ``make bench-scale`` does), then
``ingest.db.migrate.migrate`` applies 0080 as an upgrade would, timed from the call to its
return, while a second connection measures how long a read of ``daily_requests`` waits
behind it (the lock the migration takes). The tables' files (relfilenode) are compared before
and after: equal means no rewrite. Then a Table 3 shaped read (one month's submissions by
weekday and band, straight from ``daily_requests`` by its activity-date index, days without
bands as Unknown) is timed, median of 5: whether Table 3 needs a summary of its own. The
database is dropped at the end unless ``--keep``.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import secrets
import statistics
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import asyncpg

import ingest.db.migrate as migrations
from ingest.clock import local_today, system_clock
from ingest.contract.model import BAND_FIELDS
from ingest.settings import Settings
from tests.bench import run_bench
from tests.bench.history import HistorySpec
from tests.bench.history_load import BULK_TABLES, load_history

BAND_MIGRATION = 80
_FILES = "SELECT relname, relfilenode FROM pg_class WHERE oid = ANY($1::regclass[])"
_BAND_SUMS = ", ".join(f"sum({b})" for b in BAND_FIELDS[:-1])
MONTH_BY_WEEKDAY_AND_BAND = f"""
SELECT extract(isodow FROM activity_date) AS weekday, {_BAND_SUMS},
       sum(coalesce(requests_time_unknown, total_requests)) AS unknown
FROM triage.daily_requests
WHERE activity_date >= $1 AND activity_date < $2
GROUP BY 1
"""


async def _files(url: str) -> dict[str, int]:
    conn = await asyncpg.connect(url)
    try:
        rows = await conn.fetch(_FILES, [f"triage.{t}" for t in BULK_TABLES])
        return {r["relname"]: r["relfilenode"] for r in rows}
    finally:
        await conn.close()


async def _read_waits(url: str, started: asyncio.Event) -> float:
    """Seconds a one-row read of daily_requests takes once the migration has begun."""
    conn = await asyncpg.connect(url)
    try:
        await started.wait()
        began = time.perf_counter()
        await conn.fetchval("SELECT total_requests FROM triage.daily_requests LIMIT 1")
        return time.perf_counter() - began
    finally:
        await conn.close()


async def probe(years: float, practices: int, keep: bool) -> dict[str, object]:
    _, server_url = run_bench._addresses(run_bench.Config())
    token = secrets.token_hex(3)
    suppliers = tuple(f"mig{token}-{n}" for n in ("askmygp", "klinik", "patchs"))
    today = local_today(system_clock(), Settings().timezone)
    history = HistorySpec(suppliers=suppliers, end=today, years=years, practices=practices)
    databases = run_bench.Databases(server_url, token)
    everything = migrations.discover
    try:
        # the release before the bands: every migration below 0080
        migrations.discover = lambda *_: [  # type: ignore[assignment]
            m for m in everything() if m.version < BAND_MIGRATION
        ]
        url = await databases.fresh("bands", suppliers)
        migrations.discover = everything
        loaded = await load_history(url, history)
        before = await _files(url)
        started = asyncio.Event()
        reader = asyncio.create_task(_read_waits(url, started))
        began = time.perf_counter()
        applying = asyncio.create_task(migrations.migrate(url))
        await asyncio.sleep(0)
        started.set()
        applied = await applying
        seconds = time.perf_counter() - began
        read_wait = await reader
        after = await _files(url)
        conn = await asyncpg.connect(url)
        try:
            with_bands = await conn.fetchval(
                "SELECT count(*) FROM triage.daily_requests WHERE requests_00_06 IS NOT NULL"
            )
            month_end = history.end.replace(day=1)
            month = (month_end - dt.timedelta(days=1)).replace(day=1)
            table3 = []
            for _ in range(5):
                began = time.perf_counter()
                await conn.fetch(MONTH_BY_WEEKDAY_AND_BAND, month, month_end)
                table3.append(time.perf_counter() - began)
        finally:
            await conn.close()
    finally:
        migrations.discover = everything
        if not keep:
            await databases.drop_all()
    return {
        "when": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "years": years,
        "current_rows": loaded.current_rows,
        "revision_rows": loaded.revision_rows,
        "database_mb": round(loaded.database_mb),
        "applied": applied,
        "migration_seconds": round(seconds, 3),
        "read_waited_seconds": round(read_wait, 3),
        "rewritten": before != after,
        "rows_with_bands": with_bands,
        "table3_month_read_seconds_median": round(statistics.median(table3), 3),
    }


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    p.add_argument("--years", type=float, default=1.0)
    p.add_argument("--practices", type=int, default=6_500)
    p.add_argument("--keep", action="store_true", help="keep the database")
    p.add_argument("--output", type=Path, default=run_bench.REPO_ROOT / "bench-results")
    a = p.parse_args(argv)
    result = asyncio.run(probe(a.years, a.practices, a.keep))
    a.output.mkdir(parents=True, exist_ok=True)
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    (a.output / f"band-migration-{stamp}.json").write_text(json.dumps(result, indent=2))
    print(json.dumps(result, indent=2))
    ok = result["applied"] == [BAND_MIGRATION] and not result["rewritten"]
    return 0 if ok and result["rows_with_bands"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
