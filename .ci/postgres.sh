#!/usr/bin/env bash
# Install PostgreSQL from Debian's packages (if missing), start a private cluster listening only
# on a local Unix socket, and print the line that exports its URL for the service's tests:
#
#   eval "$(bash .ci/postgres.sh)"    # sets PLACEMATCH_TEST_POSTGRES_URL
#
# Idempotent: a second call reuses the cluster (and starts it if it stopped). Messages go to
# stderr; only the export line goes to stdout. PLACEMATCH_PG_DIR moves the cluster
# (default /tmp/placematch-pg); PLACEMATCH_PG_PORT names the socket's port (default 55432).
set -euo pipefail

DIR="${PLACEMATCH_PG_DIR:-/tmp/placematch-pg}"
PORT="${PLACEMATCH_PG_PORT:-55432}"

find_bin() { ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1; }

BIN="$(find_bin)"
if [ -z "$BIN" ] || [ ! -x "$BIN/pg_ctl" ]; then
  echo "postgres.sh: installing postgresql (apt-get)" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >&2
  apt-get install -y -qq postgresql >&2
  BIN="$(find_bin)"
fi

# The server refuses to run as root: run it as the postgres user when we are root.
if [ "$(id -u)" = "0" ]; then
  id postgres >/dev/null 2>&1 || useradd --system --home-dir "$DIR" postgres
  as_pg() { runuser -u postgres -- "$@"; }
  OWNER=postgres
else
  as_pg() { "$@"; }
  OWNER="$(id -un)"
fi

mkdir -p "$DIR/socket"
if [ "$(id -u)" = "0" ]; then chown -R postgres:postgres "$DIR"; fi

if [ ! -f "$DIR/data/PG_VERSION" ]; then
  echo "postgres.sh: initdb in $DIR/data" >&2
  as_pg "$BIN/initdb" -D "$DIR/data" -A trust -U "$OWNER" -E UTF8 >"$DIR/initdb.log" 2>&1 \
    || { cat "$DIR/initdb.log" >&2; exit 1; }
fi

if ! as_pg "$BIN/pg_ctl" -D "$DIR/data" status >/dev/null 2>&1; then
  echo "postgres.sh: starting PostgreSQL on $DIR/socket (port $PORT)" >&2
  as_pg "$BIN/pg_ctl" -D "$DIR/data" -l "$DIR/server.log" -w -t 60 \
    -o "-k $DIR/socket -p $PORT -c listen_addresses=''" start >&2 \
    || { tail -n 30 "$DIR/server.log" >&2; exit 1; }
fi

URL="postgresql://$OWNER@/postgres?host=$DIR/socket&port=$PORT"
echo "export PLACEMATCH_TEST_POSTGRES_URL='$URL'"
