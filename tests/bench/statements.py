"""Each statement's cost per event during a service run, from ``pg_stat_statements``.

The local stack preloads the extension and creates it in database ``postgres``
(``ingest/devstack/postgres_server.py``); its view lists every database's statements, and
a role sees the text of its own, which is the role the benchmark's consumers run as. Two
snapshots, before and after a run, filtered to the run's database, give each statement's
calls, execution time and buffer traffic during the run. Execution time is wall time in
the backend (it includes waiting for a core on a busy machine), so it is read as a share
beside the backends' CPU seconds, not as CPU itself.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import asyncpg

from tests.support.databases import with_database

SNAPSHOT_SQL = """
SELECT s.queryid, s.toplevel, s.query, s.calls, s.total_exec_time, s.rows,
       s.shared_blks_hit, s.shared_blks_read, s.shared_blks_dirtied, s.shared_blks_written
FROM pg_stat_statements s JOIN pg_database d ON d.oid = s.dbid
WHERE d.datname = $1 AND s.queryid IS NOT NULL
"""


@dataclass(frozen=True)
class Counters:
    query: str
    toplevel: bool  # False: run inside another statement (a trigger's), counted in it too
    calls: int
    exec_ms: float
    rows: int
    blocks_hit: int
    blocks_read: int
    blocks_dirtied: int
    blocks_written: int


Snapshot = Mapping[tuple[int, bool], Counters]


async def snapshot(server_url: str, database: str) -> Snapshot | None:
    """The run database's statements as counted so far; None when the extension is absent
    (a stack started before it was added, or another server)."""
    try:
        conn = await asyncpg.connect(with_database(server_url, "postgres"))
    except (OSError, asyncpg.PostgresError):
        return None
    try:
        rows = await conn.fetch(SNAPSHOT_SQL, database)
    except asyncpg.PostgresError:  # no such view: the extension is not there
        return None
    finally:
        await conn.close()
    return {
        (r["queryid"], r["toplevel"]): Counters(
            " ".join(r["query"].split()),
            r["toplevel"],
            r["calls"],
            r["total_exec_time"],
            r["rows"],
            r["shared_blks_hit"],
            r["shared_blks_read"],
            r["shared_blks_dirtied"],
            r["shared_blks_written"],
        )
        for r in rows
    }


@dataclass(frozen=True)
class StatementCost:
    query: str
    toplevel: bool
    calls: int
    us_per_event: float  # execution time
    share: float  # of the top-level statements' execution time in the run
    blocks_read_per_event: float
    blocks_dirtied_per_event: float


def per_event(before: Snapshot, after: Snapshot, events: int, top: int = 10) -> list[StatementCost]:
    """The statements run between two snapshots, costliest first, per event of the run."""
    if events <= 0:
        raise ValueError("a run of no events has no cost per event")
    zero = Counters("", True, 0, 0.0, 0, 0, 0, 0, 0)
    deltas = []
    for queryid, now in after.items():
        was = before.get(queryid, zero)
        calls = now.calls - was.calls
        if calls <= 0:
            continue
        deltas.append(
            (
                now.query,
                now.toplevel,
                calls,
                now.exec_ms - was.exec_ms,
                now.blocks_read - was.blocks_read,
                now.blocks_dirtied - was.blocks_dirtied,
            )
        )
    total_ms = sum(d[3] for d in deltas if d[1])  # nested ones are inside these already
    deltas.sort(key=lambda d: -d[3])
    return [
        StatementCost(
            query=query,
            toplevel=toplevel,
            calls=calls,
            us_per_event=ms * 1000 / events,
            share=ms / total_ms if total_ms else 0.0,
            blocks_read_per_event=read / events,
            blocks_dirtied_per_event=dirtied / events,
        )
        for query, toplevel, calls, ms, read, dirtied in deltas[:top]
    ]


def describe(costs: list[StatementCost], width: int = 90) -> list[str]:
    """Readable lines, one a statement."""
    if not costs:
        return ["  statements: - (no pg_stat_statements on this server)"]
    lines = [
        "  statements by execution time per event (wall in the backend; share of the"
        " top-level ones; (nested): run by a trigger or function, inside its caller's time):"
    ]
    for c in costs:
        text = c.query if len(c.query) <= width else c.query[: width - 3] + "..."
        lines.append(
            f"  {c.us_per_event:7.2f} us {c.share:6.1%} {c.calls:>7,} calls"
            f" read {c.blocks_read_per_event:.2f} dirtied {c.blocks_dirtied_per_event:.2f}"
            f" blk/event  {'' if c.toplevel else '(nested) '}{text}"
        )
    return lines
