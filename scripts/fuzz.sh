#!/usr/bin/env bash
# Builds the libFuzzer targets of fuzz/ in build-fuzz/ (clang, ASan+UBSan) and runs each one for
# a bounded time, starting from a seed corpus made of the files in tests/data.
#
#   scripts/fuzz.sh              60 s in all, split evenly between the targets
#   scripts/fuzz.sh 900          900 s in all (or NEMORI_FUZZ_SECONDS=900 scripts/fuzz.sh)
#   NEMORI_FUZZ_TARGETS="fuzz_dump" scripts/fuzz.sh 300    one target only
#
# Targets: fuzz_records (JSON / JSONL record files: validate, ingest), fuzz_locomo (LoCoMo
# files), fuzz_dump (dumps: import, restored into memory://), fuzz_requests (the REST server's
# request decoding: JSON bodies, query parameters). Each input must be accepted or
# refused with a nemori::Error; a crash, a sanitizer report, an uncaught exception, a hang over
# 10 s or a run over 2 GB stops the run, leaves the input in build-fuzz/findings/TARGET/ and
# makes this script exit 1. Turn every such input into a regression test (tests/core, or
# tests/storage/dump_test.cpp for the dump reader, tests/server/request_decoding_test.cpp for
# request decoding), then fix the reader.
#
# The corpus each target grows is kept in build-fuzz/corpus/TARGET/ between runs.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
TOTAL="${1:-${NEMORI_FUZZ_SECONDS:-60}}"
[[ "$TOTAL" =~ ^[0-9]+$ && "$TOTAL" -gt 0 ]] || {
  echo "fuzz: the time must be a positive number of seconds (got '$TOTAL')" >&2
  exit 2
}
TARGETS=(${NEMORI_FUZZ_TARGETS:-fuzz_records fuzz_locomo fuzz_dump fuzz_requests})
BUILD="$ROOT/build-fuzz"
JOBS="${JOBS:-2}"

log() { echo "fuzz: $*"; }

pick() { # first command that exists
  for c in "$@"; do
    if command -v "$c" >/dev/null 2>&1; then
      echo "$c"
      return 0
    fi
  done
  return 1
}
CC_BIN="$(pick clang-14 clang)" || { echo "fuzz: clang is missing (scripts/setup.sh installs it)" >&2; exit 1; }
CXX_BIN="$(pick clang++-14 clang++)" || { echo "fuzz: clang++ is missing" >&2; exit 1; }

started=$SECONDS
mkdir -p "$BUILD"
cmake -G Ninja -S fuzz -B "$BUILD" -DCMAKE_C_COMPILER="$CC_BIN" -DCMAKE_CXX_COMPILER="$CXX_BIN" \
  -DCMAKE_BUILD_TYPE=Fuzz >"$BUILD/configure.log" 2>&1 || {
  cat "$BUILD/configure.log" >&2
  exit 1
}
cmake --build "$BUILD" -j"$JOBS" --target "${TARGETS[@]}"
log "built ${TARGETS[*]} in $((SECONDS - started)) s"

# Seeds: the test data of each kind (copied, so that libFuzzer never writes into tests/data).
seed_dir() { # target -> its seed directory, filled
  local dir="$BUILD/seeds/$1"
  rm -rf "$dir"
  mkdir -p "$dir"
  case "$1" in
    fuzz_records)
      cp tests/data/cli/* tests/data/core/*.json data/samples/*.jsonl "$dir"/
      cp tests/data/core/fuzz/records_* "$dir"/ 2>/dev/null || true
      ;;
    fuzz_locomo)
      cp tests/data/eval/*.json "$dir"/
      cp tests/data/core/fuzz/locomo_* "$dir"/ 2>/dev/null || true
      ;;
    fuzz_requests)
      # The first byte chooses the kind: '0' a JSON body, '1' a query string.
      printf '0{"messages": [{"speaker_id": "alice", "content": "hi", "timestamp": "2024-05-01T10:00:00Z"}], "source": "app"}' >"$dir/messages"
      printf '0{"query": "dog", "mode": "hybrid", "top_k": 5, "word_budget": 200, "neighbours": 1, "time_range": {"start": "2024-01-01T00:00:00Z"}}' >"$dir/search"
      printf '0{"title": "t", "importance_score": 0.5, "timestamp": "2024-05-01T10:00:00+02:00"}' >"$dir/patch"
      printf '1limit=10&offset=20&type=conversational,behavioral&start=2024-01-01T00:00:00Z&end=2024-02-01T00:00:00Z&min_importance=0.2&order=asc&sort=importance&processed=true' >"$dir/listing"
      printf '1agent-7:user-1' >"$dir/owner"
      ;;
    fuzz_dump)
      cp tests/data/core/fuzz/dump_* "$dir"/ 2>/dev/null || true
      # A current dump of the sample conversation, when the main build is there to write one.
      if [[ -x build/nemori ]]; then
        local tmp
        tmp="$(mktemp -d)"
        if build/nemori ingest data/samples/maya.jsonl --owner maya --process \
          --storage "duckdb://$tmp/seed.duckdb" >/dev/null 2>&1 &&
          build/nemori export -o "$dir/maya.dump.jsonl" --storage "duckdb://$tmp/seed.duckdb" \
            >/dev/null 2>&1; then
          head -c 4000 "$dir/maya.dump.jsonl" | head -n 4 >"$dir/maya-head.dump.jsonl"
        else
          log "could not write a seed dump with build/nemori; fuzz_dump starts from the rest"
        fi
        rm -rf "$tmp"
      fi
      ;;
  esac
  echo "$dir"
}

per_target=$((TOTAL / ${#TARGETS[@]}))
((per_target > 0)) || per_target=1
status=0
for target in "${TARGETS[@]}"; do
  seeds="$(seed_dir "$target")"
  corpus="$BUILD/corpus/$target"
  findings="$BUILD/findings/$target"
  mkdir -p "$corpus" "$findings"
  log "$target: ${per_target} s (seeds: $(ls "$seeds" | wc -l) files, corpus: $(ls "$corpus" | wc -l))"
  if ! ASAN_OPTIONS="detect_leaks=1:allocator_may_return_null=1" \
    UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1" \
    "$BUILD/$target" -max_total_time="$per_target" -timeout=10 -rss_limit_mb=2048 \
    -print_final_stats=1 -artifact_prefix="$findings/" "$corpus" "$seeds" \
    >"$BUILD/$target.log" 2>&1; then
    status=1
    echo "fuzz: $target FAILED; the input is in $findings/, the report in $BUILD/$target.log:" >&2
    grep -E "ERROR|SUMMARY|what\(\)|Test unit written" "$BUILD/$target.log" >&2 || tail -n 30 "$BUILD/$target.log" >&2
  else
    log "$target: $(grep -Eo 'stat::number_of_executed_units: *[0-9]+' "$BUILD/$target.log" | grep -Eo '[0-9]+$') inputs, no finding"
  fi
done
log "done in $((SECONDS - started)) s"
exit "$status"
