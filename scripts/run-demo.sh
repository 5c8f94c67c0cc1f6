#!/usr/bin/env bash
# Runs the nemori demo on the embedded DuckDB backend (./nemori.duckdb in the repository root).
# Extra arguments go to `nemori demo`. Build first: `make build` (or just `make run`).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
[[ -x ./build/nemori ]] || {
  echo "run-demo: ./build/nemori not found; run 'make build' first" >&2
  exit 1
}
exec ./build/nemori demo --storage duckdb:///./nemori.duckdb "$@"
