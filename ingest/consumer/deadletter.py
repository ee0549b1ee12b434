"""Dead-letter records (CONTRACT section 1): original key and value plus error headers."""

from __future__ import annotations

from dataclasses import dataclass

from ingest.contract.model import Rejection

HEADER_REASON = "triage.error.reason"
HEADER_DETAIL = "triage.error.detail"
HEADER_TOPIC = "triage.source.topic"
HEADER_PARTITION = "triage.source.partition"
HEADER_OFFSET = "triage.source.offset"


@dataclass(frozen=True, slots=True)
class DeadLetter:
    key: bytes | None
    value: bytes | None
    headers: list[tuple[str, bytes]]


def dead_letter(rejection: Rejection) -> DeadLetter:
    """The DLQ record of a rejection."""
    s = rejection.source
    return DeadLetter(
        key=rejection.key,
        value=rejection.value,
        headers=[
            (HEADER_REASON, rejection.reason.value.encode()),
            (HEADER_DETAIL, rejection.detail.encode()),
            (HEADER_TOPIC, s.topic.encode()),
            (HEADER_PARTITION, str(s.partition).encode()),
            (HEADER_OFFSET, str(s.offset).encode()),
        ],
    )


def headers_dict(
    headers: list[tuple[str, bytes]] | tuple[tuple[str, bytes], ...],
) -> dict[str, str]:
    """Decoded headers of a DLQ record, for tools and tests."""
    return {name: value.decode("utf-8", "replace") for name, value in headers}
