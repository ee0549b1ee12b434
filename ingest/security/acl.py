"""Kafka security: SCRAM-SHA-512 users and ACLs for suppliers and the consumer.

Who may do what (CONTRACT section 1: "one supplier's credentials may write only its own
topic"):

================================  ===========================================================
principal                         rights
================================  ===========================================================
``User:supplier-<supplier_id>``   WRITE, DESCRIBE on topic ``triage.daily.<supplier_id>``
                                  (literal): nothing else, not even reading its own topic
``User:triage-ingest``            READ, DESCRIBE on topics prefixed ``triage.daily.``; READ on
                                  its consumer group; WRITE, DESCRIBE on the dead-letter topic
``User:triage-admin``             super user (creates topics, users and ACLs)
================================  ===========================================================

aiokafka 0.14's ``AIOKafkaAdminClient`` has no call for SCRAM credentials
(AlterUserScramCredentials, API key 51) nor for ACLs (CreateAcls, key 30; DescribeAcls, key
29), but its wire protocol layer does: this module sends those requests itself through an
admin client's connection (no JVM, no Kafka command-line tools). Passwords are generated
here, held as :class:`~pydantic.SecretStr`, salted and hashed (PBKDF2-HMAC-SHA-512) before
they leave the process, and never logged.
"""

from __future__ import annotations

import hashlib
import logging
import os
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import IntEnum
from pathlib import Path
from typing import Any, ClassVar

from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.errors import KafkaError, for_code
from aiokafka.protocol.admin import CreateAclsRequest, DescribeAclsRequest
from aiokafka.protocol.api import Request, RequestStruct, Response
from aiokafka.protocol.types import (
    CompactArray,
    CompactBytes,
    CompactString,
    Int8,
    Int16,
    Int32,
    Schema,
    TaggedFields,
)
from pydantic import SecretStr

from ingest.contract.model import TOPIC_PREFIX, topic_for
from ingest.errors import ConfigurationError, IngestError
from ingest.kafka import client_options
from ingest.ops.suppliers import check_supplier_id
from ingest.settings import Settings

log = logging.getLogger(__name__)

SCRAM_MECHANISM = "SCRAM-SHA-512"
SCRAM_ITERATIONS = 8192  # Kafka accepts 4096..16384 for SCRAM-SHA-512
ADMIN_USER = "triage-admin"
CONSUMER_USER = "triage-ingest"
SUPPLIER_USER_PREFIX = "supplier-"
SECRETS_DIR = "secrets"
ADMIN_ENV = "admin.env"
CONSUMER_ENV = "consumer.env"


class AclError(IngestError):
    """A user or an ACL could not be created on the broker."""


# --------------------------------------------------------------------------------------
# vocabulary of the Kafka ACL protocol (org.apache.kafka.common.acl / resource)
# --------------------------------------------------------------------------------------


class ResourceType(IntEnum):
    ANY = 1
    TOPIC = 2
    GROUP = 3
    CLUSTER = 4


class PatternType(IntEnum):
    ANY = 1
    LITERAL = 3
    PREFIXED = 4


class Operation(IntEnum):
    ANY = 1
    ALL = 2
    READ = 3
    WRITE = 4
    CREATE = 5
    DESCRIBE = 8
    IDEMPOTENT_WRITE = 12


class Permission(IntEnum):
    ANY = 1
    DENY = 2
    ALLOW = 3


@dataclass(frozen=True, slots=True)
class Acl:
    """One ALLOW (or DENY) binding: principal may do operation on a resource (pattern)."""

    principal: str
    resource_type: ResourceType
    resource_name: str
    pattern: PatternType
    operation: Operation
    permission: Permission = Permission.ALLOW
    host: str = "*"

    def __str__(self) -> str:
        return (
            f"{self.principal} {self.permission.name} {self.operation.name} on"
            f" {self.resource_type.name} {self.resource_name}"
            f"{'*' if self.pattern is PatternType.PREFIXED else ''}"
        )


def principal(user: str) -> str:
    return f"User:{user}"


