#!/usr/bin/env bash
# tlog-server benchmark: 16 concurrent clients POST unique, valid hashedrekord entries for ~10 s
# against a release build on 127.0.0.1 (a fresh data directory, fsync on every group commit).
# Prints entries/s and p50/p99 latency; PASS needs >= 500 entries/s, else exits 1.
# Entries are pre-signed before the clock starts (see crates/tlog-server/src/bin/tlog-load.rs).
# Env: CLIENTS (16), SECONDS_RUN (10), MIN_RATE (500), API (1: Rekor v1 `/api/v1/log/entries`;
# 2: the Rekor v2 log, `/api/v2/log/entries`, tiles written per group commit; "both": v1 then
# v2, MIN_RATE applying to v1 and MIN_RATE_V2 (10000) to v2).
# `bench/tlog.sh v2` is API=2 with MIN_RATE=10000.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "${1:-}" = "v2" ]; then
  API=2
  MIN_RATE=${MIN_RATE:-10000}
fi
api=${API:-1}
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

: > "$work/server.log"   # exists before the first read (the background job opens it later)
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

# The disk's flush latency, measured in this run: each group commit waits for an fdatasync of
# the entry log (an append) and one of the stored tree head, and each of the 16 clients has
# one request in flight, so a commit holds at most 16 entries and the throughput is at most
# 16 / (commit latency).
probe=$(dd if=/dev/zero of="$work/probe" bs=4096 count=200 oflag=dsync 2>&1 | tail -1 |
  awk -F', ' '{split($(NF-1), t, " "); printf "%.2f", t[1] * 1000 / 200}')
rm -f "$work/probe"
echo "disk: ${probe} ms per 4 KiB O_DSYNC append (ceiling at one such flush per commit of" \
  "${CLIENTS:-16}: $(awk -v ms="$probe" -v c="${CLIENTS:-16}" 'BEGIN { if (ms > 0) printf "%.0f", c * 1000 / ms; else print "?" }') entries/s)"

status=0
run_load() { # API MIN_RATE
  echo "== Rekor v$1 API =="
  timeout 120 "$bin/tlog-load" --url "$url" --api "$1" \
    --clients "${CLIENTS:-16}" --seconds "${SECONDS_RUN:-10}" --min-rate "$2" ||
    status=$?
}
case "$api" in
1) run_load 1 "${MIN_RATE:-500}" ;;
2) run_load 2 "${MIN_RATE:-10000}" ;;
both)
  run_load 1 "${MIN_RATE:-500}"
  run_load 2 "${MIN_RATE_V2:-10000}"
  ;;
*)
  echo "API must be 1, 2 or both" >&2
  exit 2
  ;;
esac
kill "$server_pid" 2>/dev/null || true
wait "$server_pid" 2>/dev/null || true
server_pid=""
grep 'group commits' "$work/server.log" || true
echo "entry log: $(du -h "$work/data/entries.log" | cut -f1)"
if [ -d "$work/data/v2/tiles" ]; then
  echo "v2 entry log: $(du -h "$work/data/v2/entries.log" | cut -f1)," \
    "tiles: $(find "$work/data/v2/tiles" -type f | wc -l) files, $(du -sh "$work/data/v2/tiles" | cut -f1)"
fi
exit "$status"
