#!/bin/bash
# The PostgreSQL image's entrypoint (deploy/overlays/local): makes the database cluster on first start in an empty
# data folder, with the password from the Secret, then runs the server in the foreground as PID 1's only child.
set -euo pipefail

: "${PGDATA:?PGDATA names the data folder}"
: "${POSTGRES_PASSWORD:?POSTGRES_PASSWORD comes from the Secret sidecar-lab-database}"
DATABASE=${POSTGRES_DB:-sidecar_lab}

if [[ ! -s $PGDATA/PG_VERSION ]]; then
  # The password goes through a file, never the command line (visible in /proc to everyone in the Pod).
  pwfile=$(mktemp)
  trap 'rm -f "$pwfile"' EXIT
  printf '%s' "$POSTGRES_PASSWORD" >"$pwfile"
  initdb --pgdata="$PGDATA" --username=postgres --pwfile="$pwfile" --auth-local=trust \
    --auth-host=scram-sha-256 --encoding=UTF8 --no-locale >/dev/null
  rm -f "$pwfile"
  # Connections come from other Pods; the NetworkPolicy decides which, the password whether they get in.
  printf 'host all all 0.0.0.0/0 scram-sha-256\n' >>"$PGDATA/pg_hba.conf"
  # The application's database, made in single-user mode: nothing listens until it exists.
  printf 'CREATE DATABASE %s;\n' "$DATABASE" | postgres --single -D "$PGDATA" postgres >/dev/null
fi

# The root filesystem is read-only: the socket goes to /tmp (an emptyDir), TCP to every address of the Pod.
exec postgres -D "$PGDATA" -c listen_addresses='*' -c unix_socket_directories=/tmp
