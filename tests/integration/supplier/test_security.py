"""Per-supplier security on a real SASL/SCRAM-SHA-512 broker with the StandardAuthorizer (a
second broker of this session, see ``secure_broker``): a supplier writes its own topic and
nothing else, an event claiming another supplier is rejected, and passwords never leak."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import re
import time
from pathlib import Path

import asyncpg
import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.errors import (
    GroupAuthorizationFailedError,
    KafkaError,
    TopicAuthorizationFailedError,
)
from pydantic import SecretStr

from ingest.contract.model import topic_for
from ingest.devstack.tls import TlsFiles, issue_client_certificate
from ingest.kafka import client_options, ensure_topics, make_producer
from ingest.security.acls import CONSUMER_USER, consumer_acls, supplier_user
from ingest.security.admin import SecurityAdmin, create_supplier_credentials
from ingest.security.credentials import Credentials
from ingest.settings import Settings
from ingest.supplier.producer import DailyCounts, DeliveryStatus, ProducerError, SupplierProducer
from tests.support.events import encoded, event, key_of
from tests.support.polling import wait_until
from tests.support.service import running
from tests.support.suppliers import register

from .conftest import SecureBroker, cli_env, run_cli

pytestmark = pytest.mark.security


REVOKE_BOUND_S = 15.0  # revoke to refusal on an open connection (ACLs apply per request)


def on_secure(settings: Settings, broker: SecureBroker) -> Settings:
    return settings.model_copy(update={"kafka_bootstrap": broker.bootstrap})


async def two_suppliers(
    settings: Settings, broker: SecureBroker, token: str
) -> tuple[str, str, Settings]:
    """Suppliers A and B with their topics (and the test's DLQ); A's client settings."""
    a, b = f"{token}-alpha", f"{token}-bravo"
    admin = broker.admin(settings)
    await ensure_topics(admin, [topic_for(a), topic_for(b), settings.dlq_topic], 1)
    credentials = await create_supplier_credentials(admin, a)
    return a, b, credentials.settings(on_secure(settings, broker))


async def test_supplier_a_cannot_write_to_b_topic(
    settings: Settings, secure_broker: SecureBroker, token: str
) -> None:
    a, b, as_a = await two_suppliers(settings, secure_broker, token)
    payload = event(supplier_id=a)
    producer = make_producer(as_a)
    await producer.start()
    try:
        own = await producer.send_and_wait(topic_for(a), encoded(payload), key=key_of(payload))
        with pytest.raises(TopicAuthorizationFailedError):
            await producer.send_and_wait(topic_for(b), encoded(payload), key=key_of(payload))
    finally:
        await producer.stop()
    assert own.topic == topic_for(a)

    # The producer library says so up front, naming the error.
    with pytest.raises(ProducerError, match="TopicAuthorizationFailedError"):
        await SupplierProducer(b, as_a).start()


async def test_supplier_a_cannot_read_other_topics_nor_its_own(
    settings: Settings, secure_broker: SecureBroker, token: str
) -> None:
    a, b, as_a = await two_suppliers(settings, secure_broker, token)
    for supplier in (a, b):  # one record in each topic, written by the admin
        payload = event(supplier_id=supplier)
        writer = make_producer(secure_broker.admin(settings))
        await writer.start()
        try:
            await writer.send_and_wait(topic_for(supplier), encoded(payload), key=key_of(payload))
        finally:
            await writer.stop()

    admin = AIOKafkaAdminClient(**client_options(as_a))
    await admin.start()
    try:
        visible = await admin.list_topics()
    finally:
        await admin.close()
    assert visible == [topic_for(a)]  # other topics are not even listed

    # In a consumer group: refused (topic or group authorization, whichever is checked first).
    reader = AIOKafkaConsumer(
        topic_for(b),
        **client_options(as_a),
        group_id=f"{token}-snoop",
        auto_offset_reset="earliest",
    )
    with pytest.raises((TopicAuthorizationFailedError, GroupAuthorizationFailedError)):
        await reader.start()
        await reader.getmany(timeout_ms=10_000)
    await reader.stop()

    # Without a group, by partition: B's record never comes; its own topic is refused outright.
    for topic in (topic_for(b), topic_for(a)):
        direct = AIOKafkaConsumer(**client_options(as_a), group_id=None)
        await direct.start()
        try:
            partition = TopicPartition(topic, 0)
            direct.assign([partition])
            if topic == topic_for(b):
                assert await direct.getmany(timeout_ms=3000) == {}
            else:
                with pytest.raises(TopicAuthorizationFailedError):
                    await direct.getmany(timeout_ms=10_000)
        finally:
            await direct.stop()


async def test_consumer_principal_reads_feeds_but_cannot_write_them(
    settings: Settings, secure_broker: SecureBroker, token: str
) -> None:
    a, _, _ = await two_suppliers(settings, secure_broker, token)
    payload = event(supplier_id=a)
    producer = make_producer(secure_broker.consumer(settings))
    await producer.start()
    try:
        with pytest.raises(TopicAuthorizationFailedError):
            await producer.send_and_wait(topic_for(a), encoded(payload), key=key_of(payload))
    finally:
        await producer.stop()


async def test_an_event_in_a_topic_claiming_supplier_b_is_rejected_supplier_mismatch(
    settings: Settings, secure_broker: SecureBroker, token: str, pg: asyncpg.Connection
) -> None:
    a, b, as_a = await two_suppliers(settings, secure_broker, token)
    await register(pg, a)
    await register(pg, b)
    claims_b = event(supplier_id=b, practice_code="A81001")
    honest = event(supplier_id=a, practice_code="A81002")
    producer = make_producer(as_a)
    await producer.start()
    try:
        for payload in (claims_b, honest):
            await producer.send_and_wait(topic_for(a), encoded(payload), key=key_of(payload))
    finally:
        await producer.stop()

    async with running(secure_broker.consumer(settings)):

        async def both_seen() -> bool:
            n = await pg.fetchval(
                "SELECT (SELECT count(*) FROM triage.rejected_events)"
                " + (SELECT count(*) FROM triage.daily_requests)"
            )
            return bool(n == 2)

        await wait_until(both_seen, what="one rejection and one row")

    rejected = await pg.fetchrow(
        "SELECT reason, detail, supplier_id, source_topic FROM triage.rejected_events"
    )
    assert rejected is not None
    assert rejected["reason"] == "supplier_mismatch"
    assert rejected["detail"] == f"supplier_id {b!r} differs from the topic's supplier {a!r}"
    assert (rejected["supplier_id"], rejected["source_topic"]) == (a, topic_for(a))
    landed = await pg.fetch("SELECT supplier_id, practice_code FROM triage.daily_requests")
    assert [tuple(r) for r in landed] == [(a, "A81002")]

    # ... and the consumer principal put it on the DLQ.
    dlq = AIOKafkaConsumer(**client_options(secure_broker.admin(settings)), group_id=None)
    await dlq.start()
    try:
        partition = TopicPartition(settings.dlq_topic, 0)
        dlq.assign([partition])
        await dlq.seek_to_beginning(partition)
        async with asyncio.timeout(30):
            letter = await dlq.getone()
    finally:
        await dlq.stop()
    headers = dict(letter.headers)
    assert headers["triage.error.reason"] == b"supplier_mismatch"
    assert letter.value == encoded(claims_b)  # the original bytes, kept


async def test_onboarding_with_credentials_prints_the_password_once_and_logs_it_nowhere(
    settings: Settings,
    secure_broker: SecureBroker,
    token: str,
    pg: asyncpg.Connection,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    supplier = f"{token}-onboard"
    admin_env = cli_env(secure_broker.admin(settings))
    admin_password = secure_broker.security.admin.password.get_secret_value()

    added = await run_cli(
        "suppliers", "add", supplier, "--name", "Onboard Ltd", "--credentials", env=admin_env
    )
    assert added.code == 0, added.output
    found = re.findall(r"INGEST_SASL_PASSWORD=(\S+)", added.stdout)
    assert len(found) == 1
    password = found[0]
    assert f"INGEST_SASL_USERNAME={supplier_user(supplier)}" in added.stdout
    cafile = secure_broker.security.admin.cafile
    assert cafile is not None  # the secure stack speaks TLS only
    assert "INGEST_SECURITY_PROTOCOL=SASL_SSL" in added.stdout
    assert f"INGEST_KAFKA_SSL_CAFILE={cafile}" in added.stdout
    assert added.stdout.count(password) == 1  # printed once
    assert password not in added.stderr
    assert admin_password not in added.output
    assert await pg.fetchval("SELECT active FROM triage.suppliers WHERE supplier_id = $1", supplier)

    # Second command of the onboarding: push a file with those credentials.
    day = (dt.date.today() - dt.timedelta(days=1)).isoformat()
    feed = tmp_path / "feed.csv"
    feed.write_text(f"practice_code,activity_date,total_requests\nA81001,{day},5\nA81002,{day},6\n")
    as_supplier = Credentials(supplier_user(supplier), SecretStr(password), cafile)
    supplier_env = cli_env(as_supplier.settings(on_secure(settings, secure_broker)))
    pushed = await run_cli("push", "--supplier", supplier, str(feed), env=supplier_env)
    assert pushed.code == 0, pushed.output
    assert "ok: 2 rows" in pushed.stdout
    assert password not in pushed.output

    # A wrong password fails with a message that shows neither password.
    wrong_env = supplier_env | {"INGEST_SASL_PASSWORD": "not-" + password}
    refused = await run_cli("push", "--supplier", supplier, str(feed), env=wrong_env)
    assert refused.code == 2
    assert "cannot connect to Kafka" in refused.stderr
    assert "authentication failed" in refused.stderr
    assert "Unable to bootstrap" not in refused.output
    assert password not in refused.output
    assert "not-" + password not in refused.output

    # The library at DEBUG logging, and the objects' reprs, keep it out too.
    # (connect() as in docs/suppliers.md: address, user name, password)
    caplog.set_level(logging.DEBUG)
    producer = SupplierProducer.connect(
        supplier,
        secure_broker.bootstrap,
        username=supplier_user(supplier),
        password=password,
        cafile=cafile,
    )
    async with producer:
        delivery = await producer.send(DailyCounts("A81003", dt.date.fromisoformat(day), 7))
    assert delivery.status is DeliveryStatus.SENT, delivery.summary()
    assert password not in caplog.text
    shown = repr(producer.settings) + str(producer.settings) + repr(as_supplier)
    assert password not in shown

    # Nor do the broker's own logs hold it (or the admin's).
    broker_logs = "".join(
        p.read_text(errors="replace") for p in (secure_broker.state_dir / "logs").glob("*.log*")
    )
    assert password not in broker_logs
    assert admin_password not in broker_logs


async def test_a_wrong_password_is_named_authentication_failed_by_the_producer_api(
    settings: Settings, secure_broker: SecureBroker, token: str
) -> None:
    a, _, as_a = await two_suppliers(settings, secure_broker, token)
    assert as_a.sasl_password is not None
    wrong = "not-" + as_a.sasl_password.get_secret_value()
    producer = SupplierProducer.connect(
        a,
        secure_broker.bootstrap,
        username=as_a.sasl_username,
        password=wrong,
        cafile=as_a.kafka_ssl_cafile,
    )
    with pytest.raises(ProducerError, match="authentication failed") as refused:
        await producer.start()
    assert "Unable to bootstrap" not in str(refused.value)
    assert wrong not in str(refused.value)


@pytest.mark.parametrize(
    "args",
    [["suppliers", "add", "{s}", "--name", "X"], ["suppliers", "add", "{s}", "--name", "X",
     "--credentials"]],
    ids=["add", "add --credentials"],
)  # fmt: skip
async def test_a_wrong_admin_password_is_named_authentication_failed_by_the_cli(
    args: list[str], settings: Settings, secure_broker: SecureBroker, token: str
) -> None:
    admin_env = cli_env(secure_broker.admin(settings))
    wrong = "not-" + admin_env["INGEST_SASL_PASSWORD"]

    refused = await run_cli(
        *(a.format(s=f"{token}-x") for a in args), env=admin_env | {"INGEST_SASL_PASSWORD": wrong}
    )

    assert refused.code == 2, refused.output
    assert len(refused.stderr.strip().splitlines()) == 1, refused.stderr
    assert "authentication failed" in refused.stderr
    assert "Unable to bootstrap" not in refused.output
    assert wrong not in refused.output


async def test_secure_stack_creates_the_dlq_and_exactly_the_consumer_acls(
    settings: Settings, secure_broker: SecureBroker
) -> None:
    admin_settings = secure_broker.admin(settings)
    async with SecurityAdmin(admin_settings) as admin:
        granted = set(await admin.describe_acls(CONSUMER_USER))
    assert granted == set(consumer_acls(prefixed_group_and_dlq=True))
    client = AIOKafkaAdminClient(**client_options(admin_settings))
    await client.start()
    try:
        assert "triage.dlq" in await client.list_topics()
    finally:
        await client.close()


async def connects(settings: Settings) -> bool:
    """True when an admin client with these settings gets the cluster's metadata."""
    admin = AIOKafkaAdminClient(**client_options(settings), request_timeout_ms=5000)
    try:
        async with asyncio.timeout(30):
            await admin.start()
            return bool((await admin.describe_cluster()).get("brokers"))
    except (KafkaError, OSError, TimeoutError):
        return False
    finally:
        await admin.close()


@pytest.mark.security
async def test_the_secure_broker_serves_clients_over_verified_tls_only(
    settings: Settings, secure_broker: SecureBroker
) -> None:
    """Supplier traffic was SASL over plaintext. The secure stack's client listener
    is SASL_SSL: the right user and password without TLS, or over TLS without trusting the
    stack's CA, get nothing. Second review: the controller listener carried its PLAIN password
    over plaintext; it is SASL_SSL too."""
    admin = secure_broker.security.admin
    assert admin.cafile is not None
    base = on_secure(settings, secure_broker)
    assert await connects(admin.settings(base))  # SASL_SSL, the stack's CA: served
    plaintext = Credentials(admin.username, admin.password)  # SASL_PLAINTEXT
    assert not await connects(plaintext.settings(base))
    no_sasl = base.model_copy(update={"security_protocol": "PLAINTEXT"})
    assert not await connects(no_sasl)
    system_cas = admin.settings(base).model_copy(update={"kafka_ssl_cafile": None})
    assert not await connects(system_cas)  # the broker's certificate is verified
    listeners = (secure_broker.state_dir / "kafka" / "server.properties").read_text()
    assert "listener.security.protocol.map=CLIENT:SASL_SSL,CONTROLLER:SASL_SSL" in listeners


async def produced(settings: Settings, topic: str, within: float = 10.0) -> bool:
    """True when a new producer with these settings gets one event acknowledged."""
    payload = event(supplier_id=topic.removeprefix("triage.daily."))
    producer = make_producer(settings, request_timeout_ms=int(within * 1000))
    try:
        async with asyncio.timeout(within * 2):
            await producer.start()
            await producer.send_and_wait(topic, encoded(payload), key=key_of(payload))
        return True
    except (KafkaError, OSError, TimeoutError):
        return False
    finally:
        with contextlib.suppress(KafkaError, OSError, TimeoutError):
            await producer.stop()


@pytest.mark.security
async def test_a_revoked_supplier_can_no_longer_produce_within_seconds(
    settings: Settings, secure_broker: SecureBroker, token: str
) -> None:
    """Credentials lifecycle: `ingest suppliers credentials revoke` takes effect on an
    open connection within a bounded time (its ACLs go at once), and no new one is let in."""
    supplier = f"{token}-revoked"
    admin = secure_broker.admin(settings)
    await ensure_topics(admin, [topic_for(supplier)], 1)
    credentials = await create_supplier_credentials(admin, supplier)
    as_supplier = credentials.settings(on_secure(settings, secure_broker))
    payload = event(supplier_id=supplier)
    open_producer = make_producer(as_supplier, request_timeout_ms=5000)
    await open_producer.start()
    try:
        await open_producer.send_and_wait(
            topic_for(supplier), encoded(payload), key=key_of(payload)
        )

        revoked = await run_cli("suppliers", "credentials", "revoke", supplier, env=cli_env(admin))
        assert revoked.code == 0, revoked.output
        began = time.monotonic()

        async def refused() -> bool:
            try:
                async with asyncio.timeout(10):
                    await open_producer.send_and_wait(
                        topic_for(supplier), encoded(payload), key=key_of(payload)
                    )
            except (KafkaError, TimeoutError):
                return True
            return False

        await wait_until(refused, REVOKE_BOUND_S, "the open connection to be refused")
        assert time.monotonic() - began < REVOKE_BOUND_S
    finally:
        with contextlib.suppress(KafkaError, OSError, TimeoutError):
            await open_producer.stop()
    assert not await produced(as_supplier, topic_for(supplier))  # no new connection either


@pytest.mark.security
async def test_a_rotated_password_replaces_the_old_one(
    settings: Settings, secure_broker: SecureBroker, token: str
) -> None:
    supplier = f"{token}-rotated"
    admin = secure_broker.admin(settings)
    await ensure_topics(admin, [topic_for(supplier)], 1)
    old = await create_supplier_credentials(admin, supplier)
    rotated = await run_cli("suppliers", "credentials", "rotate", supplier, env=cli_env(admin))
    assert rotated.code == 0, rotated.output
    (password,) = re.findall(r"INGEST_SASL_PASSWORD=(\S+)", rotated.stdout)
    new = Credentials(old.username, SecretStr(password), old.cafile)
    base = on_secure(settings, secure_broker)
    assert await produced(new.settings(base), topic_for(supplier))
    assert not await produced(old.settings(base), topic_for(supplier))


async def seconds_to_produce(settings: Settings, topic: str, records: int, size: int) -> float:
    """Wall time for one producer to get ``records`` values of ``size`` bytes acknowledged."""
    producer = make_producer(settings, linger_ms=0)
    await producer.start()
    try:
        began = time.monotonic()
        futures = [await producer.send(topic, b"x" * size) for _ in range(records)]
        await asyncio.gather(*futures)
        return time.monotonic() - began
    finally:
        await producer.stop()


@pytest.mark.security
async def test_a_supplier_is_throttled_to_its_produce_quota(
    settings: Settings, secure_broker: SecureBroker, token: str
) -> None:
    """One supplier must not starve the others (there were no quotas). A supplier's user gets
    INGEST_SUPPLIER_PRODUCE_BYTES_PER_SECOND with its credentials; beyond it the broker delays the
    supplier's requests."""
    supplier, fast = f"{token}-quota", f"{token}-noquota"
    admin = secure_broker.admin(settings)
    await ensure_topics(admin, [topic_for(supplier), topic_for(fast)], 1)
    base = on_secure(settings, secure_broker)
    slow_admin = admin.model_copy(update={"supplier_produce_bytes_per_second": 8 * 1024})
    throttled = (await create_supplier_credentials(slow_admin, supplier)).settings(base)
    roomy = (await create_supplier_credentials(admin, fast)).settings(base)  # 1 MiB/s
    # 128 KiB: the broker measures rates over its 11 one-second samples (at least 10 s), so at
    # 8 KiB/s the burst must spread over about 128 / 8 = 16 s: some 6 s of delay
    burst = (64, 2048)

    unthrottled = await seconds_to_produce(roomy, topic_for(fast), *burst)
    limited = await seconds_to_produce(throttled, topic_for(supplier), *burst)

    assert unthrottled < 2.0
    assert limited > 3.0, f"{limited:.1f} s for 128 KiB at 8 KiB/s"


@pytest.mark.security
async def test_mutual_tls_takes_a_client_certificate_of_the_stacks_ca_only(
    settings: Settings, secure_broker: SecureBroker, tmp_path: Path
) -> None:
    """Mutual TLS as an option: a client certificate signed by the stack's CA is
    accepted (INGEST_KAFKA_SSL_CERTFILE/KEYFILE), one of another CA ends the handshake."""
    admin = secure_broker.admin(settings)
    ours = issue_client_certificate(
        TlsFiles(secure_broker.state_dir / "tls"), "triage-admin", tmp_path / "ours"
    )
    theirs = issue_client_certificate(TlsFiles(tmp_path / "other-ca"), "intruder", tmp_path)
    for (certfile, keyfile), served in ((ours, True), (theirs, False)):
        presenting = admin.model_copy(
            update={"kafka_ssl_certfile": certfile, "kafka_ssl_keyfile": keyfile}
        )
        assert await connects(presenting) is served, certfile
