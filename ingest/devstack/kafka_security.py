"""The secure broker's credentials: passwords generated once into ``secrets/`` (0600), the
consumer's SCRAM user and ACLs, and the check that secure mode has secure storage."""

from __future__ import annotations

import os
from dataclasses import dataclass

from aiokafka.errors import KafkaError

from ingest.devstack.paths import Report, StackPaths
from ingest.errors import KafkaTopicError, StackError
from ingest.kafka import create_dead_letter_topic
from ingest.security.acls import ADMIN_USER, CONSUMER_USER, AclError
from ingest.security.admin import create_consumer_credentials
from ingest.security.credentials import Credentials, read_env_file, write_env_file
from ingest.security.scram import new_password
from ingest.settings import Settings


@dataclass(frozen=True)
class KafkaSecurity:
    """Credentials of a secure broker (``up --secure``); passwords are SecretStr."""

    admin: Credentials  # super user
    consumer: Credentials  # the ingestion consumer's principal


def kafka_mode(paths: StackPaths) -> str:
    """How the broker of this state folder was last started: "secure" or "plain"."""
    try:
        return paths.kafka_mode.read_text().strip() or "plain"
    except OSError:
        return "plain"


def check_secure_storage(paths: StackPaths) -> None:
    formatted = (paths.kafka_data / "meta.properties").exists()
    if formatted and not paths.kafka_secure_marker.exists():
        raise StackError(
            f"the broker data in {paths.kafka_data} was formatted without --secure, so it has no "
            "admin SCRAM user; use another state folder (INGEST_STATE_DIR=.ingest-secure) or "
            f"`ingest stack down` and `rm -rf {paths.kafka_data}` (deletes every topic)"
        )


def ensure_secrets(paths: StackPaths) -> None:
    """Passwords of the admin, consumer and controller: generated once, kept 0600; the TLS
    CA and broker certificate (:mod:`ingest.devstack.tls`); env files that name the CA."""
    from ingest.devstack.tls import TlsFiles, ensure_tls  # cryptography: the [stack] extra

    paths.secrets.mkdir(parents=True, exist_ok=True)
    paths.secrets.chmod(0o700)
    tls = TlsFiles(paths.tls)
    ensure_tls(tls)
    users = ((paths.admin_env, ADMIN_USER), (paths.consumer_env, CONSUMER_USER))
    for env_file, user in users:
        known = read_env_file(env_file)
        if known is None:
            write_env_file(env_file, Credentials(user, new_password(), tls.ca))
        elif known.cafile != tls.ca:  # written before TLS: same password, now over TLS
            write_env_file(env_file, Credentials(known.username, known.password, tls.ca))
    if not paths.controller_password.exists():
        fd = os.open(paths.controller_password, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(new_password().get_secret_value() + "\n")


def read_security(paths: StackPaths) -> KafkaSecurity:
    admin = read_env_file(paths.admin_env)
    consumer = read_env_file(paths.consumer_env)
    if admin is None or consumer is None:
        raise StackError(f"the secure broker's credentials are missing from {paths.secrets}")
    return KafkaSecurity(admin, consumer)


async def grant_consumer(
    paths: StackPaths, bootstrap: str, admin: Credentials, report: Report
) -> None:
    """The consumer's SCRAM user and ACLs (idempotent: run on every secure ``up``)."""
    consumer = read_env_file(paths.consumer_env)
    if consumer is None:
        raise StackError(f"{paths.consumer_env} is missing: `ingest stack down` then `up --secure`")
    base = Settings(kafka_bootstrap=bootstrap, state_dir=paths.root)
    try:
        await create_consumer_credentials(
            admin.settings(base), consumer, prefixed_group_and_dlq=True
        )
        # The consumer may write the DLQ but not create topics: the admin creates it.
        await create_dead_letter_topic(admin.settings(base))
    except (AclError, KafkaError, KafkaTopicError) as exc:
        raise StackError(f"cannot create the consumer's user and ACLs: {exc}") from None
    report(
        f"kafka: consumer principal User:{consumer.username} may read triage.daily.* and its "
        f"group, write triage.dlq (credentials: {paths.consumer_env})"
    )
