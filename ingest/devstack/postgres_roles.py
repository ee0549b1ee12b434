"""Least privilege on the local PostgreSQL server: password authentication and three roles.

Every connection needs a password (``pg_hba.conf``: ``scram-sha-256`` only, nothing trusted),
and passwords are generated once into ``secrets/`` (folder 0700, files 0600)::

    postgres-superuser.password   postgres        superuser: used by ``ingest stack`` only
    postgres-owner.password       triage_owner    LOGIN CREATEDB, not superuser: owns database
                                                  and schema ``triage``, runs the migrations
                                                  (INGEST_MIGRATION_DATABASE_URL)
    postgres-service.password     triage_service  LOGIN, nothing else, member of the group
                                                  ``triage_writer`` (migration 0050): reads and
                                                  writes the tables (INGEST_DATABASE_URL): the
                                                  service and every other command

The service role is no superuser and holds no ``pg_execute_server_program`` nor
``pg_write_server_files``, so ``COPY ... TO PROGRAM`` and server-side file writes are refused.
Passwords reach the server as SCRAM-SHA-256 verifiers (never in clear text, never in a process's
arguments: ``initdb`` reads the superuser's from a file).

A server initialised before this (``initdb --auth=trust``) is converted on the next ``up``: the
superuser gets a password over the still trusted connection, ``pg_hba.conf`` is rewritten and
reloaded, and the objects of schema ``triage`` are handed to ``triage_owner``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import secrets
from pathlib import Path

import asyncpg

from ingest.db.queries import queries
from ingest.devstack.paths import HOST, StackPaths
from ingest.devstack.postgres_binaries import SECURE, pg_mode
from ingest.devstack.postgres_tls import tls_query

DATABASE = "triage"
PG_SUPERUSER = "postgres"
OWNER_ROLE = "triage_owner"
SERVICE_ROLE = "triage_service"
WRITER_GROUP = "triage_writer"  # created by migration 0050 too (production)
READER_GROUP = "triage_reader"  # created by migration 0022 too (production)
PASSWORD_FILES = {
    PG_SUPERUSER: "postgres-superuser.password",
    OWNER_ROLE: "postgres-owner.password",
    SERVICE_ROLE: "postgres-service.password",
}
_LOGIN_OPTIONS = "LOGIN NOSUPERUSER NOCREATEROLE NOREPLICATION NOBYPASSRLS"
ROLE_OPTIONS = {
    OWNER_ROLE: f"{_LOGIN_OPTIONS} CREATEDB",  # + pg_signal_backend, see ensure_roles
    SERVICE_ROLE: f"{_LOGIN_OPTIONS} NOCREATEDB",
}
HBA = """\
# written by `ingest stack up`; edits are overwritten. Passwords only (SCRAM-SHA-256).
local   all   all                 scram-sha-256
host    all   all   127.0.0.1/32  scram-sha-256
"""
SQL = queries("ingest.devstack")


def password_file(paths: StackPaths, role: str) -> Path:
    return paths.secrets / PASSWORD_FILES[role]


def read_password(paths: StackPaths, role: str) -> str | None:
    try:
        return password_file(paths, role).read_text().strip() or None
    except FileNotFoundError:
        return None


def ensure_password(paths: StackPaths, role: str) -> str:
    """The role's password, generated (and written 0600) on first use."""
    known = read_password(paths, role)
    if known is not None:
        return known
    paths.secrets.mkdir(parents=True, exist_ok=True)
    paths.secrets.chmod(0o700)
    password = secrets.token_urlsafe(24)  # URL-safe: goes into database URLs as it is
    fd = os.open(password_file(paths, role), os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(password + "\n")
    return password


def scram_sha_256_verifier(password: str, salt: bytes | None = None, iterations: int = 4096) -> str:
    """What PostgreSQL stores for a SCRAM-SHA-256 password (RFC 5802/7677), computed here so
    the password itself never reaches the server (nor its logs)."""
    chosen = salt if salt is not None else secrets.token_bytes(16)
    salted = hashlib.pbkdf2_hmac("sha256", password.encode(), chosen, iterations)
    client_key = hmac.new(salted, b"Client Key", hashlib.sha256).digest()
    stored_key = hashlib.sha256(client_key).digest()
    server_key = hmac.new(salted, b"Server Key", hashlib.sha256).digest()

    def b64(data: bytes) -> str:
        return base64.b64encode(data).decode()

    return f"SCRAM-SHA-256${iterations}:{b64(chosen)}${b64(stored_key)}:{b64(server_key)}"


def url_query(paths: StackPaths) -> str:
    """What a client URL of this stack needs beyond the address: on the secure stack,
    ``sslmode=verify-full`` with the stack's CA (:mod:`ingest.devstack.postgres_tls`)."""
    return tls_query(paths) if pg_mode(paths) == SECURE else ""


def role_url(paths: StackPaths, port: int, role: str, database: str = DATABASE) -> str:
    """A URL that logs in as ``role`` (with its password when one is known)."""
    password = read_password(paths, role)
    who = f"{role}:{password}" if password else role
    return f"postgresql://{who}@{HOST}:{port}/{database}{url_query(paths)}"


def shown_url(port: int, role: str, database: str = DATABASE, query: str = "") -> str:
    """The same address without the password: fit to print."""
    return f"postgresql://{role}@{HOST}:{port}/{database}{query}"


def _verifier_literal(password: str) -> str:
    verifier = scram_sha_256_verifier(password)
    assert "'" not in verifier  # base64 and digits only
    return f"'{verifier}'"


async def superuser_connection(paths: StackPaths, port: int, within: float) -> asyncpg.Connection:
    """Connect as the superuser to database ``postgres``; a server still trusting local
    connections (initialised before passwords) gets the superuser's password first."""
    password = read_password(paths, PG_SUPERUSER)
    if password is not None:
        return await asyncpg.connect(
            role_url(paths, port, PG_SUPERUSER, "postgres"), timeout=within
        )
    legacy = shown_url(port, PG_SUPERUSER, "postgres", url_query(paths))
    conn = await asyncpg.connect(legacy, timeout=within)
    password = ensure_password(paths, PG_SUPERUSER)
    await conn.execute(
        SQL["set_password"].format(role=PG_SUPERUSER, verifier=_verifier_literal(password))
    )
    return conn


async def ensure_roles(conn: asyncpg.Connection, paths: StackPaths) -> None:
    """The passwords of ``secrets/`` (the superuser's too, so a half-converted server heals),
    the owner and service roles, the group roles, and database ``triage`` owned by the owner
    (run as the superuser; idempotent)."""
    superuser = _verifier_literal(ensure_password(paths, PG_SUPERUSER))
    await conn.execute(SQL["set_password"].format(role=PG_SUPERUSER, verifier=superuser))
    for role, options in ROLE_OPTIONS.items():
        verifier = _verifier_literal(ensure_password(paths, role))
        exists = await conn.fetchval(SQL["role_exists"], role)
        template = SQL["alter_login_role" if exists else "create_login_role"]
        await conn.execute(template.format(role=role, options=options, verifier=verifier))
    for group in (READER_GROUP, WRITER_GROUP):
        if not await conn.fetchval(SQL["role_exists"], group):
            await conn.execute(SQL["create_group_role"].format(role=group))
    await conn.execute(SQL["grant_roles"].format(roles=WRITER_GROUP, grantee=SERVICE_ROLE))
    # The owner may act as the groups (SET ROLE triage_reader in tests and checks) and end
    # other sessions of non-superusers (DROP DATABASE ... WITH (FORCE) of a test database meets
    # the service's sessions and autovacuum workers); never the reverse.
    owner_may = f"{READER_GROUP}, {WRITER_GROUP}, pg_signal_backend"
    await conn.execute(SQL["grant_roles"].format(roles=owner_may, grantee=OWNER_ROLE))
    exists = await conn.fetchval(SQL["database_exists"], DATABASE)
    template = SQL["set_database_owner" if exists else "create_database"]
    await conn.execute(template.format(database=DATABASE, owner=OWNER_ROLE))


async def hand_schema_to_owner(paths: StackPaths, port: int, within: float) -> None:
    """Objects of schema ``triage`` created by the superuser (before roles) go to the owner."""
    url = role_url(paths, port, PG_SUPERUSER, DATABASE)
    conn = await asyncpg.connect(url, timeout=within)
    try:
        await conn.execute(SQL["hand_schema_to_owner"])
    finally:
        await conn.close()
