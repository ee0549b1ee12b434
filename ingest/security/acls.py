"""Kafka ACLs of the project (pure): the vocabulary of the ACL protocol and who may do what.

Who may do what (CONTRACT section 1: "one supplier's credentials may write only its own
topic"):

================================  ===========================================================
principal                         rights
================================  ===========================================================
``User:supplier-<supplier_id>``   WRITE, DESCRIBE on topic ``triage.daily.<supplier_id>``
                                  (literal); READ, DESCRIBE on its feedback topic
                                  ``triage.feedback.<supplier_id>`` (literal): nothing else,
                                  not even reading its own feed topic
``User:triage-ingest``            READ, DESCRIBE on topics prefixed ``triage.daily.``; READ on
                                  its consumer group; WRITE, DESCRIBE on the dead-letter topic
                                  and on topics prefixed ``triage.feedback.``
``User:triage-admin``             super user (creates topics, users and ACLs)
================================  ===========================================================
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum

from ingest.contract.model import TOPIC_PREFIX, check_supplier_id, topic_for
from ingest.contract.outcomes import FEEDBACK_PREFIX, feedback_topic
from ingest.errors import IngestError

ADMIN_USER = "triage-admin"
CONSUMER_USER = "triage-ingest"
SUPPLIER_USER_PREFIX = "supplier-"


class AclError(IngestError):
    """A user or an ACL could not be created on the broker."""


class ResourceType(IntEnum):
    ANY = 1
    TOPIC = 2
    GROUP = 3
    CLUSTER = 4


class PatternType(IntEnum):
    ANY = 1
    LITERAL = 3
    PREFIXED = 4


class Operation(IntEnum):
    ANY = 1
    ALL = 2
    READ = 3
    WRITE = 4
    CREATE = 5
    DESCRIBE = 8
    IDEMPOTENT_WRITE = 12


class Permission(IntEnum):
    ANY = 1
    DENY = 2
    ALLOW = 3


@dataclass(frozen=True, slots=True)
class Acl:
    """One ALLOW (or DENY) binding: principal may do operation on a resource (pattern)."""

    principal: str
    resource_type: ResourceType
    resource_name: str
    pattern: PatternType
    operation: Operation
    permission: Permission = Permission.ALLOW
    host: str = "*"

    def __str__(self) -> str:
        return (
            f"{self.principal} {self.permission.name} {self.operation.name} on"
            f" {self.resource_type.name} {self.resource_name}"
            f"{'*' if self.pattern is PatternType.PREFIXED else ''}"
        )


def principal(user: str) -> str:
    return f"User:{user}"


def supplier_user(supplier_id: str) -> str:
    """The SCRAM user name of a supplier: ``supplier-<id>`` (never an internal user)."""
    return f"{SUPPLIER_USER_PREFIX}{check_supplier_id(supplier_id)}"


def supplier_acls(supplier_id: str) -> list[Acl]:
    """WRITE and DESCRIBE on the supplier's own topic, READ and DESCRIBE on its own feedback
    topic, literally, and nothing else."""
    who = principal(supplier_user(supplier_id))
    topic = topic_for(supplier_id)
    feedback = feedback_topic(supplier_id)
    return [
        *(
            Acl(who, ResourceType.TOPIC, topic, PatternType.LITERAL, op)
            for op in (Operation.WRITE, Operation.DESCRIBE)
        ),
        *(
            Acl(who, ResourceType.TOPIC, feedback, PatternType.LITERAL, op)
            for op in (Operation.READ, Operation.DESCRIBE)
        ),
    ]


def consumer_acls(
    user: str = CONSUMER_USER,
    group: str = "triage-ingest",
    dlq_topic: str = "triage.dlq",
    *,
    prefixed_group_and_dlq: bool = False,
) -> list[Acl]:
    """READ the feed topics (prefix ``triage.daily.``) and its group; WRITE the DLQ.

    ``prefixed_group_and_dlq`` grants the group and the DLQ as prefixes (the local stack uses
    it so test and demo consumers with suffixed groups and DLQs share one principal).
    """
    who = principal(user)
    pattern = PatternType.PREFIXED if prefixed_group_and_dlq else PatternType.LITERAL
    return [
        Acl(who, ResourceType.TOPIC, TOPIC_PREFIX, PatternType.PREFIXED, Operation.READ),
        Acl(who, ResourceType.TOPIC, TOPIC_PREFIX, PatternType.PREFIXED, Operation.DESCRIBE),
        Acl(who, ResourceType.GROUP, group, pattern, Operation.READ),
        Acl(who, ResourceType.TOPIC, dlq_topic, pattern, Operation.WRITE),
        Acl(who, ResourceType.TOPIC, dlq_topic, pattern, Operation.DESCRIBE),
        Acl(who, ResourceType.TOPIC, FEEDBACK_PREFIX, PatternType.PREFIXED, Operation.WRITE),
        Acl(who, ResourceType.TOPIC, FEEDBACK_PREFIX, PatternType.PREFIXED, Operation.DESCRIBE),
    ]
