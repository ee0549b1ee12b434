"""Confluent-compatible schema registry client (HTTP edge), with bounded caches.

The service asks :meth:`SchemaRegistryClient.lookup` for the schema ids of a batch's
Confluent-framed records. The answer splits them in two:

* ``known``: what each id is (:class:`~ingest.consumer.schema_registry.released.RegistrySchema`): a
  released version, or not (unknown to the registry, or another schema, with the reason);
* ``pending``: ids not answered now, whose records must wait (never be rejected): the
  registry is unreachable, or the batch already used its bound of new ids.

Bounds: found schemas are kept in an LRU cache of ``cache_size`` ids; an id the registry
does not know (404) is remembered for ``unknown_ttl_seconds`` only, so a schema registered
after its id was first seen is picked up without restart (in an LRU of its own, of the same
size); at most ``lookups_per_batch`` new ids are requested per call, ``concurrency`` at a
time. The ids beyond the bound are looked up in the background meanwhile (up to
``cache_size`` of them queued, with the same cap on requests in flight), so a flood of ids
is resolved at the registry's pace, not one bound per batch. After a failure the registry
is left alone for a back-off (1 s doubling to 30 s): meanwhile every uncached id is pending
at once, without a request.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import aiohttp

from ingest.consumer.schema_registry.released import RegistrySchema, match_released, unknown_id
from ingest.errors import SchemaRegistryError
from ingest.redaction import redact_text, redact_url

log = logging.getLogger(__name__)

HTTP_NOT_FOUND = 404
FIRST_BACKOFF_SECONDS = 1.0
MAX_BACKOFF_SECONDS = 30.0


@dataclass
class Lookup:
    """The answer for one batch's schema ids."""

    known: dict[int, RegistrySchema] = field(default_factory=dict)
    pending: set[int] = field(default_factory=set)
    requested: int = 0  # ids asked of the registry for this answer (not in the background)
    failed: str | None = None  # why the registry could not answer (None: it did, or no need)


