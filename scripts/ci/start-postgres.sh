#!/usr/bin/env bash
# Starts a throwaway PostgreSQL server for the store's tests: 127.0.0.1:54329, trust auth on loopback,
# data under /tmp, database wsm_test. Safe to run again: an already running server is left as it is.
# Prints the line to eval: export WSM_TEST_DATABASE_URL=...
set -euo pipefail

PORT="${WSM_PG_PORT:-54329}"
DATA_DIR="${WSM_PG_DATA_DIR:-/tmp/wsm-postgres/data}"
LOG_FILE="$(dirname "$DATA_DIR")/postgres.log"
DB_NAME="wsm_test"
URL="postgres://postgres@127.0.0.1:${PORT}/${DB_NAME}"

log() { echo "start-postgres: $*" >&2; }

find_bindir() {
  local dir
  # The newest installed major version wins.
  for dir in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
    if [ -x "$dir/initdb" ] && [ -x "$dir/pg_ctl" ]; then
      echo "$dir"
      return 0
    fi
  done
  return 1
}

if ! BIN_DIR="$(find_bindir)"; then
  log "PostgreSQL is not installed; installing it with apt-get"
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y postgresql >&2 || { apt-get update >&2 && apt-get install -y postgresql >&2; }
  BIN_DIR="$(find_bindir)"
fi

# The server refuses to run as root, so everything runs as the postgres user (created by the package).
as_pg() {
  if [ "$(id -u)" = "0" ]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

mkdir -p "$(dirname "$DATA_DIR")"
if [ "$(id -u)" = "0" ]; then chown postgres:postgres "$(dirname "$DATA_DIR")"; fi

if [ ! -f "$DATA_DIR/PG_VERSION" ]; then
  log "initialising a cluster in $DATA_DIR"
  as_pg "$BIN_DIR/initdb" -D "$DATA_DIR" -U postgres --auth=trust --encoding=UTF8 --locale=C.UTF-8 >&2
fi

if as_pg "$BIN_DIR/pg_ctl" -D "$DATA_DIR" status >/dev/null 2>&1; then
  log "already running (data in $DATA_DIR)"
else
  # Listens on loopback only; the socket goes to the data dir so /var/run/postgresql need not exist.
  as_pg "$BIN_DIR/pg_ctl" -D "$DATA_DIR" -l "$LOG_FILE" -w -t 60 \
    -o "-c listen_addresses=127.0.0.1 -p ${PORT} -k ${DATA_DIR} -c fsync=off -c synchronous_commit=off -c full_page_writes=off" \
    start >&2
fi

psql_q() { as_pg psql -h 127.0.0.1 -p "$PORT" -U postgres -d postgres -v ON_ERROR_STOP=1 -tAq "$@"; }

for _ in $(seq 1 60); do
  if psql_q -c 'select 1' >/dev/null 2>&1; then break; fi
  sleep 1
done
psql_q -c 'select 1' >/dev/null

if [ "$(psql_q -c "select 1 from pg_database where datname = '${DB_NAME}'")" != "1" ]; then
  psql_q -c "create database ${DB_NAME}"
  log "created database ${DB_NAME}"
fi

echo "export WSM_TEST_DATABASE_URL=${URL}"
