"""The broker's configuration files (pure text; plain or secure) and its cluster id."""

from __future__ import annotations

import base64
import os
import uuid
from collections.abc import Callable

from ingest.devstack.paths import HOST, StackPaths
from ingest.devstack.ports import Ports
from ingest.errors import StackError
from ingest.security.credentials import read_env_file
from ingest.security.scram import SCRAM_MECHANISM

REAUTH_MS = 60_000


def new_cluster_id(draw: Callable[[], bytes] = lambda: uuid.uuid4().bytes) -> str:
    """A random cluster id as Kafka writes one (16 bytes, URL-safe base64 without padding),
    never one starting with '-' (as Kafka's own Uuid.randomUuid): ``kafka-storage format -t``
    would read such an id as an option and refuse to format (one id in 64 did)."""
    while True:
        value = base64.urlsafe_b64encode(draw()).decode().rstrip("=")
        if not value.startswith("-"):
            return value


def kafka_cluster_id(paths: StackPaths) -> str:
    """The stack's cluster id, made once and kept. A kept one starting with '-' was never
    formatted with (the format refused it), so it is replaced."""
    if paths.kafka_cluster_id.exists():
        kept = paths.kafka_cluster_id.read_text().strip()
        if kept and not kept.startswith("-"):
            return kept
    value = new_cluster_id()
    paths.kafka_cluster_id.write_text(value + "\n")
    return value


def write_kafka_config(paths: StackPaths, ports: Ports, secure: bool = False) -> None:
    paths.kafka_data.mkdir(parents=True, exist_ok=True)
    text = server_properties(paths, ports, secure)
    tmp = paths.kafka_config.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600 if secure else 0o644)
    with os.fdopen(fd, "w") as handle:
        handle.write(text)
    tmp.chmod(0o600 if secure else 0o644)
    tmp.replace(paths.kafka_config)
    paths.kafka_log4j.write_text(_log4j2_properties(paths))
    paths.kafka_mode.write_text("secure\n" if secure else "plain\n")


def _secure_properties(paths: StackPaths, ports: Ports) -> dict[str, str]:
    """SASL over TLS on both listeners (client: SCRAM-SHA-512; controller: PLAIN, as KRaft
    controllers cannot use SCRAM) and the StandardAuthorizer."""
    admin = read_env_file(paths.admin_env)
    if admin is None:
        raise StackError(f"{paths.admin_env} is missing")
    controller = paths.controller_password.read_text().strip()
    scram_login = "org.apache.kafka.common.security.scram.ScramLoginModule"
    plain_login = "org.apache.kafka.common.security.plain.PlainLoginModule"
    admin_password = admin.password.get_secret_value()
    return {
        "listeners": f"CLIENT://{HOST}:{ports.kafka},CONTROLLER://{HOST}:{ports.controller}",
        "advertised.listeners": f"CLIENT://{HOST}:{ports.kafka}",
        "inter.broker.listener.name": "CLIENT",
        # clients (suppliers too) only over TLS; the controller listener (the broker's own, on
        # 127.0.0.1) too, so its PLAIN password never crosses a socket in clear
        "listener.security.protocol.map": "CLIENT:SASL_SSL,CONTROLLER:SASL_SSL",
        "ssl.keystore.type": "PEM",
        "ssl.keystore.location": str(paths.tls / "broker.pem"),
        "ssl.truststore.type": "PEM",
        "ssl.truststore.location": str(paths.tls / "ca.pem"),
        "ssl.endpoint.identification.algorithm": "https",
        # mutual TLS as an option: a client may present a certificate of the stack's CA
        # (ingest.devstack.tls.issue_client_certificate); one of another CA is refused. On a
        # SASL_SSL listener only the listener-prefixed setting counts (KIP-684).
        "listener.name.client.ssl.client.auth": "requested",
        "sasl.enabled.mechanisms": SCRAM_MECHANISM,
        "sasl.mechanism.inter.broker.protocol": SCRAM_MECHANISM,
        "listener.name.client.sasl.enabled.mechanisms": SCRAM_MECHANISM,
        "listener.name.client.scram-sha-512.sasl.jaas.config": (
            f'{scram_login} required username="{admin.username}" password="{admin_password}";'
        ),
        "sasl.mechanism.controller.protocol": "PLAIN",
        "listener.name.controller.sasl.enabled.mechanisms": "PLAIN",
        "listener.name.controller.plain.sasl.jaas.config": (
            f'{plain_login} required username="controller" password="{controller}"'
            f' user_controller="{controller}";'
        ),
        "authorizer.class.name": "org.apache.kafka.metadata.authorizer.StandardAuthorizer",
        "super.users": f"User:{admin.username};User:controller",
        "allow.everyone.if.no.acl.found": "false",
        # sessions re-authenticate (or are closed) within this: a rotated or revoked password
        # stops working on open connections too
        "connections.max.reauth.ms": str(REAUTH_MS),
    }


def server_properties(paths: StackPaths, ports: Ports, secure: bool = False) -> str:
    settings = {
        "process.roles": "broker,controller",
        "node.id": "1",
        "controller.quorum.voters": f"1@{HOST}:{ports.controller}",
        "listeners": f"PLAINTEXT://{HOST}:{ports.kafka},CONTROLLER://{HOST}:{ports.controller}",
        "advertised.listeners": f"PLAINTEXT://{HOST}:{ports.kafka}",
        "controller.listener.names": "CONTROLLER",
        "inter.broker.listener.name": "PLAINTEXT",
        "listener.security.protocol.map": "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
        "log.dirs": str(paths.kafka_data),
        "auto.create.topics.enable": "false",
        "num.partitions": "1",
        "default.replication.factor": "1",
        "min.insync.replicas": "1",
        "offsets.topic.replication.factor": "1",
        "offsets.topic.num.partitions": "10",
        "transaction.state.log.replication.factor": "1",
        "transaction.state.log.min.isr": "1",
        "share.coordinator.state.topic.replication.factor": "1",
        "share.coordinator.state.topic.min.isr": "1",
        "group.initial.rebalance.delay.ms": "0",
        "log.retention.hours": "168",
        "log.segment.bytes": str(256 * 1024 * 1024),
        "num.network.threads": "3",
        "num.io.threads": "4",
    }
    if secure:
        settings.update(_secure_properties(paths, ports))
    lines = [f"{key}={value}" for key, value in settings.items()]
    return "# written by `ingest stack up`; edits are overwritten\n" + "\n".join(lines) + "\n"


def _log4j2_properties(paths: StackPaths) -> str:
    """Broker logs to a rolling file, never the console."""
    return "\n".join(
        [
            "status = warn",
            "shutdownHook = disable",
            "appender.file.type = RollingFile",
            "appender.file.name = FILE",
            f"appender.file.fileName = {paths.kafka_log}",
            f"appender.file.filePattern = {paths.kafka_log}.%i",
            "appender.file.layout.type = PatternLayout",
            "appender.file.layout.pattern = [%d] %p %m (%c)%n",
            "appender.file.policies.type = Policies",
            "appender.file.policies.size.type = SizeBasedTriggeringPolicy",
            "appender.file.policies.size.size = 50MB",
            "appender.file.strategy.type = DefaultRolloverStrategy",
            "appender.file.strategy.max = 3",
            "rootLogger.level = INFO",
            "rootLogger.appenderRef.file.ref = FILE",
            "logger.request.name = kafka.request.logger",
            "logger.request.level = WARN",
            "logger.statechange.name = state.change.logger",
            "logger.statechange.level = WARN",
            "",
        ]
    )
