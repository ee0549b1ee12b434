"""Connecting to Postgres, and which errors mean the connection (not the data) failed.

The consumer retries on these and never turns them into rejections; everything else a
statement raises is a bug or a bad schema and propagates.
"""

from __future__ import annotations

import asyncpg

# What asyncpg raises when the migrations have not been applied to the database.
MISSING_SCHEMA_ERRORS: tuple[type[Exception], ...] = (
    asyncpg.InvalidSchemaNameError,
    asyncpg.UndefinedTableError,
    asyncpg.UndefinedFunctionError,
)


CONNECT_TIMEOUT_SECONDS = 10.0

# Errors after which Postgres is considered unreachable (reconnect and retry, never reject).
CONNECTION_LOST: tuple[type[BaseException], ...] = (
    OSError,
    TimeoutError,
    asyncpg.InterfaceError,
    asyncpg.PostgresConnectionError,
    asyncpg.exceptions.OperatorInterventionError,  # shutting down, starting up, recovering
    asyncpg.exceptions.TooManyConnectionsError,
    # The server ending the session while the connection sits idle in a transaction (e.g.
    # pg_ctl stop -m fast during a DLQ wait) can leave asyncpg's protocol half-way through
    # the error: the next statement raises "cannot switch to state ...; another operation
    # is in progress". The connection is unusable: reconnect, like any other outage.
    asyncpg.exceptions.InternalClientError,
)

# Errors of a transaction that raced another one: redo it on the same connection.
WRITE_CONFLICTS: tuple[type[BaseException], ...] = (
    asyncpg.UniqueViolationError,  # another consumer stored the same (key, revision) first
    asyncpg.DeadlockDetectedError,
    asyncpg.SerializationError,
)


def is_connection_lost(error: BaseException) -> bool:
    """Whether ``error`` means Postgres is unreachable (as opposed to a failed statement)."""
    return isinstance(error, CONNECTION_LOST)


async def connect(url: str, within: float = CONNECT_TIMEOUT_SECONDS) -> asyncpg.Connection:
    """A new connection to ``url``; raises one of :data:`CONNECTION_LOST` when unreachable."""
    return await asyncpg.connect(url, timeout=within)
