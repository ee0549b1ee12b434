"""Registering the released schema versions in a Confluent-compatible schema registry.

Suppliers that send the Confluent wire format register their writer schema under their
subject (``triage.daily.<supplier_id>-value``) themselves; this puts every released version
there first, oldest first, under the compatibility rule ``BACKWARD`` (by default), so the
registry itself refuses a writer schema that the released versions' readers could not read,
and a supplier moving to a new version finds it already accepted.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import aiohttp

from ingest.contract.schemas import released_versions
from ingest.errors import IngestError

CONTENT_TYPE = "application/vnd.schemaregistry.v1+json"
COMPATIBILITY_LEVELS = ("BACKWARD", "BACKWARD_TRANSITIVE", "FULL", "FULL_TRANSITIVE")
_TIMEOUT = aiohttp.ClientTimeout(total=30)


class SchemaRegistrationError(IngestError):
    """The registry could not be reached, or refused a released version."""


@dataclass(frozen=True, slots=True)
class Registered:
    """A released version and the id the registry gave it under the subject."""

    version: int
    schema_id: int


async def register_released(
    url: str, subject: str, compatibility: str = "BACKWARD"
) -> list[Registered]:
    """Set the subject's compatibility rule, then register every released version in order
    (registering a schema already there returns its id: running this again changes nothing)."""
    if compatibility not in COMPATIBILITY_LEVELS:
        raise SchemaRegistrationError(
            f"compatibility {compatibility!r} is not one of {', '.join(COMPATIBILITY_LEVELS)}"
        )
    base = url.rstrip("/")
    try:
        async with aiohttp.ClientSession(timeout=_TIMEOUT) as session:
            await _call(
                session, "PUT", f"{base}/config/{subject}", {"compatibility": compatibility}
            )
            done = []
            for released in released_versions():
                answer = await _call(
                    session,
                    "POST",
                    f"{base}/subjects/{subject}/versions",
                    {"schema": json.dumps(released.source)},
                    what=f"v{released.version}",
                )
                done.append(Registered(released.version, int(answer["id"])))
            return done
    except (aiohttp.ClientError, TimeoutError) as exc:
        reason = str(exc) or type(exc).__name__
        raise SchemaRegistrationError(
            f"cannot reach the schema registry at {base}: {reason}"
        ) from None


async def _call(
    session: aiohttp.ClientSession,
    method: str,
    url: str,
    body: dict[str, Any],
    what: str = "the compatibility rule",
) -> dict[str, Any]:
    async with session.request(
        method, url, data=json.dumps(body), headers={"Content-Type": CONTENT_TYPE}
    ) as response:
        text = await response.text()
        if response.status != 200:
            try:
                message = str(json.loads(text).get("message", text))
            except (ValueError, AttributeError):
                message = text
            raise SchemaRegistrationError(
                f"the schema registry refused {what} (HTTP {response.status}): {message[:300]}"
            )
        answer = json.loads(text)
        if not isinstance(answer, dict):
            raise SchemaRegistrationError(f"the schema registry answered {text[:100]!r}")
        return answer
