#!/bin/sh
# The docker-compose broker's entry point (apache/kafka image, run as its own user): the
# settings of deploy/kafka/server.properties plus the SASL logins, whose passwords come from the
# environment (.env, written by deploy/compose-env.sh), never from a file of the repository.
# On the first start the storage is formatted with the SCRAM-SHA-512 users triage-admin (super
# user: topics, users, ACLs) and triage-ingest (the service; its ACLs come from kafka-init),
# passed through a java argument file (0600, removed afterwards) so no password shows in `ps`.
# Later starts keep the users (new passwords in .env need a new kafka-data volume).
set -eu
: "${TRIAGE_KAFKA_ADMIN_PASSWORD:?run deploy/compose-env.sh}"
: "${TRIAGE_KAFKA_CONSUMER_PASSWORD:?run deploy/compose-env.sh}"
: "${TRIAGE_KAFKA_CONTROLLER_PASSWORD:?run deploy/compose-env.sh}"
: "${CLUSTER_ID:?CLUSTER_ID is not set}"
KAFKA_HOME="${KAFKA_HOME:-/opt/kafka}"
TEMPLATE="${TRIAGE_KAFKA_TEMPLATE:-/triage/server.properties}"
RUN="${TRIAGE_KAFKA_RUN:-/tmp/triage-kafka}"
umask 077
mkdir -p "$RUN"
config="$RUN/server.properties"
scram="org.apache.kafka.common.security.scram.ScramLoginModule"
plain="org.apache.kafka.common.security.plain.PlainLoginModule"
{
    cat "$TEMPLATE"
    echo
    echo "# SASL logins (added by start.sh from the environment)"
    for listener in internal external; do
        echo "listener.name.$listener.scram-sha-512.sasl.jaas.config=$scram required username=\"triage-admin\" password=\"$TRIAGE_KAFKA_ADMIN_PASSWORD\";"
    done
    echo "listener.name.controller.plain.sasl.jaas.config=$plain required username=\"controller\" password=\"$TRIAGE_KAFKA_CONTROLLER_PASSWORD\" user_controller=\"$TRIAGE_KAFKA_CONTROLLER_PASSWORD\";"
} > "$config"

# The admin's client settings, for the health check inside this container.
cat > "$RUN/admin.properties" <<PROPERTIES
security.protocol=SASL_PLAINTEXT
sasl.mechanism=SCRAM-SHA-512
sasl.jaas.config=$scram required username="triage-admin" password="$TRIAGE_KAFKA_ADMIN_PASSWORD";
PROPERTIES

data=$(sed -n 's/^log\.dirs=//p' "$config")
if [ ! -e "$data/meta.properties" ]; then
    args="$RUN/format.args"
    printf '%s\n' kafka.tools.StorageTool format -t "$CLUSTER_ID" -c "$config" --ignore-formatted \
        --add-scram "SCRAM-SHA-512=[name=triage-admin,password=$TRIAGE_KAFKA_ADMIN_PASSWORD]" \
        --add-scram "SCRAM-SHA-512=[name=triage-ingest,password=$TRIAGE_KAFKA_CONSUMER_PASSWORD]" \
        > "$args"
    status=0
    "$KAFKA_HOME/bin/kafka-run-class.sh" "@$args" || status=$?
    rm -f "$args"
    [ "$status" -eq 0 ] || exit "$status"
fi
exec "$KAFKA_HOME/bin/kafka-server-start.sh" "$config"
