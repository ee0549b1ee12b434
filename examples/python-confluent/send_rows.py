"""The supplier conformance kit's confluent-kafka client: confluent-kafka's AvroSerializer with
a Confluent-compatible schema registry, as a supplier's own Python system would use them.

    pip install 'confluent-kafka[avro,schemaregistry]'
    python send_rows.py --bootstrap HOST:PORT --topic triage.daily.<supplier_id> \\
        --registry http://HOST:PORT/apis/ccompat/v7 \\
        --schema ../../schemas/daily_practice_requests.v3.avsc --rows rows.csv

Each row of the rows file (made by ``ingest conformance rows``) becomes one event, keyed
``<practice_code>:<YYYY-MM-DD>``, sent in file order. The serializer registers the schema
under the subject ``<topic>-value`` (TopicNameStrategy) and frames each value in the
Confluent wire format (00 + schema id + Avro body). With schema v3 the nine time-band
columns (``requests_00_06`` ... ``requests_time_unknown``) are sent too (an empty cell, or a
column the file lacks, is null); an older schema has no bands. The producer is idempotent with
acks=all, and uses the ``murmur2_random`` partitioner: librdkafka's default (crc32) would
put a key on another partition than the Java client and the service's own tools do.
With SASL/SCRAM-SHA-512 set TRIAGE_KAFKA_USERNAME and TRIAGE_KAFKA_PASSWORD.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
import os
import sys
from pathlib import Path
from typing import Any

from confluent_kafka import KafkaException, Producer
from confluent_kafka.schema_registry import SchemaRegistryClient
from confluent_kafka.schema_registry.avro import AvroSerializer
from confluent_kafka.serialization import MessageField, SerializationContext

COUNTS = ("clinical_requests", "admin_requests", "other_requests")
BANDS = (
    "requests_00_06",
    "requests_06_08",
    "requests_08_10",
    "requests_10_12",
    "requests_12_14",
    "requests_14_16",
    "requests_16_18",
    "requests_18_24",
    "requests_time_unknown",
)


def producer_config(bootstrap: str) -> dict[str, Any]:
    config: dict[str, Any] = {
        "bootstrap.servers": bootstrap,
        "enable.idempotence": True,
        "acks": "all",
        "partitioner": "murmur2_random",  # the Java client's partitioner (per-key order kept)
    }
    user = os.environ.get("TRIAGE_KAFKA_USERNAME")
    if user:
        config |= {
            # TLS unless told otherwise; the broker's CA as a PEM file when the system's
            # trust store does not hold it (e.g. the secure local stack's own CA)
            "security.protocol": os.environ.get("TRIAGE_KAFKA_SECURITY_PROTOCOL", "SASL_SSL"),
            "sasl.mechanism": "SCRAM-SHA-512",
            "sasl.username": user,
            "sasl.password": os.environ.get("TRIAGE_KAFKA_PASSWORD", ""),
        }
        ca_file = os.environ.get("TRIAGE_KAFKA_CA_FILE")
        if ca_file:
            config["ssl.ca.location"] = ca_file
    return config


def event_of(row: dict[str, str], fields: set[str]) -> dict[str, Any]:
    event: dict[str, Any] = {
        "event_id": row["event_id"],
        "supplier_id": row["supplier_id"],
        "practice_code": row["practice_code"],
        "activity_date": dt.date.fromisoformat(row["activity_date"]),
        "revision": int(row["revision"]),
        "generated_at": dt.datetime.now(dt.UTC),
        "total_requests": int(row["total_requests"]),
    }
    for name in COUNTS:
        event[name] = int(row[name]) if row[name] else None
    for name in BANDS:
        if name in fields:  # only a schema that has the field (v3 on) carries it
            cell = row.get(name) or ""
            event[name] = int(cell) if cell else None
    return event


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    for name in ("--bootstrap", "--topic", "--registry", "--schema", "--rows"):
        parser.add_argument(name, required=True)
    args = parser.parse_args()
    registry = SchemaRegistryClient({"url": args.registry})
    schema_text = Path(args.schema).read_text()
    fields = {f["name"] for f in json.loads(schema_text)["fields"]}
    serializer = AvroSerializer(registry, schema_text)
    producer = Producer(producer_config(args.bootstrap))
    failures: list[str] = []

    def delivered(error: Any, _message: Any) -> None:
        if error is not None:
            failures.append(str(error))

    with open(args.rows, newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    context = SerializationContext(args.topic, MessageField.VALUE)
    for row in rows:
        event = event_of(row, fields)
        key = f"{event['practice_code']}:{row['activity_date']}"
        try:
            producer.produce(
                args.topic, key=key, value=serializer(event, context), on_delivery=delivered
            )
        except KafkaException as exc:
            failures.append(str(exc))
        producer.poll(0)
    producer.flush(30)
    if failures:
        print(f"{len(failures)} records not delivered: {failures[0]}", file=sys.stderr)
        return 1
    print(f"sent {len(rows)} records to {args.topic}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
