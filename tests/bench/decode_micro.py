"""Micro-benchmark of decoding one event, in microseconds per record (pure CPU, no I/O):

    .venv/bin/python -m tests.bench.decode_micro

fastavro ``schemaless_reader`` with and without reader resolution (v1 writer, v2 reader),
with schemas parsed once, against the service's general path and its fast path, and the
whole ``triage`` (decode + validate + event objects) on the benchmark's data."""

from __future__ import annotations

import datetime as dt
import io
import time
from collections.abc import Callable
from typing import Any

from fastavro import parse_schema, schemaless_reader

from ingest.consumer.decoding import Decoder
from ingest.consumer.pipeline import check_record, triage
from ingest.consumer.types import RawRecord
from ingest.contract.schemas import version
from ingest.contract.validation import Limits
from tests.bench.data import Spec, generate

N = 20_000


def _time(label: str, action: Callable[[], object], n: int = N) -> None:
    best = float("inf")
    for _ in range(3):
        started = time.perf_counter()
        action()
        best = min(best, time.perf_counter() - started)
    print(f"{label:62s} {best / n * 1e6:7.2f} us/record")


def main() -> None:
    today = dt.date.today()
    data = generate(Spec(events=N, prefix="micro"), today)
    v1 = [i.value for i in data.items if i.reason is None and i.supplier == data.suppliers[0]]
    w1: Any = parse_schema(version(1).source)
    w2: Any = parse_schema(version(2).source)
    decoder = Decoder()
    fast = decoder.fast_reader(data.suppliers[0])
    assert fast is not None
    records = [
        RawRecord(f"triage.daily.{i.supplier}", i.partition, n, i.key, i.value)
        for n, i in enumerate(data.items)
    ]
    limits = Limits(today=today)
    registered = set(data.suppliers)

    def read(writer: Any, reader: Any) -> None:
        for value in v1:
            stream = io.BytesIO(value)
            stream.seek(10)
            schemaless_reader(stream, writer, reader)

    def general() -> None:
        for value in v1:
            decoder.decode(value)

    def quick() -> None:
        for value in v1:
            fast(value)

    print(f"{len(v1):,} schema-v1 values of {data.suppliers[0]}; {len(records):,} records")
    _time(
        "fastavro schemaless_reader, v1 writer -> v2 reader (resolution)",
        lambda: read(w1, w2),
        len(v1),
    )
    _time(
        "fastavro schemaless_reader, v1 writer only (no resolution)",
        lambda: read(w1, None),
        len(v1),
    )
    _time("Decoder.decode (general path: fastavro + resolution)", general, len(v1))
    _time("Decoder.fast_reader (regex fast path, fields only)", quick, len(v1))
    _time(
        "check_record per record (general path: decode + rules + event)",
        lambda: [check_record(r, decoder, registered, limits) for r in records],
    )
    _time(
        "triage (fast path + general path for the rest)",
        lambda: triage(records, decoder, registered, limits),
    )


if __name__ == "__main__":
    main()
