#!/usr/bin/env bash
# A throwaway PostgreSQL 15 server for tests.
#
#   scripts/pg-test-server.sh start DIR   start (or find running) a server in DIR; print its URL
#   scripts/pg-test-server.sh url DIR     print the URL of the server running in DIR
#   scripts/pg-test-server.sh stop DIR    stop the server and remove DIR
#
# The server listens on 127.0.0.1 only, on a free port, with its unix socket in DIR. Role
# `nemori` (password `nemori`, superuser) owns database `nemori_test`; the URL, also written to
# DIR/url, is postgresql://nemori:nemori@127.0.0.1:PORT/nemori_test. fsync is off: the data is
# not meant to survive a crash. Server log: DIR/log.
#
# As root, the server runs as the `postgres` user (created by Debian's postgresql-15 package),
# so DIR and its parents must be reachable by that user: a directory under /tmp works
# (e.g. DIR=$(mktemp -d /tmp/nemori-pg.XXXXXX)). As any other user it runs as that user.
# PG_BIN overrides where the server binaries are (default /usr/lib/postgresql/15/bin).
set -euo pipefail

PG_BIN="${PG_BIN:-/usr/lib/postgresql/15/bin}"
ROLE=nemori
PASSWORD=nemori
DATABASE=nemori_test
MARKER=.nemori-pg-test # marks DIR as ours, so that `stop` only ever deletes our own directories

die() {
  echo "pg-test-server: error: $*" >&2
  exit 1
}
usage() {
  echo "usage: $0 {start|stop|url} DIR" >&2
  exit 2
}

