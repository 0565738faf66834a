#!/usr/bin/env bash
# tlog-server benchmark: 16 concurrent clients POST unique, valid hashedrekord entries for ~10 s
# against a release build on 127.0.0.1 (a fresh data directory, fsync on every group commit).
# Prints entries/s and p50/p99 latency; PASS needs >= 500 entries/s, else exits 1.
# Entries are pre-signed before the clock starts (see crates/tlog-server/src/bin/tlog-load.rs).
# Env: CLIENTS (16), SECONDS_RUN (10), MIN_RATE (500).
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release -q -p tlog-server --bins
target_dir=$(cargo metadata --format-version 1 --no-deps |
  sed -n 's/.*"target_directory":"\([^"]*\)".*/\1/p')
bin="$target_dir/release"

work=$(mktemp -d)
server_pid=""
cleanup() {
  if [ -n "$server_pid" ]; then
    kill "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT

"$bin/tlog-server" serve --data-dir "$work/data" --addr 127.0.0.1:0 2>"$work/server.log" &
server_pid=$!
url=""
for _ in $(seq 300); do
  url=$(sed -n 's/^listening on //p' "$work/server.log")
  [ -n "$url" ] && break
  if ! kill -0 "$server_pid" 2>/dev/null; then
    cat "$work/server.log" >&2
    exit 1
  fi
  sleep 0.1
done
if [ -z "$url" ]; then
  echo "tlog-server did not start" >&2
  cat "$work/server.log" >&2
  exit 1
fi
echo "tlog-server at $url (data in $work/data)"

status=0
timeout 120 "$bin/tlog-load" --url "$url" \
  --clients "${CLIENTS:-16}" --seconds "${SECONDS_RUN:-10}" --min-rate "${MIN_RATE:-500}" ||
  status=$?
kill "$server_pid" 2>/dev/null || true
wait "$server_pid" 2>/dev/null || true
server_pid=""
grep 'group commits' "$work/server.log" || true
echo "entry log: $(du -h "$work/data/entries.log" | cut -f1)"
exit "$status"
