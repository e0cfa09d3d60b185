#!/bin/bash
# questline/postgres entry point. `postgres [ARGS]` (the default) initialises PGDATA on the first
# start (initdb with POSTGRES_USER as superuser, its password from POSTGRES_PASSWORD or
# POSTGRES_PASSWORD_FILE, then POSTGRES_DB), never again, and runs the server in the foreground
# listening on every address with scram-sha-256 passwords. Any other command runs as given.
set -euo pipefail

log() { echo "postgres-entrypoint: $*" >&2; }

if [[ "${1:-}" != "postgres" ]]; then
  exec "$@"
fi
shift

: "${PGDATA:?PGDATA is not set (expected the data directory, e.g. /var/lib/postgresql/data)}"
user="${POSTGRES_USER:-postgres}"
db="${POSTGRES_DB:-$user}"
port="${PGPORT:-5432}"
socket_dir="${POSTGRES_SOCKET_DIR:-/var/run/postgresql}"

if [[ ! -s "${PGDATA}/PG_VERSION" ]]; then
  password="${POSTGRES_PASSWORD:-}"
  if [[ -n "${POSTGRES_PASSWORD_FILE:-}" ]]; then
    password="$(<"${POSTGRES_PASSWORD_FILE}")"
  fi
  if [[ -z "${password}" ]]; then
    log "PGDATA=${PGDATA} is empty and no password is set: set POSTGRES_PASSWORD or POSTGRES_PASSWORD_FILE"
    exit 64
  fi
  log "initialising ${PGDATA} (superuser ${user}, database ${db})"
  mkdir -p "${PGDATA}"
  chmod 0700 "${PGDATA}"
  pwfile="$(mktemp)"
  trap 'rm -f "${pwfile}"' EXIT
  printf '%s\n' "${password}" >"${pwfile}"
  initdb --pgdata="${PGDATA}" --username="${user}" --pwfile="${pwfile}" --encoding=UTF8 --locale=C.UTF-8 \
    --auth-local=peer --auth-host=scram-sha-256 >&2
  rm -f "${pwfile}"
  # Clients come from other pods: every address, passwords only.
  printf 'host all all 0.0.0.0/0 scram-sha-256\nhost all all ::/0 scram-sha-256\n' >>"${PGDATA}/pg_hba.conf"
  if [[ "${db}" != "postgres" ]]; then
    # Single-user mode: no server, no socket, nothing listening yet.
    echo "CREATE DATABASE \"${db}\" OWNER \"${user}\";" | postgres --single -D "${PGDATA}" -jE postgres >/dev/null
  fi
  log "initialised"
fi

exec postgres -D "${PGDATA}" -p "${port}" -c listen_addresses="${POSTGRES_LISTEN_ADDRESSES:-*}" \
  -c unix_socket_directories="${socket_dir}" "$@"
