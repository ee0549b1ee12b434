"""Dead letters (CONTRACT section 1: the original key and value plus error headers), and
sending a batch's dead letters to the DLQ topic before the batch commits.

Every rejection goes out, acknowledged; letters that failed are sent again (the others are not
sent twice). A letter the DLQ refuses as too large goes without its value, then without its
key (both stay in ``triage.rejected_events``): retrying it unchanged would never succeed.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from aiokafka import AIOKafkaProducer
from aiokafka.errors import (
    KafkaError,
    MessageSizeTooLargeError,
    RecordListTooLargeError,
    RecordTooLargeError,
)

from ingest.consumer.retry import retry
from ingest.contract.model import Rejection
from ingest.errors import DeadLettersUnsentError, IngestError
from ingest.kafka import DEAD_LETTER_MAX_BYTES, create_dead_letter_topic
from ingest.settings import Settings

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


log = logging.getLogger(__name__)

# The DLQ producer accepts letters as large as the DLQ topic does (ingest.kafka's
# DEAD_LETTER_TOPIC). A letter the DLQ still refuses as too large goes without its value,
# then without its key (both stay in triage.rejected_events).
DLQ_MAX_BYTES = DEAD_LETTER_MAX_BYTES
DLQ_DETAIL_MAX_CHARS = 4000  # the triage.error.detail header; the full text is in Postgres
HEADER_OMITTED = "triage.error.omitted"
TOO_LARGE: tuple[type[KafkaError], ...] = (
    MessageSizeTooLargeError,
    RecordListTooLargeError,
    RecordTooLargeError,
)


async def ensure_dead_letter_topic(settings: Settings) -> None:
    """Create the DLQ topic when missing, as ``ingest.kafka.DEAD_LETTER_TOPIC`` defines it (a
    principal without CREATE rights just logs)."""
    try:
        await create_dead_letter_topic(settings)
    except (KafkaError, IngestError, OSError) as exc:
        log.warning("could not ensure DLQ topic %s exists: %s", settings.dlq_topic, exc)


class DeadLetterSender:
    """Sends rejections to the DLQ with ``producer`` until Kafka acknowledges every one."""

    def __init__(
        self,
        settings: Settings,
        producer: AIOKafkaProducer,
        on_unreachable: Callable[[], None],
    ) -> None:
        self._settings = settings
        self._producer = producer
        self._on_unreachable = on_unreachable

    async def send(self, rejections: Sequence[Rejection]) -> None:
        """Every rejection on the DLQ, acknowledged (waits, with back-off, while Kafka
        refuses; the topic is created again before each retry, in case it failed at
        start-up)."""
        pending = [bounded_letter(r) for r in rejections]
        retrying = False

        async def attempt() -> None:
            nonlocal pending, retrying
            if retrying:
                await ensure_dead_letter_topic(self._settings)
            retrying = True
            pending, error = await self._send_once(pending)
            if pending:
                raise DeadLettersUnsentError(
                    f"DLQ produce failed for {len(pending)} letters ({error})"
                )

        await retry(
            attempt,
            retry_on=(DeadLettersUnsentError,),
            cap=self._settings.db_retry_max_seconds,
            describe=str,
            on_failure=lambda _: self._on_unreachable(),
            logger=log,
        )

    async def _send_once(
        self, letters: Sequence[DeadLetter]
    ) -> tuple[list[DeadLetter], KafkaError | None]:
        """Send once; returns the letters to send again and the last error."""
        topic = self._settings.dlq_topic
        retry_later: list[DeadLetter] = []
        error: KafkaError | None = None
        sent: list[tuple[DeadLetter, asyncio.Future[Any]]] = []
        for letter in letters:
            try:
                future = await self._producer.send(
                    topic, value=letter.value, key=letter.key, headers=letter.headers
                )
            except TOO_LARGE as exc:
                retry_later.append(smaller_letter(letter, exc))
                error = exc
            except KafkaError as exc:
                retry_later.append(letter)
                error = exc
            else:
                sent.append((letter, future))
        results = await asyncio.gather(*(f for _, f in sent), return_exceptions=True)
        for (letter, _), outcome in zip(sent, results, strict=True):
            if isinstance(outcome, TOO_LARGE):
                retry_later.append(smaller_letter(letter, outcome))
                error = outcome
            elif isinstance(outcome, KafkaError):
                retry_later.append(letter)
                error = outcome
            elif isinstance(outcome, BaseException):
                raise outcome
        return retry_later, error


def bounded_letter(rejection: Rejection) -> DeadLetter:
    """The DLQ record of a rejection, its detail header cut to a readable length (a detail
    may quote a 1 MB field; the full text is in triage.rejected_events)."""
    detail = rejection.detail
    if len(detail) > DLQ_DETAIL_MAX_CHARS:
        cut = len(detail) - DLQ_DETAIL_MAX_CHARS
        detail = f"{detail[:DLQ_DETAIL_MAX_CHARS]}... ({cut} more characters)"
        rejection = dataclasses.replace(rejection, detail=detail)
    return dead_letter(rejection)


def smaller_letter(letter: DeadLetter, error: KafkaError) -> DeadLetter:
    """A letter the DLQ refused as too large, without its value (or, if that was done
    already, without its key too); the header says what was left out and where it is."""
    offset = dict(letter.headers).get(HEADER_OFFSET, b"?").decode()
    topic = dict(letter.headers).get(HEADER_TOPIC, b"?").decode()
    if letter.value is not None:
        what = f"value ({len(letter.value)} bytes)"
        smaller = dataclasses.replace(letter, value=None)
    else:
        what = f"key ({len(letter.key or b'')} bytes)"
        smaller = dataclasses.replace(letter, key=None)
    log.error(
        "dead letter of %s@%s refused as too large (%s): sending it without its %s, which is"
        " kept in triage.rejected_events",
        topic,
        offset,
        error,
        what,
    )
    note = f"{what} left out: above the DLQ message size limit; see triage.rejected_events"
    headers = [(k, v) for k, v in smaller.headers if k != HEADER_OMITTED]
    omitted = dict(letter.headers).get(HEADER_OMITTED)
    if omitted:
        note = f"{omitted.decode()}; {note}"
    return dataclasses.replace(smaller, headers=[*headers, (HEADER_OMITTED, note.encode())])
