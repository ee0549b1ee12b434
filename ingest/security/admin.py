"""The broker edge of Kafka security: create SCRAM users and ACLs, describe ACLs.

aiokafka 0.14's ``AIOKafkaAdminClient`` has no call for SCRAM credentials
(AlterUserScramCredentials, API key 51) nor for ACLs (CreateAcls, key 30; DescribeAcls, key
29), but its wire protocol layer does: :class:`SecurityAdmin` sends those requests itself
through an admin client's connection (no JVM, no Kafka command-line tools). Passwords are salted
and hashed before they leave the process."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from typing import Any

from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.errors import KafkaError, for_code
from aiokafka.protocol.admin import CreateAclsRequest, DeleteAclsRequest, DescribeAclsRequest
from aiokafka.protocol.api import Request
from pydantic import SecretStr

from ingest.kafka import client_options, connection_failures
from ingest.security.acls import (
    Acl,
    AclError,
    Operation,
    PatternType,
    Permission,
    ResourceType,
    consumer_acls,
    principal,
    supplier_acls,
    supplier_user,
)
from ingest.security.credentials import Credentials
from ingest.security.kafka_protocol import (
    AlterClientQuotasRequest,
    AlterUserScramCredentialsRequest,
)
from ingest.security.scram import new_password, scram_credential
from ingest.settings import Settings

log = logging.getLogger(__name__)
PRODUCER_BYTE_RATE = "producer_byte_rate"
_SECURITY_DISABLED = 54  # SecurityDisabledError: the broker has no authorizer
_RESOURCE_NOT_FOUND = 91  # ResourceNotFoundError: e.g. no SCRAM credential to delete


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
            with connection_failures() as failures:
                await self._admin.start()
        except KafkaError as exc:
            await self._admin.close()
            why = "authentication failed" if failures.authentication else type(exc).__name__
            raise AclError(
                f"cannot connect to Kafka at {self._settings.kafka()} as"
                f" {self._settings.sasl_username or 'an anonymous client'}: {why}"
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

    async def set_quotas(self, user: str, quotas: Mapping[str, float | None]) -> None:
        """Set the user's client quotas (``producer_byte_rate``...; ``None`` removes one)."""
        response = await self._send(AlterClientQuotasRequest(user, quotas))
        for code, message, _entity in response.entries:
            _raise_for(code, message, f"cannot set the quotas of {user!r}")
        log.info("quotas of user %s: %s", user, dict(quotas))

    async def delete_user(self, user: str) -> bool:
        """Remove the user's SCRAM-SHA-512 credential: new connections (and re-authentication
        of existing ones) with it fail. False when it had none."""
        response = await self._send(AlterUserScramCredentialsRequest([], [user]))
        for name, code, message, _tags in response.results:
            if code == _RESOURCE_NOT_FOUND:
                return False
            _raise_for(code, message, f"cannot delete the SCRAM credential of {name!r}")
        log.info("SCRAM-SHA-512 credential of user %s deleted", user)
        return True

    async def delete_acls(self, user: str) -> int:
        """Remove every ACL binding of the user (in force at once, on open connections too);
        how many were removed."""
        request = DeleteAclsRequest(
            int(ResourceType.ANY),
            None,
            int(PatternType.ANY),
            principal(user),
            None,
            int(Operation.ANY),
            int(Permission.ANY),
        )
        response = await self._send(request)
        removed = 0
        for code, message, matching in response.filter_responses:
            _raise_for(code, message, f"cannot delete the ACLs of {user!r}")
            removed += len(matching)
        log.info("%d ACL bindings of user %s deleted", removed, user)
        return removed

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


async def check_authorizer(admin_settings: Settings) -> None:
    """Raise AclError (naming the cause) when the broker cannot hold users' rights: it runs
    without an authorizer (a plain local stack), or these settings may not administer it.
    Asked before anything is created, so a refused ``--credentials`` leaves nothing behind."""
    try:
        async with SecurityAdmin(admin_settings) as admin:
            await admin.describe_acls(admin_settings.sasl_username)
    except AclError as exc:
        raise AclError(f"no Kafka user can be given rights here, nothing created: {exc}") from None


async def create_supplier_credentials(admin_settings: Settings, supplier_id: str) -> Credentials:
    """A new SCRAM user for the supplier (a new password each call) and its ACLs."""
    # the supplier trusts the same CA as the admin connection (TLS brokers)
    credentials = Credentials(
        supplier_user(supplier_id), new_password(), admin_settings.kafka_ssl_cafile
    )
    async with SecurityAdmin(admin_settings) as admin:
        await admin.upsert_user(credentials.username, credentials.password)
        await admin.create_acls(supplier_acls(supplier_id))
        # the broker throttles the supplier's producers beyond this rate (all its connections)
        rate = float(admin_settings.supplier_produce_bytes_per_second)
        await admin.set_quotas(credentials.username, {PRODUCER_BYTE_RATE: rate})
    return credentials


async def rotate_supplier_credentials(admin_settings: Settings, supplier_id: str) -> Credentials:
    """A new password for the supplier's user (the old one stops working for new connections at
    once, for open ones at their next re-authentication: ``connections.max.reauth.ms``); its
    ACLs are made sure of."""
    return await create_supplier_credentials(admin_settings, supplier_id)


async def revoke_supplier_credentials(admin_settings: Settings, supplier_id: str) -> int:
    """The supplier may do nothing any more: its ACLs go (open connections are refused at their
    next request) and its SCRAM credential goes (no new connection); ACLs removed."""
    user = supplier_user(supplier_id)
    async with SecurityAdmin(admin_settings) as admin:
        removed = await admin.delete_acls(user)
        await admin.delete_user(user)
    return removed


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
