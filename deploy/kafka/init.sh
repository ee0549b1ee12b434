#!/bin/sh
# kafka-init (one-shot, apache/kafka image): as triage-admin, creates the dead-letter topic
# (kafka-topics.sh with this service's command: the arguments of docker-compose.yml) and gives
# the service's principal User:triage-ingest its ACLs, the ones of
# ingest.security.acls.consumer_acls (tests/unit/test_compose.py checks the `acl` lines).
# Idempotent: an existing topic or ACL is kept.
set -eu
: "${TRIAGE_KAFKA_ADMIN_PASSWORD:?run deploy/compose-env.sh}"
KAFKA_HOME="${KAFKA_HOME:-/opt/kafka}"
BOOTSTRAP="${TRIAGE_KAFKA_BOOTSTRAP:-kafka:19092}"
umask 077
admin=$(mktemp)
trap 'rm -f "$admin"' EXIT
cat > "$admin" <<PROPERTIES
security.protocol=SASL_PLAINTEXT
sasl.mechanism=SCRAM-SHA-512
sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username="triage-admin" password="$TRIAGE_KAFKA_ADMIN_PASSWORD";
PROPERTIES

"$KAFKA_HOME/bin/kafka-topics.sh" --bootstrap-server "$BOOTSTRAP" --command-config "$admin" "$@"

acl() {
    "$KAFKA_HOME/bin/kafka-acls.sh" --bootstrap-server "$BOOTSTRAP" --command-config "$admin" \
        --add --allow-principal User:triage-ingest "$@"
}
acl --topic triage.daily. --resource-pattern-type prefixed --operation Read
acl --topic triage.daily. --resource-pattern-type prefixed --operation Describe
acl --group triage-ingest --resource-pattern-type literal --operation Read
acl --topic triage.dlq --resource-pattern-type literal --operation Write
acl --topic triage.dlq --resource-pattern-type literal --operation Describe
acl --topic triage.feedback. --resource-pattern-type prefixed --operation Write
acl --topic triage.feedback. --resource-pattern-type prefixed --operation Describe
