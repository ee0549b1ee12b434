"""A measured prototype of the consumer-loop change the benchmark motivates (not the shipped
consumer): decode and validate batch N+1 while batch N is written to Postgres.

The shipped loop (ingest/consumer/service.py) is serial: getmany -> triage -> write ->
commit, so Postgres waits while Python decodes and Python waits while Postgres inserts; on
2 cores one of them is idle most of the time. Here ``_poll_once`` triages the next batch in a
worker thread while the previous batch's write runs as a task on the event loop, and only
then waits for that write before starting the next one. Batches are still stored one at a
time, in order, each in its own transaction with its offsets; a write re-reads the
registered suppliers and redoes the triage if they changed since (so the effect is the
serial loop's).

Run by ``run_bench --pipelined`` as ``python -m tests.bench.pipelined`` (same settings).
For measurement only: its ``_poll_once`` replaces the service's, so it lacks what the service
loop does around assignments (e.g. dropping a batch fetched across a rebalance); adopting the
idea means putting the overlap into the service's own loop.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from collections.abc import Mapping, Sequence
from typing import Any

from aiokafka.errors import KafkaError

from ingest.consumer.batch import commit_to_kafka, limits_now, next_offsets, raw_records
from ingest.consumer.decoding import Decoder
from ingest.consumer.pipeline import Triaged, triage
from ingest.consumer.retry import pause
from ingest.consumer.schema_registry.released import RegistrySchema
from ingest.consumer.service import KAFKA_FETCH_RETRY_SECONDS, IngestService
from ingest.consumer.store import BatchResult, Store
from ingest.consumer.types import RawRecord, TopicPartitionKey
from ingest.contract.validation import Limits
from ingest.errors import BatchAbandonedError
from ingest.ops.metrics import IngestMetrics
from ingest.ops.process import serve
from ingest.settings import Settings, load_settings

log = logging.getLogger("tests.bench.pipelined")


class PipelinedService(IngestService[IngestMetrics]):
    """IngestService whose loop overlaps the triage of batch N+1 with the write of batch N."""

    def __init__(self, settings: Settings) -> None:
        super().__init__(settings, IngestMetrics())
        self._in_flight: asyncio.Task[None] | None = None
        self._registered: set[str] | None = None

    def _limits(self) -> Limits:
        return limits_now(self.settings, self.clock)

    async def _poll_once(self) -> None:
        consumer = self._require_consumer()
        try:
            batch = await consumer.getmany(
                timeout_ms=self.settings.batch_timeout_ms,
                max_records=self.settings.batch_max_records,
            )
            self.readiness.kafka = True
        except KafkaError as exc:
            self.readiness.kafka = False
            log.warning("Kafka fetch failed (%s); backing off", exc)
            await pause(KAFKA_FETCH_RETRY_SECONDS, self._stop)
            return
        if not batch:
            await self._drain()
            return
        schemas, ahead = await self.registry.prepare(raw_records(batch), next_offsets(batch))
        records, offsets = ahead.records, ahead.offsets
        if ahead.held:  # records of schema ids the registry has not answered yet wait
            self.registry.hold(consumer, ahead.held)
        registered = self._registered
        if registered is None:
            await self._drain()
            registered = await self.database.run(lambda store: store.registered_suppliers())
        limits = self._limits()
        started = time.perf_counter()
        triaged = await _triage_cooperatively(records, self.decoder, registered, limits, schemas)
        decoded = time.perf_counter()
        await self._drain()  # batch N stored (in order) before batch N+1 is written
        log.debug(
            "batch of %d: triage %.0f ms, then waited %.0f ms for the previous write",
            len(records),
            (decoded - started) * 1000,
            (time.perf_counter() - decoded) * 1000,
        )
        self._in_flight = asyncio.create_task(
            self._write(records, offsets, schemas, registered, limits, triaged)
        )

    async def _write(
        self,
        records: Sequence[RawRecord],
        offsets: Mapping[TopicPartitionKey, int],
        schemas: Mapping[int, RegistrySchema],
        registered: set[str],
        limits: Limits,
        triaged: Triaged,
    ) -> None:
        async def action(store: Store) -> BatchResult:
            current = await store.registered_suppliers()
            self._registered = current
            self.metrics.set_registered(current)
            batch = triaged
            now_limits = self._limits()
            if current != registered or now_limits != limits:
                batch = await asyncio.to_thread(
                    triage, records, self.decoder, current, now_limits, schemas
                )
            return await store.write_batch(
                self.settings.consumer_group,
                batch,
                offsets,
                self.dead_letters.send,
                now=self.clock(),
            )

        result = await self.database.run(action)
        self.batches_committed += 1
        self.metrics.observe(result.outcomes, result.reasons)
        await commit_to_kafka(self._require_consumer(), offsets)

    async def _drain(self) -> None:
        task, self._in_flight = self._in_flight, None
        if task is None:
            return
        try:
            await task
        except BatchAbandonedError as exc:
            log.warning("batch abandoned uncommitted (%s); it will be read again", exc)

    async def _close(self) -> None:
        try:
            await self._drain()
        finally:
            await super()._close()


CHUNK = int(os.environ.get("BENCH_TRIAGE_CHUNK", "1000"))


async def _triage_cooperatively(
    records: Sequence[RawRecord],
    decoder: Decoder,
    registered: set[str],
    limits: Limits,
    schemas: Mapping[int, dict[str, Any]],
) -> Triaged:
    """``triage`` on the event loop in chunks, yielding between them, so the write in flight
    resumes within one chunk (~5 ms) of Postgres answering (a worker thread would hold the
    GIL against it for up to the switch interval at every await)."""
    out = Triaged()
    for start in range(0, len(records), CHUNK):
        part = triage(records[start : start + CHUNK], decoder, registered, limits, schemas)
        out.valid.extend(part.valid)
        out.rejections.extend(part.rejections)
        out.valid_records.extend(part.valid_records)
        for tp, low in part.first_offsets.items():
            if low < out.first_offsets.get(tp, low + 1):
                out.first_offsets[tp] = low
        await asyncio.sleep(0)
    return out


def main() -> None:
    settings = load_settings()
    logging.basicConfig(
        level=settings.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    try:
        import uvloop

        uvloop.install()
    except ImportError:
        pass
    raise SystemExit(asyncio.run(serve(settings, PipelinedService(settings))))


if __name__ == "__main__":
    main()
