#!/bin/sh
# Writes .env beside docker-compose.yml with new random passwords (mode 0600), once: an
# existing .env is kept. docker compose reads it; the file refuses to start without it.
set -eu
cd "$(dirname "$0")/.."
if [ -e .env ]; then
    echo ".env exists: kept (delete it and the postgres-data volume to start afresh)" >&2
    exit 0
fi
umask 077
secret() { head -c 24 /dev/urandom | base64 | tr '+/' '-_' | tr -d '='; }
{
    echo "POSTGRES_PASSWORD=$(secret)"
    echo "TRIAGE_OWNER_PASSWORD=$(secret)"
    echo "TRIAGE_SERVICE_PASSWORD=$(secret)"
    echo "GRAFANA_ADMIN_PASSWORD=$(secret)"
} > .env
echo "wrote .env (0600) with new passwords" >&2
