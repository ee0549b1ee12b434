"""What /readyz reports about the consumer: Kafka and Postgres reachable, partitions assigned."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class Readiness:
    """Set by the parts of the service that talk to Kafka and Postgres; read by /readyz."""

    database: bool = False
    kafka: bool = False
    assigned: bool = False

    @property
    def ready(self) -> bool:
        return self.database and self.kafka and self.assigned

    def reset(self) -> None:
        """Nothing reachable or assigned (the service stopped)."""
        self.database = self.kafka = self.assigned = False
