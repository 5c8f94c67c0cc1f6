#!/usr/bin/env bash
# examples/python/agent_loop.py against a real `nemori serve` on a free loopback port with a
# key: the example must finish with exit code 0 and recall the beagle's name after its flush.
#
#   tests/examples/python_agent_loop_test.sh NEMORI_BINARY SOURCE_DIR
set -euo pipefail

nemori="$1"
source_dir="$2"
work="$(mktemp -d /tmp/nemori-python-example.XXXXXX)"
server_pid=""
cleanup() {
  if [[ -n "$server_pid" ]]; then
    kill -TERM "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT

key="python-example-key-0123456789"
NEMORI_API_KEYS="$key=*" "$nemori" serve --storage memory:// --port 0 --build-after 0 \
  >"$work/stdout" 2>"$work/stderr" &
server_pid=$!

# "nemori serve: listening on http://127.0.0.1:PORT (...)"
port=""
for _ in $(seq 1 100); do
  port="$(sed -n 's|.*listening on http://127.0.0.1:\([0-9]*\).*|\1|p' "$work/stdout")"
  [[ -n "$port" ]] && break
  sleep 0.1
done
if [[ -z "$port" ]]; then
  echo "nemori serve did not start:" >&2
  cat "$work/stderr" >&2
  exit 1
fi

NEMORI_API_KEY="$key" python3 "$source_dir/examples/python/agent_loop.py" \
  --url "http://127.0.0.1:$port" --owner "python-test" | tee "$work/output"

grep -q '^flush: [1-9][0-9]* episodes from 6 messages$' "$work/output"
grep -q '^recalled: .*Biscuit' "$work/output"
echo "python example: ok"
