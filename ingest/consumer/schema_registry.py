"""Confluent-compatible schema registry client (HTTP edge), with a cache.

Only ids seen in a batch are fetched, once each. An id the registry does not know (404) is
absent from the answer, so the record is rejected ``unknown_schema``; a registry that cannot
be reached raises SchemaRegistryError and the batch is retried, never rejected.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

import aiohttp
from fastavro.schema import SchemaParseException, UnknownType, parse_schema

from ingest.errors import SchemaRegistryError

HTTP_NOT_FOUND = 404


class SchemaRegistryClient:
    def __init__(self, url: str, timeout_seconds: float = 10.0) -> None:
        self._url = url.rstrip("/")
        self._timeout = aiohttp.ClientTimeout(total=timeout_seconds)
        self._cache: dict[int, dict[str, Any] | None] = {}
        self._session: aiohttp.ClientSession | None = None

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def schemas(self, ids: Iterable[int]) -> dict[int, dict[str, Any]]:
        """Parsed writer schemas for the ids the registry knows."""
        for schema_id in set(ids) - set(self._cache):
            self._cache[schema_id] = await self._fetch(schema_id)
        return {i: s for i, s in self._cache.items() if s is not None}

    async def _fetch(self, schema_id: int) -> dict[str, Any] | None:
        if self._session is None:
            self._session = aiohttp.ClientSession(timeout=self._timeout)
        url = f"{self._url}/schemas/ids/{schema_id}"
        try:
            async with self._session.get(url) as response:
                if response.status == HTTP_NOT_FOUND:
                    return None
                response.raise_for_status()
                body = await response.json(content_type=None)
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise SchemaRegistryError(f"schema registry {self._url} unreachable: {exc}") from exc
        if body.get("schemaType", "AVRO") != "AVRO":
            return None
        try:
            parsed = parse_schema(json.loads(body["schema"]), _write_hint=False)
        except (KeyError, ValueError, TypeError, SchemaParseException, UnknownType):
            return None
        return parsed if isinstance(parsed, dict) else None
