"""No database traffic in clear: PostgreSQL over TLS on the secure stack (``ingest stack up
--secure``, the session's ``secure_broker`` stack). Its server runs from a PostgreSQL built with
SSL, serves TLS only with a certificate of the stack's CA, and its stack.env gives every client
``sslmode=verify-full`` with that CA: the service and the commands work with it, a connection
without TLS is refused, and so is one that verifies against another CA or reaches the server by a
name its certificate does not carry."""

from __future__ import annotations

import ssl
from pathlib import Path
from urllib.parse import parse_qs, urlsplit, urlunsplit

import asyncpg
import pytest

from ingest.contract.model import topic_for
from ingest.devstack import stack as local_stack
from ingest.devstack.postgres_roles import OWNER_ROLE, SERVICE_ROLE
from ingest.devstack.tls import TlsFiles, ensure_tls
from ingest.kafka import ensure_topics
from ingest.ops.metrics import FRESHNESS_REFRESH_TIMESTAMP
from ingest.security.admin import create_supplier_credentials
from ingest.settings import Settings
from tests.support.events import encoded, event, key_of
from tests.support.kafka import produce
from tests.support.polling import wait_until
from tests.support.service import sample, serving
from tests.support.suppliers import register
from tests.support.tcp_proxy import tcp_proxy

from .conftest import SecureBroker, cli_env, run_cli

pytestmark = pytest.mark.security


def with_query(url: str, **params: str) -> str:
    """``url`` with its query replaced by ``params``."""
    query = "&".join(f"{key}={value}" for key, value in params.items())
    return urlunsplit(urlsplit(url)._replace(query=query))


async def tls_in_use(conn: asyncpg.Connection) -> bool:
    return bool(await conn.fetchval("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()"))


async def test_the_secure_stack_writes_verify_full_urls_and_serves_tls_only(
    secure_broker: SecureBroker,
) -> None:
    addresses = local_stack.read_addresses(secure_broker.state_dir)  # its stack.env
    assert addresses is not None and addresses == secure_broker.addresses
    ca = secure_broker.state_dir.resolve() / "tls" / "ca.pem"
    for url, role in (
        (addresses.database_url, SERVICE_ROLE),
        (addresses.owner_database_url, OWNER_ROLE),
    ):
        parts = urlsplit(url)
        assert (parts.hostname, parts.username) == ("127.0.0.1", role)
        assert parse_qs(parts.query) == {"sslmode": ["verify-full"], "sslrootcert": [str(ca)]}
        conn = await asyncpg.connect(url)
        try:
            assert await tls_in_use(conn)
            assert await conn.fetchval("SHOW ssl") == "on"
        finally:
            await conn.close()
    hba = (secure_broker.state_dir / "postgres" / "data" / "pg_hba.conf").read_text()
    lines = [line.split() for line in hba.splitlines() if line.strip() and line[0] != "#"]
    assert lines == [["hostssl", "all", "all", "127.0.0.1/32", "scram-sha-256"]]


async def test_a_connection_without_tls_is_refused(secure_broker: SecureBroker) -> None:
    url = secure_broker.addresses.database_url
    with pytest.raises(asyncpg.InvalidAuthorizationSpecificationError, match="no encryption"):
        await asyncpg.connect(with_query(url, sslmode="disable"), timeout=10)


async def test_a_client_verifying_against_another_ca_is_refused(
    secure_broker: SecureBroker, tmp_path: Path
) -> None:
    other = TlsFiles(tmp_path / "other-ca")
    ensure_tls(other)  # a CA as valid as the stack's, but not the one that signed the server
    url = with_query(
        secure_broker.addresses.database_url, sslmode="verify-full", sslrootcert=str(other.ca)
    )
    with pytest.raises(ssl.SSLCertVerificationError, match="certificate verify failed"):
        await asyncpg.connect(url, timeout=10)


async def test_a_client_reaching_the_server_by_another_host_name_is_refused(
    secure_broker: SecureBroker,
) -> None:
    """The certificate names 127.0.0.1 and localhost: the same server reached as 127.0.0.2
    (a forwarder on that loopback address) fails verify-full on the host name alone."""
    url = urlsplit(secure_broker.addresses.database_url)
    assert url.port is not None
    async with tcp_proxy("127.0.0.1", url.port, listen_host="127.0.0.2") as proxy:
        userinfo = url.netloc.rpartition("@")[0]
        other = urlunsplit(url._replace(netloc=f"{userinfo}@127.0.0.2:{proxy.port}"))
        with pytest.raises(ssl.SSLCertVerificationError, match="IP address mismatch"):
            await asyncpg.connect(other, timeout=10)
        # the same route without the host name check (verify-ca) reaches the server
        conn = await asyncpg.connect(other.replace("verify-full", "verify-ca"), timeout=10)
        try:
            assert await tls_in_use(conn)
        finally:
            await conn.close()


async def test_the_service_stores_and_reports_through_verify_full(
    settings: Settings, secure_broker: SecureBroker, token: str
) -> None:
    """The whole process (consumer, outcome relay, freshness refresher's pool) on the secure
    stack: SASL_SSL to the broker, verify-full to the database of stack.env."""
    supplier = f"{token}-tls"
    database_url = secure_broker.addresses.database_url
    admin = secure_broker.admin(settings)
    await ensure_topics(admin, [topic_for(supplier), settings.dlq_topic], 1)
    as_supplier = (await create_supplier_credentials(admin, supplier)).settings(
        settings.model_copy(update={"kafka_bootstrap": secure_broker.bootstrap})
    )
    pg = await asyncpg.connect(database_url)
    try:
        await register(pg, supplier)
        payload = event(supplier_id=supplier, practice_code="A81001")
        await produce(as_supplier, topic_for(supplier), [(key_of(payload), encoded(payload))])

        service_settings = secure_broker.consumer(settings).model_copy(
            update={"database_url": database_url}
        )
        async with serving(service_settings) as service:

            async def stored() -> bool:
                return bool(
                    await pg.fetchval(
                        "SELECT count(*) FROM triage.daily_requests WHERE supplier_id = $1",
                        supplier,
                    )
                )

            await wait_until(stored, within=60, what="the event stored over TLS")
            await wait_until(
                lambda: sample(service, FRESHNESS_REFRESH_TIMESTAMP) > 0,
                within=30,
                what="a freshness refresh over TLS",
            )
    finally:
        await pg.close()


async def test_commands_and_migrations_work_with_the_verify_full_urls(
    settings: Settings, secure_broker: SecureBroker
) -> None:
    env = cli_env(secure_broker.admin(settings)) | {
        "INGEST_DATABASE_URL": secure_broker.addresses.database_url,
        "INGEST_MIGRATION_DATABASE_URL": secure_broker.addresses.owner_database_url,
    }
    for args in (["migrate"], ["suppliers", "list"], ["dlq", "list"], ["status"]):
        result = await run_cli(*args, env=env)
        assert result.code == 0, (args, result.output)
    migrate = await run_cli("migrate", env=env)
    assert "up to date" in migrate.stdout and "sslmode=verify-full" in migrate.stdout
