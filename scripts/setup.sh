#!/usr/bin/env bash
# Installs everything nemori needs to build and test on Debian 12, as root.
#
#   scripts/setup.sh
#
# 1. Debian packages (apt is skipped entirely when all of them are already installed).
# 2. DuckDB 1.4.4 (C API: libduckdb.so + duckdb.h) from two npm registry tarballs, checked
#    against the SHA-256 sums in scripts/duckdb.sha256, unpacked into third_party/duckdb/.
#    Skipped when third_party/duckdb holds files recorded by a stamp that matches those sums.
#
# Safe to re-run; a second run does no network access and takes well under a second.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
SUMS_FILE="$ROOT/scripts/duckdb.sha256"
DUCKDB_DIR="$ROOT/third_party/duckdb"
STAMP="$DUCKDB_DIR/.stamp"

# The pinned DuckDB release: npm package spec -> tarball name written by `npm pack`.
BINDINGS_SPEC="@duckdb/node-bindings-linux-x64@1.4.4-r.1"
BINDINGS_TGZ="duckdb-node-bindings-linux-x64-1.4.4-r.1.tgz"
SOURCE_SPEC="duckdb@1.4.4"
SOURCE_TGZ="duckdb-1.4.4.tgz"
DUCKDB_VERSION="v1.4.4"

log() { echo "setup: $*"; }
die() {
  echo "setup: error: $*" >&2
  exit 1
}

# ---------------------------------------------------------------------------------------------
# 1. Debian packages
# ---------------------------------------------------------------------------------------------
PACKAGES=(
  build-essential cmake ninja-build pkg-config git ca-certificates curl
  libpq-dev postgresql-15 postgresql-client-15
  libcurl4-openssl-dev nlohmann-json3-dev libcli11-dev libcpp-httplib-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  libstemmer-dev libhnswlib-dev libsqlite3-dev sqlite3 libutf8proc-dev libssl-dev
  libtomlplusplus-dev
  clang-format
  clang-14 libclang-rt-14-dev llvm-14
  python3
)
# Node.js and npm may come from elsewhere (e.g. NodeSource's nodejs, which bundles npm and
# conflicts with Debian's npm package): only ask Debian for them when a command is missing.
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  PACKAGES+=(nodejs npm)
fi

# One dpkg-query for all packages (unknown ones are simply absent from its output).
declare -A installed=()
while read -r pkg status; do
  [[ "$status" == ii* ]] && installed[$pkg]=1
done < <(dpkg-query -W -f='${Package} ${db:Status-Abbrev}\n' "${PACKAGES[@]}" 2>/dev/null || true)
missing=()
for pkg in "${PACKAGES[@]}"; do
  [[ -n "${installed[$pkg]:-}" ]] || missing+=("$pkg")
done

