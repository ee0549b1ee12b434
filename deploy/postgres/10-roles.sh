#!/bin/sh
# Run once by the postgres image on an empty data folder (docker-entrypoint-initdb.d), as the
# superuser: the roles of docs/operations.md "Production roles". triage_owner owns database
# triage and runs the migrations; triage_service (a triage_writer member) is what the service
# uses: no DDL, no superuser. Passwords come from the environment (.env, see
# deploy/compose-env.sh), never from this file.
set -eu
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname postgres \
    -v owner_password="$TRIAGE_OWNER_PASSWORD" -v service_password="$TRIAGE_SERVICE_PASSWORD" <<'SQL'
CREATE ROLE triage_owner LOGIN NOSUPERUSER NOCREATEROLE NOCREATEDB PASSWORD :'owner_password';
CREATE ROLE triage_service LOGIN NOSUPERUSER NOCREATEROLE NOCREATEDB PASSWORD :'service_password';
CREATE ROLE triage_reader NOLOGIN;
CREATE ROLE triage_writer NOLOGIN;
GRANT triage_writer TO triage_service;
GRANT triage_reader, triage_writer TO triage_owner;
ALTER DATABASE triage OWNER TO triage_owner;
SQL
