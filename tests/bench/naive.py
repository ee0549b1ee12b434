"""The naive reference consumer: what a first version typically looks like.

aiokafka one record at a time (``async for``), each record decoded and validated on its own
(the service's per-record ``check_record``), then one transaction per event: ``INSERT .. ON
CONFLICT DO NOTHING`` into the revisions table and ``INSERT .. ON CONFLICT DO UPDATE .. WHERE
revision <`` into the current table (or one INSERT into rejected_events), committed per event.
Kafka offsets are auto-committed (the default). It runs on a sample of the same backlog, in a
database of its own.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import asyncpg
import psutil  # type: ignore[import-untyped]
from aiokafka import AIOKafkaConsumer

from ingest.consumer.decoding import Decoder
from ingest.consumer.pipeline import check_record
from ingest.consumer.types import RawRecord
from ingest.contract.model import COUNT_FIELDS, Rejection
from ingest.contract.validation import Limits

_COLUMNS = (
    "supplier_id",
    "practice_code",
    "activity_date",
    "revision",
    *COUNT_FIELDS,
    "event_id",
    "generated_at",
)
_PLACEHOLDERS = ", ".join(f"${i}" for i in range(1, len(_COLUMNS) + 1))
_INSERT_REVISION = (
    f"INSERT INTO triage.daily_request_revisions ({', '.join(_COLUMNS)},"
    " source_topic, source_partition, source_offset)"
    f" VALUES ({_PLACEHOLDERS}, ${len(_COLUMNS) + 1}, ${len(_COLUMNS) + 2}, ${len(_COLUMNS) + 3})"
    " ON CONFLICT DO NOTHING"
)
_UPSERT_CURRENT = (
    f"INSERT INTO triage.daily_requests AS d ({', '.join(_COLUMNS)}) VALUES ({_PLACEHOLDERS})"
    " ON CONFLICT (supplier_id, practice_code, activity_date) DO UPDATE SET "
    + ", ".join(f"{c} = EXCLUDED.{c}" for c in _COLUMNS[3:])
    + " WHERE d.revision < EXCLUDED.revision"
)
_INSERT_REJECTION = (
    "INSERT INTO triage.rejected_events (source_topic, source_partition, source_offset, key,"
    " value, supplier_id, reason, detail) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"
    " ON CONFLICT DO NOTHING"
)


@dataclass
class NaiveResult:
    events: int
    seconds: float
    cpu_seconds: float

    @property
    def rate(self) -> float:
        return self.events / self.seconds if self.seconds else 0.0


async def run_naive(
    bootstrap: str,
    database_url: str,
    topics: list[str],
    group: str,
    sample: int,
    registered: set[str],
    limits: Limits,
) -> NaiveResult:
    """Consume ``sample`` records one at a time; timed from the first record to the last."""
    decoder = Decoder()
    conn = await asyncpg.connect(database_url)
    consumer = AIOKafkaConsumer(
        *topics,
        bootstrap_servers=bootstrap,
        group_id=group,
        auto_offset_reset="earliest",
        enable_auto_commit=True,
    )
    await consumer.start()
    me = psutil.Process()
    done = 0
    started = cpu_started = 0.0
    try:
        async for msg in consumer:
            if done == 0:
                started = time.perf_counter()
                cpu_started = sum(me.cpu_times()[:2])
            record = RawRecord(msg.topic, msg.partition, msg.offset, msg.key, msg.value)
            result = check_record(record, decoder, registered, limits)
            async with conn.transaction():
                if isinstance(result, Rejection):
                    s = result.source
                    await conn.execute(
                        _INSERT_REJECTION,
                        s.topic,
                        s.partition,
                        s.offset,
                        result.key,
                        result.value,
                        result.supplier_id,
                        result.reason.value,
                        result.detail,
                    )
                else:
                    row = (
                        result.supplier_id,
                        result.practice_code,
                        result.activity_date,
                        result.revision,
                        *result.figures,
                        result.event_id,
                        result.generated_at,
                    )
                    s = result.source
                    await conn.execute(_INSERT_REVISION, *row, s.topic, s.partition, s.offset)
                    await conn.execute(_UPSERT_CURRENT, *row)
            done += 1
            if done >= sample:
                break
        seconds = time.perf_counter() - started
        cpu = sum(me.cpu_times()[:2]) - cpu_started
    finally:
        await consumer.stop()
        await conn.close()
    return NaiveResult(done, seconds, cpu)
