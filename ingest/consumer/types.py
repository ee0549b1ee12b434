"""Types the consumer's modules share (pure): a record as read from Kafka, and a topic
partition as a key. They sit at the bottom of the package so that pure modules need not
import the edges (the store, the pipeline) for them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

TopicPartitionKey = tuple[str, int]


@dataclass(frozen=True, slots=True)
class RawRecord:
    """The parts of a Kafka record the service uses."""

    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None


class RecordLike(Protocol):
    """What triage reads of a record: a RawRecord, or aiokafka's ConsumerRecord as it is
    (no copy needed)."""

    @property
    def topic(self) -> str: ...
    @property
    def partition(self) -> int: ...
    @property
    def offset(self) -> int: ...
    @property
    def key(self) -> bytes | None: ...
    @property
    def value(self) -> bytes | None: ...
