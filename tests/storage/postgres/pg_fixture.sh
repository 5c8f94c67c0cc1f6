#!/usr/bin/env bash
# The ctest fixture of the PostgreSQL tests.
#
#   pg_fixture.sh start|stop DIR
#
# DIR (in the build directory) only records the server for the tests: DIR/url holds its URL
# (the tests read it) and DIR/server the directory the server runs in. That directory is a
# fresh `mktemp -d /tmp/nemori-pg.XXXXXX`, because as root the server runs as the `postgres`
# user, who cannot reach a build directory under /root.
#
# When NEMORI_TEST_POSTGRES_URL is set, the tests use that server: `start` starts none.
# When the PostgreSQL server binaries are not installed, `start` succeeds without a server
# outside CI, so that the tests skip with a message saying so; under CI (CI set) it fails.
set -euo pipefail
cmd="$1"
dir="$2"
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)"
pg_bin="${PG_BIN:-/usr/lib/postgresql/15/bin}"
server_script="$root/scripts/pg-test-server.sh"

# Stops the server recorded in DIR/server, if any, and forgets it.
stop_recorded() {
  if [[ -s "$dir/server" ]]; then
    "$server_script" stop "$(cat "$dir/server")"
  fi
  rm -f "$dir/server" "$dir/url"
}

case "$cmd" in
  start)
    # A server left by an interrupted run: recorded, or (older layout) running in DIR itself.
    if [[ -f "$dir/.nemori-pg-test" ]]; then "$server_script" stop "$dir"; fi
    mkdir -p "$dir"
    stop_recorded
    if [[ -n "${NEMORI_TEST_POSTGRES_URL:-}" ]]; then
      echo "pg_fixture: the tests use NEMORI_TEST_POSTGRES_URL; no server started"
      exit 0
    fi
    if [[ ! -x "$pg_bin/initdb" ]]; then
      if [[ -n "${CI:-}" ]]; then
        echo "pg_fixture: the PostgreSQL server binaries are missing ($pg_bin/initdb); under CI" \
          "the PostgreSQL tests must run: install postgresql-15 (scripts/setup.sh)" >&2
        exit 1
      fi
      echo "pg_fixture: the PostgreSQL server binaries are missing ($pg_bin/initdb); the" \
        "PostgreSQL tests will be skipped (install postgresql-15 to run them)"
      exit 0
    fi
    server_dir="$(mktemp -d /tmp/nemori-pg.XXXXXX)"
    echo "$server_dir" >"$dir/server"
    url="$("$server_script" start "$server_dir")"
    echo "$url" >"$dir/url.tmp"
    mv "$dir/url.tmp" "$dir/url"
    echo "pg_fixture: test server $url in $server_dir"
    ;;
  stop)
    stop_recorded
    ;;
  *)
    echo "usage: $0 start|stop DIR" >&2
    exit 2
    ;;
esac