def supplier_user(supplier_id: str) -> str:
    """The SCRAM user name of a supplier: ``supplier-<id>`` (never an internal user)."""
    return f"{SUPPLIER_USER_PREFIX}{check_supplier_id(supplier_id)}"


def supplier_acls(supplier_id: str) -> list[Acl]:
    """WRITE and DESCRIBE on the supplier's own topic, literally, and nothing else."""
    who = principal(supplier_user(supplier_id))
    topic = topic_for(supplier_id)
    return [
        Acl(who, ResourceType.TOPIC, topic, PatternType.LITERAL, op)
        for op in (Operation.WRITE, Operation.DESCRIBE)
    ]


def consumer_acls(
    user: str = CONSUMER_USER,
    group: str = "triage-ingest",
    dlq_topic: str = "triage.dlq",
    *,
    prefixed_group_and_dlq: bool = False,
) -> list[Acl]:
    """READ the feed topics (prefix ``triage.daily.``) and its group; WRITE the DLQ.

    ``prefixed_group_and_dlq`` grants the group and the DLQ as prefixes (the local stack uses
    it so test and demo consumers with suffixed groups and DLQs share one principal).
    """
    who = principal(user)
    pattern = PatternType.PREFIXED if prefixed_group_and_dlq else PatternType.LITERAL
    return [
        Acl(who, ResourceType.TOPIC, TOPIC_PREFIX, PatternType.PREFIXED, Operation.READ),
        Acl(who, ResourceType.TOPIC, TOPIC_PREFIX, PatternType.PREFIXED, Operation.DESCRIBE),
        Acl(who, ResourceType.GROUP, group, pattern, Operation.READ),
        Acl(who, ResourceType.TOPIC, dlq_topic, pattern, Operation.WRITE),
        Acl(who, ResourceType.TOPIC, dlq_topic, pattern, Operation.DESCRIBE),
    ]


# --------------------------------------------------------------------------------------
# SCRAM credentials (pure)
# --------------------------------------------------------------------------------------


def new_password() -> SecretStr:
    """A random password (32 URL-safe characters, 192 bits)."""
    return SecretStr(secrets.token_urlsafe(24))


@dataclass(frozen=True)
class ScramCredential:
    """What the broker stores for a user: salt, iterations and the salted password."""

    user: str
    salt: bytes
    iterations: int
    salted_password: bytes

    def __repr__(self) -> str:  # keeps the salted password out of logs and tracebacks
        return f"ScramCredential(user={self.user!r}, iterations={self.iterations})"


def scram_credential(
    user: str, password: SecretStr, iterations: int = SCRAM_ITERATIONS, salt: bytes | None = None
) -> ScramCredential:
    """SCRAM-SHA-512 SaltedPassword = Hi(password, salt, i) (RFC 5802; PBKDF2-HMAC-SHA-512)."""
    if "," in user or "=" in user:
        raise AclError(f"SCRAM user name {user!r} must not contain ',' or '='")
    chosen = salt if salt is not None else secrets.token_bytes(32)
    salted = hashlib.pbkdf2_hmac("sha512", password.get_secret_value().encode(), chosen, iterations)
    return ScramCredential(user, chosen, iterations, salted)


# --------------------------------------------------------------------------------------
# wire protocol: AlterUserScramCredentials v0 (flexible)
# --------------------------------------------------------------------------------------

_SCRAM_SHA_512 = 2  # org.apache.kafka.clients.admin.ScramMechanism


class AlterUserScramCredentialsResponse_v0(Response):  # type: ignore[misc]  # aiokafka is untyped
    API_KEY = 51
    API_VERSION = 0
    SCHEMA = Schema(
        ("throttle_time_ms", Int32),
        (
            "results",
            CompactArray(
                ("user", CompactString("utf-8")),
                ("error_code", Int16),
                ("error_message", CompactString("utf-8")),
                ("tags", TaggedFields),
            ),
        ),
        ("tags", TaggedFields),
    )


