#!/bin/sh
# First start: a cluster in the volume (superuser "ncpeh", SCRAM passwords), one database per country.
# Every start: the server in the foreground, reachable from the compose network with a password only.
set -eu
BIN=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
DATA=/var/lib/ncpeh-postgres/data
: "${POSTGRES_PASSWORD:?set POSTGRES_PASSWORD (.env)}"
if [ ! -s "$DATA/PG_VERSION" ]; then
    pwfile=$(mktemp)
    printf '%s\n' "$POSTGRES_PASSWORD" > "$pwfile"
    "$BIN/initdb" -D "$DATA" -U ncpeh --auth=scram-sha-256 --pwfile="$pwfile" -E UTF8 --locale=C.UTF-8
    rm -f "$pwfile"
    echo "host all all 0.0.0.0/0 scram-sha-256" >> "$DATA/pg_hba.conf"
    "$BIN/pg_ctl" -D "$DATA" -w start -o "-c listen_addresses=127.0.0.1 -c unix_socket_directories=/tmp"
    for db in ${POSTGRES_DATABASES:-ncpeh_fr ncpeh_de}; do
        PGPASSWORD="$POSTGRES_PASSWORD" "$BIN/psql" -q -h 127.0.0.1 -U ncpeh -d postgres -c "CREATE DATABASE $db"
    done
    "$BIN/pg_ctl" -D "$DATA" -w stop
fi
exec "$BIN/postgres" -D "$DATA" -c listen_addresses='*' -c unix_socket_directories=/tmp -c max_connections=200
