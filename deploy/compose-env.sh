#!/bin/sh
# Writes .env beside docker-compose.yml with new random passwords (mode 0600), once per name:
# the passwords already in an existing .env are kept, missing ones are added (the Kafka ones
# for a .env written before compose's Kafka had SASL). docker compose reads it; the file
# refuses to start without it. A password changed here after the first start does not reach
# the data already made with the old one: delete the postgres-data and kafka-data volumes too.
set -eu
cd "$(dirname "$0")/.."
umask 077
secret() { head -c 24 /dev/urandom | base64 | tr '+/' '-_' | tr -d '='; }
SECRETS="POSTGRES_PASSWORD TRIAGE_OWNER_PASSWORD TRIAGE_SERVICE_PASSWORD GRAFANA_ADMIN_PASSWORD
TRIAGE_KAFKA_ADMIN_PASSWORD TRIAGE_KAFKA_CONSUMER_PASSWORD TRIAGE_KAFKA_CONTROLLER_PASSWORD"
touch .env
chmod 600 .env
added=""
for name in $SECRETS; do
    if ! grep -q "^$name=" .env; then
        echo "$name=$(secret)" >> .env
        added="$added $name"
    fi
done
if [ -n "$added" ]; then
    echo "wrote .env (0600) with new passwords:$added" >&2
else
    echo ".env has every password: kept" >&2
fi