class AlterUserScramCredentialsRequest_v0(RequestStruct):  # type: ignore[misc]
    API_KEY = 51
    API_VERSION = 0
    FLEXIBLE_VERSION: ClassVar[bool] = True
    RESPONSE_TYPE = AlterUserScramCredentialsResponse_v0
    SCHEMA = Schema(
        (
            "deletions",
            CompactArray(
                ("name", CompactString("utf-8")),
                ("mechanism", Int8),
                ("tags", TaggedFields),
            ),
        ),
        (
            "upsertions",
            CompactArray(
                ("name", CompactString("utf-8")),
                ("mechanism", Int8),
                ("iterations", Int32),
                ("salt", CompactBytes),
                ("salted_password", CompactBytes),
                ("tags", TaggedFields),
            ),
        ),
        ("tags", TaggedFields),
    )


class AlterUserScramCredentialsRequest(Request[AlterUserScramCredentialsRequest_v0]):  # type: ignore[misc]
    API_KEY = 51

    def __init__(self, upsertions: Sequence[ScramCredential]) -> None:
        self._upsertions = list(upsertions)

    def build(
        self, request_struct_class: type[AlterUserScramCredentialsRequest_v0]
    ) -> AlterUserScramCredentialsRequest_v0:
        return request_struct_class(
            [],
            [
                (c.user, _SCRAM_SHA_512, c.iterations, c.salt, c.salted_password, {})
                for c in self._upsertions
            ],
            {},
        )


# --------------------------------------------------------------------------------------
# the broker edge
# --------------------------------------------------------------------------------------


_SECURITY_DISABLED = 54  # SecurityDisabledError: the broker has no authorizer


def _raise_for(code: int, message: str | None, what: str) -> None:
    if code:
        error = for_code(code)
        hint = (
            "; the broker runs without an authorizer (a plain local stack? use"
            " `ingest stack up --secure`)"
            if code == _SECURITY_DISABLED
            else ""
        )
        raise AclError(f"{what}: {error.__name__}{f' ({message})' if message else ''}{hint}")