class SchemaRegistryClient:
    def __init__(
        self,
        url: str,
        *,
        timeout_seconds: float = 5.0,
        cache_size: int = 10_000,
        unknown_ttl_seconds: float = 30.0,
        concurrency: int = 8,
        lookups_per_batch: int = 64,
        clock: Callable[[], float] = time.monotonic,
        on_result: Callable[[str], None] | None = None,
    ) -> None:
        """``on_result(kind)`` is called for each id the registry was asked about: kind is
        accepted (a released version), refused (another schema), unknown (404) or failed."""
        self._url = url.rstrip("/")
        self._timeout = aiohttp.ClientTimeout(total=timeout_seconds)
        self._cache_size = cache_size
        self._unknown_ttl = unknown_ttl_seconds
        self._concurrency = concurrency
        self.lookups_per_batch = lookups_per_batch
        self._clock = clock
        self._on_result = on_result
        self._found: OrderedDict[int, RegistrySchema] = OrderedDict()
        self._unknown: OrderedDict[int, float] = OrderedDict()  # id -> when to ask again
        self._ahead: OrderedDict[int, None] = OrderedDict()  # ids to look up in the background
        self._ahead_task: asyncio.Task[None] | None = None
        self._gate: asyncio.Semaphore | None = None
        self._session: aiohttp.ClientSession | None = None
        self._retry_at = 0.0
        self._backoff = FIRST_BACKOFF_SECONDS
        self.reachable = True  # False from a failed request until one succeeds
        self.last_failure: str | None = None

    @property
    def url(self) -> str:
        return self._url

    @property
    def cached(self) -> int:
        """Ids held in memory (found, unknown, queued): bounded by 3 x cache_size."""
        return len(self._found) + len(self._unknown) + len(self._ahead)

    def retry_in(self) -> float:
        """Seconds until the registry may be asked again after a failure (0: now)."""
        return max(0.0, self._retry_at - self._clock())

    async def close(self) -> None:
        if self._ahead_task is not None:
            self._ahead_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._ahead_task
            self._ahead_task = None
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def lookup(self, ids: Iterable[int]) -> Lookup:
        """What each id is, from the caches or the registry; ids not answered now pending."""
        answer = Lookup()
        now = self._clock()
        wanted: list[int] = []
        for schema_id in dict.fromkeys(ids):
            known = self._cached(schema_id, now)
            if known is not None:
                answer.known[schema_id] = known
            else:
                wanted.append(schema_id)
        if not wanted:
            return answer
        if now < self._retry_at:
            answer.pending.update(wanted)
            answer.failed = self.last_failure
            return answer
        bound = self.lookups_per_batch
        asked, later = wanted[:bound], wanted[bound:]
        answer.pending.update(later)
        self._look_ahead(later)
        results = await self._ask(asked)
        answer.requested = len(asked)
        for schema_id, result in zip(asked, results, strict=True):
            if isinstance(result, SchemaRegistryError):
                answer.pending.add(schema_id)
                answer.failed = answer.failed or str(result)
            else:
                answer.known[schema_id] = result
        return answer

    def _cached(self, schema_id: int, now: float) -> RegistrySchema | None:
        found = self._found.get(schema_id)
        if found is not None:
            self._found.move_to_end(schema_id)
            return found
        until = self._unknown.get(schema_id)
        if until is not None and until > now:
            return unknown_id(schema_id)
        return None

    async def _ask(self, ids: list[int]) -> list[RegistrySchema | SchemaRegistryError]:
        """Ask the registry about ids, ``concurrency`` at a time; each answer cached."""
        if self._gate is None:
            self._gate = asyncio.Semaphore(self._concurrency)
        gate = self._gate

        async def one(schema_id: int) -> RegistrySchema | None:
            async with gate:
                return await self._fetch(schema_id)

        results = await asyncio.gather(*(one(i) for i in ids), return_exceptions=True)
        answers: list[RegistrySchema | SchemaRegistryError] = []
        failure: str | None = None
        for schema_id, result in zip(ids, results, strict=True):
            if isinstance(result, SchemaRegistryError):
                failure = failure or str(result)
                answers.append(result)
                kind = "failed"
            elif isinstance(result, BaseException):
                raise result
            elif result is None:
                self._remember_unknown(schema_id)
                answers.append(unknown_id(schema_id))
                kind = "unknown"
            else:
                self._remember_found(result)
                answers.append(result)
                kind = "accepted" if result.accepted else "refused"
            if self._on_result is not None:
                self._on_result(kind)
        if failure is not None:
            self._failed(failure)
        elif ids:
            self._succeeded()
        return answers

    def _look_ahead(self, ids: list[int]) -> None:
        """Queue ids for the background lookup (at most cache_size queued)."""
        for schema_id in ids:
            if len(self._ahead) >= self._cache_size:
                break
            self._ahead[schema_id] = None
        if self._ahead and (self._ahead_task is None or self._ahead_task.done()):
            self._ahead_task = asyncio.create_task(self._run_ahead())

    async def _run_ahead(self) -> None:
        while self._ahead and self.reachable:
            chunk: list[int] = []
            while self._ahead and len(chunk) < 4 * self._concurrency:
                chunk.append(self._ahead.popitem(last=False)[0])
            now = self._clock()
            chunk = [i for i in chunk if self._cached(i, now) is None]
            try:
                await self._ask(chunk)
            except Exception:  # a background task must not die silently
                log.exception("background schema lookups failed")
                return
        if not self.reachable:
            self._ahead.clear()  # asked again when their records come back

    def _remember_found(self, schema: RegistrySchema) -> None:
        self._unknown.pop(schema.schema_id, None)
        self._found[schema.schema_id] = schema
        self._found.move_to_end(schema.schema_id)
        while len(self._found) > self._cache_size:
            self._found.popitem(last=False)

    def _remember_unknown(self, schema_id: int) -> None:
        self._unknown[schema_id] = self._clock() + self._unknown_ttl
        self._unknown.move_to_end(schema_id)
        while len(self._unknown) > self._cache_size:
            self._unknown.popitem(last=False)

    def _failed(self, why: str) -> None:
        self.reachable = False
        self.last_failure = why
        self._retry_at = self._clock() + self._backoff
        self._backoff = min(self._backoff * 2, MAX_BACKOFF_SECONDS)

    def _succeeded(self) -> None:
        self.reachable = True
        self.last_failure = None
        self._retry_at = 0.0
        self._backoff = FIRST_BACKOFF_SECONDS

    async def _fetch(self, schema_id: int) -> RegistrySchema | None:
        """The registry's schema for an id (None: unknown to it); SchemaRegistryError when
        it gives no answer (network, timeout, 5xx)."""
        if self._session is None:
            self._session = aiohttp.ClientSession(timeout=self._timeout)
        url = f"{self._url}/schemas/ids/{schema_id}"
        try:
            async with self._session.get(url) as response:
                if response.status == HTTP_NOT_FOUND:
                    return None
                if response.status >= 400:
                    text = (await response.text())[:200]
                    raise SchemaRegistryError(
                        f"schema registry {redact_url(self._url)} answered {response.status} for id"
                        f" {schema_id}: {text}"
                    )
                body = await response.json(content_type=None)
        except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
            raise SchemaRegistryError(
                f"schema registry {redact_url(self._url)} unreachable: {redact_text(repr(exc))}"
            ) from exc
        if not isinstance(body, dict) or not isinstance(body.get("schema"), str):
            raise SchemaRegistryError(
                f"schema registry {redact_url(self._url)} gave no schema for id {schema_id}"
            )
        return match_released(schema_id, body["schema"], str(body.get("schemaType", "AVRO")))
