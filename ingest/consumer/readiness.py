"""What /readyz reports about the consumer: Kafka and Postgres reachable, partitions assigned;
"degraded" while the schema registry does not answer (only Confluent-framed records wait)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class Readiness:
    """Set by the parts of the service that talk to Kafka and Postgres; read by /readyz."""

    database: bool = False
    kafka: bool = False
    assigned: bool = False
    registry: bool = True  # the schema registry answers (or none is configured)

    @property
    def ready(self) -> bool:
        return self.database and self.kafka and self.assigned

    def reset(self) -> None:
        """Nothing reachable or assigned (the service stopped)."""
        self.database = self.kafka = self.assigned = False
        self.registry = True
