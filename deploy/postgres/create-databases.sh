#!/bin/sh
# Creates one database and one login role per service on this PostgreSQL server.
# Runs once, from /docker-entrypoint-initdb.d/ of the official postgres image, when the
# data directory is empty (it is not re-run on later starts; see docs/operations.md).
#   BIBMON_DATABASES   space-separated service names, e.g. "surveys reporting notifier"
#   /run/secrets/pg_bibmon_<service>_password   the role's password (docker/k8s secret;
#                      directory overridable with BIBMON_SECRETS_DIR)
# Database and role are both named bibmon_<service>; the role owns its database and
# nobody else may connect to it (architecture: no service reads another's tables).
set -eu

: "${BIBMON_DATABASES:?set BIBMON_DATABASES to the services whose databases live here}"

for service in $BIBMON_DATABASES; do
    name="bibmon_${service}"
    secret="${BIBMON_SECRETS_DIR:-/run/secrets}/pg_${name}_password"
    if [ ! -r "$secret" ]; then
        echo "create-databases.sh: missing secret $secret" >&2
        exit 1
    fi
    password="$(cat "$secret")"
    # psql variables (:"name" identifier, :'password' literal) do the quoting.
    psql -v ON_ERROR_STOP=1 --username "${POSTGRES_USER:-postgres}" --dbname postgres \
        -v name="$name" -v password="$password" <<'SQL'
CREATE ROLE :"name" LOGIN PASSWORD :'password';
CREATE DATABASE :"name" OWNER :"name";
REVOKE ALL ON DATABASE :"name" FROM PUBLIC;
GRANT CONNECT, TEMPORARY ON DATABASE :"name" TO :"name";
SQL
    echo "create-databases.sh: database and role $name created"
done