[[ $# -eq 2 ]] || usage
cmd="$1"
[[ -n "$2" ]] || usage
DIR="$(realpath -m -- "$2")"
DATA="$DIR/data"
[[ "$DIR" != / ]] || die "refusing to use / as DIR"

# Connection settings from the caller's environment must not leak into our own commands.
while read -r var; do unset "$var"; done < <(compgen -e | grep '^PG' || true)

# Run a command as the server's owner.
if [[ $EUID -eq 0 ]]; then
  id postgres >/dev/null 2>&1 || die "no 'postgres' user: install postgresql-15 (scripts/setup.sh)"
  as_owner() { runuser -u postgres -- "$@"; }
else
  as_owner() { "$@"; }
fi

is_ours() { [[ -f "$DIR/$MARKER" ]]; }
# The postmaster's pid if it is alive (a killed one that is not reaped yet counts as dead).
postmaster_pid() {
  local pid state
  pid="$(head -n 1 "$DATA/postmaster.pid" 2>/dev/null)" || return 1
  [[ "$pid" =~ ^[0-9]+$ ]] || return 1
  state="$(awk '{ print $3 }' "/proc/$pid/stat" 2>/dev/null)" || return 1
  [[ -n "$state" && "$state" != Z && "$state" != X ]] || return 1
  echo "$pid"
}
# True when the server in DIR answers on the port recorded in DIR/url.
is_ready() {
  local port
  port="$(sed -n 's|^postgresql://[^@]*@127\.0\.0\.1:\([0-9]*\)/.*|\1|p' "$DIR/url" 2>/dev/null)"
  [[ -n "$port" ]] && postmaster_pid >/dev/null &&
    "$PG_BIN/pg_isready" -q -h 127.0.0.1 -p "$port" -d postgres -t 5
}

print_url() {
  [[ -s "$DIR/url" ]] || return 1
  cat "$DIR/url"
}

port_in_use() {
  local port="$1"
  if command -v ss >/dev/null 2>&1; then
    [[ -n "$(ss -Htan "sport = :$port" 2>/dev/null)" ]]
  else
    (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null
  fi
}

start() {
  [[ -x "$PG_BIN/initdb" ]] || die "$PG_BIN/initdb not found: install postgresql-15 (scripts/setup.sh)"

  if [[ -e "$DIR" ]] && ! is_ours && [[ -n "$(ls -A "$DIR")" ]]; then
    die "$DIR exists, is not empty and was not made by this script"
  fi
  if is_ours && is_ready && print_url; then
    return 0
  fi

  # A fresh cluster every time (a leftover one that is not running is thrown away).
  mkdir -p "$DIR"
  if is_ours; then
    rm -rf "$DATA" "$DIR/url" "$DIR/log" "$DIR/.s.PGSQL."*
  fi
  touch "$DIR/$MARKER"
  if [[ $EUID -eq 0 ]]; then
    chown postgres:postgres "$DIR" "$DIR/$MARKER"
    chmod 0700 "$DIR"
  fi
  as_owner test -w "$DIR" -a -x "$DIR" ||
    die "the postgres user cannot write to $DIR (its parent directories must be reachable; use one under /tmp)"
  # The unix socket path must fit in sockaddr_un (107 bytes).
  ((${#DIR} + 17 < 107)) || die "DIR path too long for a unix socket: $DIR"

  cd "$DIR" # the server tools refuse to run from a directory their user cannot read

  local locale_opts=(--no-locale)
  if locale -a 2>/dev/null | grep -qiE '^c\.utf-?8$'; then locale_opts=(--locale=C.UTF-8); fi
  as_owner "$PG_BIN/initdb" -D "$DATA" -U postgres -E UTF8 "${locale_opts[@]}" \
    --auth-local=trust --auth-host=scram-sha-256 --no-sync --no-instructions >"$DIR/initdb.log" 2>&1 ||
    {
      cat "$DIR/initdb.log" >&2
      die "initdb failed"
    }

  as_owner tee -a "$DATA/postgresql.conf" >/dev/null <<EOF

# scripts/pg-test-server.sh: a throwaway test server
listen_addresses = '127.0.0.1'
unix_socket_directories = '$DIR'
include_if_exists = 'port.conf'
max_connections = 200
fsync = off
synchronous_commit = off
full_page_writes = off
password_encryption = scram-sha-256
EOF

  # Pick a free port; if another process takes it first, the start fails and we try another.
  local port="" _
  for _ in $(seq 1 20); do
    local candidate=$((20000 + (RANDOM * 32768 + RANDOM) % 40000))
    port_in_use "$candidate" && continue
    echo "port = $candidate" | as_owner tee "$DATA/port.conf" >/dev/null
    rm -f "$DIR/log"
    if as_owner "$PG_BIN/pg_ctl" start -D "$DATA" -l "$DIR/log" -w -t 60 >/dev/null 2>&1; then
      port="$candidate"
      break
    fi
    # Try another port only when the failure was a port clash.
    grep -qiE 'could not (bind|create listen)|address already in use' "$DIR/log" 2>/dev/null || {
      tail -n 20 "$DIR/log" >&2 || true
      die "PostgreSQL did not start (log: $DIR/log)"
    }
    as_owner "$PG_BIN/pg_ctl" stop -D "$DATA" -m immediate >/dev/null 2>&1 || true
  done
  [[ -n "$port" ]] || die "no free TCP port found for PostgreSQL after 20 tries"

  local ready=""
  for _ in $(seq 1 100); do
    if "$PG_BIN/pg_isready" -q -h 127.0.0.1 -p "$port" -d postgres; then
      ready=1
      break
    fi
    sleep 0.1
  done
  [[ -n "$ready" ]] || die "PostgreSQL on port $port did not become ready (log: $DIR/log)"

  as_owner "$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -h "$DIR" -p "$port" -U postgres -d postgres \
    -c "CREATE ROLE $ROLE LOGIN SUPERUSER PASSWORD '$PASSWORD'" \
    -c "CREATE DATABASE $DATABASE OWNER $ROLE" >/dev/null ||
    die "could not create role $ROLE and database $DATABASE"

  local url="postgresql://$ROLE:$PASSWORD@127.0.0.1:$port/$DATABASE"
  echo "$url" >"$DIR/url.tmp"
  mv "$DIR/url.tmp" "$DIR/url"
  echo "$url"
}

stop() {
  [[ -e "$DIR" ]] || return 0
  if ! is_ours; then
    [[ -z "$(ls -A "$DIR")" ]] || die "$DIR was not made by this script; not removing it"
  fi
  if postmaster_pid >/dev/null; then
    (cd / && as_owner "$PG_BIN/pg_ctl" stop -D "$DATA" -m fast -w -t 60 >/dev/null 2>&1) ||
      (cd / && as_owner "$PG_BIN/pg_ctl" stop -D "$DATA" -m immediate -w -t 30 >/dev/null 2>&1) ||
      true
    if pid="$(postmaster_pid)"; then die "could not stop the server in $DATA (pid $pid)"; fi
  fi
  rm -rf -- "$DIR"
}

case "$cmd" in
  start) start ;;
  stop) stop ;;
  url)
    { is_ours && is_ready && print_url; } || die "no server running in $DIR"
    ;;
  *) usage ;;
esac
