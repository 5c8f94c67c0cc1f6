#!/usr/bin/env bash
# Checks pg_fixture.sh: with NEMORI_TEST_POSTGRES_URL set it starts no server; without it, it
# starts one whose files live in a fresh directory under /tmp even when its record directory
# cannot be reached by the `postgres` user (a build directory under /root), and stops it.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
fixture="$here/pg_fixture.sh"
pg_bin="${PG_BIN:-/usr/lib/postgresql/15/bin}"
fail() {
  echo "pg_fixture_test: FAILED: $*" >&2
  exit 1
}

scratch="$(mktemp -d)" # 0700: like /root, the postgres user cannot enter it
trap 'NEMORI_TEST_POSTGRES_URL= "$fixture" stop "$scratch/pgtest" >/dev/null 2>&1 || true; rm -rf "$scratch"' EXIT
chmod 0700 "$scratch"

# 1. A given server is used: nothing is started, nothing recorded.
out="$(NEMORI_TEST_POSTGRES_URL=postgresql://u:p@127.0.0.1:1/x "$fixture" start "$scratch/pgtest")"
[[ "$out" == *"no server started"* ]] || fail "start with NEMORI_TEST_POSTGRES_URL said: $out"
[[ ! -e "$scratch/pgtest/url" && ! -e "$scratch/pgtest/server" ]] ||
  fail "start with NEMORI_TEST_POSTGRES_URL recorded a server"
NEMORI_TEST_POSTGRES_URL=postgresql://u:p@127.0.0.1:1/x "$fixture" stop "$scratch/pgtest"

# 2. Without it, a server in a fresh /tmp directory, reachable although DIR is not.
if [[ ! -x "$pg_bin/initdb" ]]; then
  echo "pg_fixture_test: part 2 skipped: no PostgreSQL server binaries in $pg_bin"
  exit 0
fi
NEMORI_TEST_POSTGRES_URL= "$fixture" start "$scratch/pgtest" >/dev/null ||
  fail "start with the record directory under a 0700 directory"
url="$(cat "$scratch/pgtest/url")"
server_dir="$(cat "$scratch/pgtest/server")"
[[ "$server_dir" == /tmp/nemori-pg.* && -d "$server_dir/data" ]] ||
  fail "the server's directory is $server_dir, not a fresh /tmp/nemori-pg.* one"
port="$(sed -n 's|.*@127\.0\.0\.1:\([0-9]*\)/.*|\1|p' <<<"$url")"
"$pg_bin/pg_isready" -q -h 127.0.0.1 -p "$port" -d postgres -t 10 || fail "no server answers at $url"
NEMORI_TEST_POSTGRES_URL= "$fixture" stop "$scratch/pgtest"
[[ ! -e "$server_dir" && ! -e "$scratch/pgtest/url" ]] || fail "stop left $server_dir or the url"
echo "pg_fixture_test: ok"
