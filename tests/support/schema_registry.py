"""Registering schemas in the real schema registry (its Confluent-compatible API)."""

from __future__ import annotations

import json
from typing import Any

import aiohttp

CONTENT_TYPE = "application/vnd.schemaregistry.v1+json"


async def register_schema(url: str, subject: str, schema: dict[str, Any]) -> int:
    """Register an Avro schema under a subject; its schema id."""
    body = {"schema": json.dumps(schema)}
    async with (
        aiohttp.ClientSession() as session,
        session.post(
            f"{url}/subjects/{subject}/versions",
            data=json.dumps(body),
            headers={"Content-Type": CONTENT_TYPE},
        ) as response,
    ):
        answer = await response.json(content_type=None)
        assert response.status == 200, answer
        return int(answer["id"])


def renamed(schema: dict[str, Any], name: str, namespace: str) -> dict[str, Any]:
    """The same schema under another record name (a supplier's own naming)."""
    return {**schema, "name": name, "namespace": namespace}


async def set_compatibility(url: str, subject: str, level: str) -> None:
    """Set a subject's compatibility rule (BACKWARD, BACKWARD_TRANSITIVE...)."""
    async with (
        aiohttp.ClientSession() as session,
        session.put(
            f"{url}/config/{subject}",
            data=json.dumps({"compatibility": level}),
            headers={"Content-Type": CONTENT_TYPE},
        ) as response,
    ):
        answer = await response.json(content_type=None)
        assert response.status == 200, answer


async def is_compatible(url: str, subject: str, schema: dict[str, Any]) -> bool:
    """The registry's verdict on a schema against the subject's latest version, under the
    subject's compatibility rule."""
    async with (
        aiohttp.ClientSession() as session,
        session.post(
            f"{url}/compatibility/subjects/{subject}/versions/latest",
            data=json.dumps({"schema": json.dumps(schema)}),
            headers={"Content-Type": CONTENT_TYPE},
        ) as response,
    ):
        answer = await response.json(content_type=None)
        assert response.status == 200, answer
        return bool(answer["is_compatible"])


async def registration_status(url: str, subject: str, schema: dict[str, Any]) -> int:
    """The HTTP status of registering a schema (200, or 409 when a rule refuses it)."""
    async with (
        aiohttp.ClientSession() as session,
        session.post(
            f"{url}/subjects/{subject}/versions",
            data=json.dumps({"schema": json.dumps(schema)}),
            headers={"Content-Type": CONTENT_TYPE},
        ) as response,
    ):
        await response.read()
        return response.status
