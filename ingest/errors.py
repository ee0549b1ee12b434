"""The project's exception hierarchy: every error we raise derives from IngestError."""

from __future__ import annotations


class IngestError(Exception):
    """Root of every error raised by this project."""


class ConfigurationError(IngestError):
    """A setting is missing or has an unusable value."""


class MigrationPrivilegeError(IngestError):
    """Migrations are pending and the connected role may not apply them."""


class StackError(IngestError):
    """The local Kafka/Postgres stack could not be started, stopped or inspected."""


class DecodeError(IngestError):
    """A record value could not be turned into an event (reason undecodable / unknown_schema)."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason
        self.detail = detail


class SchemaRegistryError(IngestError):
    """The schema registry could not be reached (transient: retried, never a rejection)."""


class StoreUnavailableError(IngestError):
    """A command could not reach or read Postgres (one line, exit 2; the consumer itself
    never raises it: it waits and retries, see ingest.consumer.retry)."""


class SupplierError(IngestError):
    """A supplier registry operation was refused (bad id, unknown supplier...)."""


class DurationError(IngestError, ValueError):
    """A duration such as '26h' could not be parsed."""


class KafkaTopicError(IngestError):
    """A topic could not be created or described."""


class BatchAbandonedError(IngestError):
    """A stop was requested while the batch in hand could not be stored; nothing was
    committed, so the batch is read again by whoever consumes the partition next."""


class RetryStoppedError(IngestError):
    """A stop was requested while an operation was waiting to be tried again."""


class DeadLettersUnsentError(IngestError):
    """Some dead letters of a batch were not acknowledged by Kafka (sent again)."""