if ((${#missing[@]} > 0)); then
  [[ $EUID -eq 0 ]] || die "missing Debian packages (${missing[*]}); run this script as root"
  log "installing Debian packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q || die "apt-get update failed"
  apt-get install -y -q --no-install-recommends "${missing[@]}" ||
    die "apt-get install failed (packages: ${missing[*]})"
else
  log "Debian packages: all ${#PACKAGES[@]} already installed"
fi

command -v npm >/dev/null 2>&1 || die "npm is still missing after installing packages"

# ---------------------------------------------------------------------------------------------
# 2. DuckDB
# ---------------------------------------------------------------------------------------------
[[ -r "$SUMS_FILE" ]] || die "checksum file $SUMS_FILE is missing"

expected_sum() { # tarball name -> expected SHA-256 from the sums file
  local sum
  sum="$(awk -v f="$1" '$2 == f { print $1 }' "$SUMS_FILE")"
  [[ "$sum" =~ ^[0-9a-f]{64}$ ]] || die "no SHA-256 for $1 in $SUMS_FILE"
  echo "$sum"
}
file_sum() { sha256sum "$1" | awk '{ print $1 }'; }
BINDINGS_SUM="$(expected_sum "$BINDINGS_TGZ")"
SOURCE_SUM="$(expected_sum "$SOURCE_TGZ")"
STAMP_HEAD="$(printf '%s  %s\n' "$BINDINGS_SUM" "$BINDINGS_TGZ" "$SOURCE_SUM" "$SOURCE_TGZ")"

# The stamp holds the tarball sums the install came from, then the sums of the installed files.
stamp_ok() {
  [[ -f "$STAMP" && -f "$DUCKDB_DIR/lib/libduckdb.so" && -f "$DUCKDB_DIR/include/duckdb.h" ]] ||
    return 1
  [[ "$(head -n 2 "$STAMP")" == "$STAMP_HEAD" ]] || return 1
  (cd "$DUCKDB_DIR" && tail -n +3 "$STAMP" | sha256sum --check --status --strict -) || return 1
}

if stamp_ok; then
  log "DuckDB $DUCKDB_VERSION: already in third_party/duckdb (stamp matches)"
  exit 0
fi

log "fetching DuckDB $DUCKDB_VERSION from the npm registry"
TMP="$(mktemp -d "${TMPDIR:-/tmp}/nemori-duckdb.XXXXXX")"
# Staged next to the final place so that the last step is a rename on one file system.
mkdir -p "$ROOT/third_party"
STAGE="$(mktemp -d "$ROOT/third_party/.duckdb-stage.XXXXXX")"
trap 'rm -rf "$TMP" "$STAGE"' EXIT

for spec in "$BINDINGS_SPEC" "$SOURCE_SPEC"; do
  if ! (cd "$TMP" && npm pack --loglevel=error --pack-destination "$TMP" "$spec" >"$TMP/npm.log" 2>&1); then
    cat "$TMP/npm.log" >&2
    die "'npm pack $spec' failed (is the npm registry reachable?)"
  fi
done

for tgz in "$BINDINGS_TGZ" "$SOURCE_TGZ"; do
  [[ -f "$TMP/$tgz" ]] || die "npm pack did not produce $tgz (got: $(ls "$TMP"))"
  if [[ "$tgz" == "$BINDINGS_TGZ" ]]; then want="$BINDINGS_SUM"; else want="$SOURCE_SUM"; fi
  got="$(file_sum "$TMP/$tgz")"
  if [[ "$got" != "$want" ]]; then
    die "checksum mismatch for $tgz:
  expected $want (scripts/duckdb.sha256)
  got      $got
Refusing to install it. If the registry legitimately changed the tarball, review it and
update scripts/duckdb.sha256 deliberately."
  fi
  log "$tgz: SHA-256 OK"
done

# Unpack into a staging dir, then replace third_party/duckdb. -m gives the files the current
# mtime (the tarballs carry 1985), so an upgrade relinks whatever depends on them.
mkdir -p "$STAGE/lib" "$STAGE/include" "$TMP/x"
tar -xzmf "$TMP/$BINDINGS_TGZ" -C "$TMP/x" package/libduckdb.so package/LICENSE ||
  die "could not unpack libduckdb.so from $BINDINGS_TGZ"
tar -xzmf "$TMP/$SOURCE_TGZ" -C "$TMP/x" package/src/duckdb/src/include/duckdb.h ||
  die "could not unpack duckdb.h from $SOURCE_TGZ"
install -m 0755 "$TMP/x/package/libduckdb.so" "$STAGE/lib/libduckdb.so"
install -m 0644 "$TMP/x/package/src/duckdb/src/include/duckdb.h" "$STAGE/include/duckdb.h"
install -m 0644 "$TMP/x/package/LICENSE" "$STAGE/LICENSE"

# Check the pair works: compile, link and run a tiny C program that opens an in-memory database.
cat >"$TMP/check.c" <<'EOF'
#include <stdio.h>
#include <duckdb.h>
int main(void) {
  duckdb_database db;
  duckdb_connection con;
  if (duckdb_open(NULL, &db) != DuckDBSuccess) return 2;
  if (duckdb_connect(db, &con) != DuckDBSuccess) return 3;
  if (duckdb_query(con, "SELECT 42", NULL) != DuckDBSuccess) return 4;
  duckdb_disconnect(&con);
  duckdb_close(&db);
  printf("%s\n", duckdb_library_version());
  return 0;
}
EOF
cc -o "$TMP/check" "$TMP/check.c" -I"$STAGE/include" -L"$STAGE/lib" -lduckdb \
  -Wl,-rpath,"$STAGE/lib" || die "could not build a test program against DuckDB"
got_version="$("$TMP/check")" || die "DuckDB test program failed"
[[ "$got_version" == "$DUCKDB_VERSION" ]] ||
  die "DuckDB test program printed '$got_version', expected '$DUCKDB_VERSION'"
log "DuckDB test program: opened a database, library version $got_version"

{
  echo "$STAMP_HEAD"
  (cd "$STAGE" && sha256sum lib/libduckdb.so include/duckdb.h)
} >"$STAGE/.stamp"

chmod 0755 "$STAGE"
rm -rf "$DUCKDB_DIR"
mv "$STAGE" "$DUCKDB_DIR"
log "DuckDB $DUCKDB_VERSION installed in third_party/duckdb"