class SecurityAdmin:
    """An admin connection (a super user's settings) that creates users and ACLs."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._admin = AIOKafkaAdminClient(**client_options(settings))

    async def __aenter__(self) -> SecurityAdmin:
        try:
            await self._admin.start()
        except KafkaError as exc:
            await self._admin.close()
            raise AclError(
                f"cannot connect to Kafka at {self._settings.kafka()} as"
                f" {self._settings.sasl_username or 'an anonymous client'}:"
                f" {type(exc).__name__}"
            ) from None
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self._admin.close()

    async def _send(self, request: Request[Any]) -> Any:
        client = self._admin._client  # aiokafka has no public call for these requests
        node = client.get_random_node()
        if node is None or not await client.ready(node):
            raise AclError(f"no Kafka broker reachable at {self._settings.kafka()}")
        return await client.send(node, request)

    async def upsert_user(self, user: str, password: SecretStr) -> None:
        """Create the SCRAM-SHA-512 user, or replace its password."""
        credential = scram_credential(user, password)
        response = await self._send(AlterUserScramCredentialsRequest([credential]))
        for name, code, message, _tags in response.results:
            _raise_for(code, message, f"cannot set the SCRAM credential of {name!r}")
        log.info("SCRAM-SHA-512 credential of user %s set", user)

    async def create_acls(self, acls: Iterable[Acl]) -> None:
        """Create ACL bindings (creating one that exists already is a no-op)."""
        for acl in acls:
            request = CreateAclsRequest(
                int(acl.resource_type),
                acl.resource_name,
                int(acl.pattern),
                acl.principal,
                acl.host,
                int(acl.operation),
                int(acl.permission),
            )
            response = await self._send(request)
            for code, message in response.creation_responses:
                _raise_for(code, message, f"cannot create ACL {acl}")
            log.info("ACL %s", acl)

    async def describe_acls(self, user: str | None = None) -> list[Acl]:
        """Every ACL binding (of one user when given)."""
        request = DescribeAclsRequest(
            int(ResourceType.ANY),
            None,
            int(PatternType.ANY),
            principal(user) if user else None,
            None,
            int(Operation.ANY),
            int(Permission.ANY),
        )
        response = await self._send(request)
        _raise_for(response.error_code, response.error_message, "cannot describe ACLs")
        found: list[Acl] = []
        for resource_type, name, pattern, entries in response.resources:
            for who, host, operation, permission in entries:
                found.append(
                    Acl(
                        who,
                        ResourceType(resource_type),
                        name,
                        PatternType(pattern),
                        Operation(operation),
                        Permission(permission),
                        host,
                    )
                )
        return found


@dataclass(frozen=True)
class Credentials:
    """A user and its password; the password prints as ``**********``."""

    username: str
    password: SecretStr

    def settings(self, base: Settings) -> Settings:
        """``base`` with these credentials over SASL_PLAINTEXT/SCRAM-SHA-512."""
        return base.model_copy(
            update={
                "security_protocol": "SASL_PLAINTEXT",
                "sasl_username": self.username,
                "sasl_password": self.password,
            }
        )

    def env_lines(self) -> list[str]:
        """INGEST_* lines of an env file (holds the password: write it 0600)."""
        return [
            "INGEST_SECURITY_PROTOCOL=SASL_PLAINTEXT",
            f"INGEST_SASL_USERNAME={self.username}",
            f"INGEST_SASL_PASSWORD={self.password.get_secret_value()}",
        ]


async def create_supplier_credentials(admin_settings: Settings, supplier_id: str) -> Credentials:
    """A new SCRAM user for the supplier (a new password each call) and its ACLs."""
    credentials = Credentials(supplier_user(supplier_id), new_password())
    async with SecurityAdmin(admin_settings) as admin:
        await admin.upsert_user(credentials.username, credentials.password)
        await admin.create_acls(supplier_acls(supplier_id))
    return credentials


async def create_consumer_credentials(
    admin_settings: Settings,
    credentials: Credentials,
    group: str = "triage-ingest",
    dlq_topic: str = "triage.dlq",
    *,
    prefixed_group_and_dlq: bool = False,
) -> None:
    """The consumer's SCRAM user and ACLs (idempotent)."""
    async with SecurityAdmin(admin_settings) as admin:
        await admin.upsert_user(credentials.username, credentials.password)
        await admin.create_acls(
            consumer_acls(
                credentials.username,
                group,
                dlq_topic,
                prefixed_group_and_dlq=prefixed_group_and_dlq,
            )
        )


# --------------------------------------------------------------------------------------
# secrets of the local secure stack (<state_dir>/secrets/*.env, mode 0600)
# --------------------------------------------------------------------------------------


def secrets_dir(state_dir: Path) -> Path:
    return state_dir / SECRETS_DIR


def write_env_file(path: Path, credentials: Credentials) -> None:
    """Write an env file readable by its owner only."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.parent.chmod(0o700)
    fd = os.open(path.with_suffix(".tmp"), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write("\n".join(credentials.env_lines()) + "\n")
    path.with_suffix(".tmp").replace(path)


def read_env_file(path: Path) -> Credentials | None:
    """The credentials in an env file written by :func:`write_env_file` (None if absent)."""
    try:
        text = path.read_text()
    except FileNotFoundError:
        return None
    values = dict(
        line.split("=", 1) for line in text.splitlines() if "=" in line and not line.startswith("#")
    )
    user, password = values.get("INGEST_SASL_USERNAME"), values.get("INGEST_SASL_PASSWORD")
    if not user or not password:
        raise ConfigurationError(f"{path} lacks INGEST_SASL_USERNAME or INGEST_SASL_PASSWORD")
    return Credentials(user, SecretStr(password))


def local_admin(state_dir: Path) -> Credentials | None:
    """The super user of the local secure stack (None when the stack is not secure)."""
    return read_env_file(secrets_dir(state_dir) / ADMIN_ENV)


def admin_settings(settings: Settings) -> Settings:
    """Settings fit for admin work: as given when they carry SASL credentials; else, on a local
    secure stack, its super user's; else as given (a plain broker)."""
    if settings.sasl_username:
        return settings
    admin = local_admin(settings.state_dir) if settings.kafka_bootstrap is None else None
    return admin.settings(settings) if admin else settings
