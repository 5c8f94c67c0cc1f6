#!/usr/bin/env bash
# The ctest fixture of the PostgreSQL tests: starts or stops scripts/pg-test-server.sh in DIR.
#
#   pg_fixture.sh start|stop DIR
#
# When the PostgreSQL server binaries are not installed, `start` succeeds without a server
# outside CI, so that the tests skip with a message saying so; under CI (CI set) it fails.
set -euo pipefail
cmd="$1"
dir="$2"
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)"
pg_bin="${PG_BIN:-/usr/lib/postgresql/15/bin}"

if [[ "$cmd" == start && ! -x "$pg_bin/initdb" ]]; then
  rm -f "$dir/url"
  if [[ -n "${CI:-}" ]]; then
    echo "pg_fixture: the PostgreSQL server binaries are missing ($pg_bin/initdb); under CI the" \
      "PostgreSQL tests must run: install postgresql-15 (scripts/setup.sh)" >&2
    exit 1
  fi
  echo "pg_fixture: the PostgreSQL server binaries are missing ($pg_bin/initdb); the PostgreSQL" \
    "tests will be skipped (install postgresql-15 to run them)"
  exit 0
fi
exec "$root/scripts/pg-test-server.sh" "$cmd" "$dir"
