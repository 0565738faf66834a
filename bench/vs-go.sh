#!/usr/bin/env bash
# Ours against Go cosign 3.1.2, same machine, same run, same inputs: wall time and peak RSS of
# sign-blob / verify-blob of a SIZE_MIB file (default 2048), `sign` of 50 images in one call,
# `verify` of an image carrying 100 signatures (loopback, and at RTT_MS emulated round-trip time,
# default 20), `copy` of an image with a signature and an attestation (both), and cold start
# (`version`). Registry: the CNCF distribution registry, on loopback or behind test-support's
# `rtt-proxy` (RTT_MS added to every request and new connection). Prints one table (ratio = ours / Go) and PASS/FAIL against
# the targets: blobs <= 0.5x Go's wall with peak RSS <= 1/100 of Go's; 100-signature verify at
# RTT_MS <= 0.3x; never slower than Go on any row. Exits 1 if a target fails.
#
#   bench/vs-go.sh [SIZE_MIB]     (RUNS=n: runs per timing, median taken, default 3)
#
# Needs Go cosign (scripts/install-test-deps.sh builds it into target/test-tools/bin/cosign-go;
# COSIGN_GO_BIN points elsewhere), /usr/bin/docker-registry and GNU time.
set -euo pipefail
cd "$(dirname "$0")/.."
SIZE_MIB=${1:-2048}
RUNS=${RUNS:-3}
IMAGES=${IMAGES:-50}
SIGS=${SIGS:-100}
RTT_MS=${RTT_MS:-20}

cargo build --release --locked -q -p cosign-cli
cargo build --release --locked -q -p test-support --bin rtt-proxy
RTT_PROXY="$PWD/target/release/rtt-proxy"
OURS="$PWD/target/release/cosign"
GO=${COSIGN_GO_BIN:-$PWD/target/test-tools/bin/cosign-go}
[ -x "$GO" ] || { echo "Go cosign not found at $GO: run scripts/install-test-deps.sh" >&2; exit 1; }
work=${BENCH_DIR:-$(mktemp -d)}
mkdir -p "$work"
reg_pid= proxy_pid=
cleanup() {
  [ -n "$proxy_pid" ] && kill "$proxy_pid" 2>/dev/null
  [ -n "$reg_pid" ] && kill "$reg_pid" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT
cd "$work"
export COSIGN_PASSWORD=bench HOME="$work/home" DOCKER_CONFIG="$work/home/.docker"
mkdir -p "$HOME"

echo "preparing a ${SIZE_MIB} MiB input in $work" >&2
head -c $((SIZE_MIB * 1024 * 1024)) /dev/urandom > big.bin
cat big.bin > /dev/null
"$OURS" generate-key-pair --output-key-prefix k >/dev/null 2>&1

median_time() { # median wall seconds of RUNS runs
  local times=()
  for _ in $(seq "$RUNS"); do
    local t0 t1
    t0=$(date +%s%N)
    "$@" >/dev/null 2>&1
    t1=$(date +%s%N)
    times+=("$(( (t1 - t0) / 1000000 ))")
  done
  printf '%s\n' "${times[@]}" | sort -n | awk '{a[NR]=$1} END {printf "%.3f", a[int((NR+1)/2)]/1000}'
}
peak_rss() { # KiB
  /usr/bin/time -f '%M' -o rss.txt "$@" >/dev/null 2>/dev/null
  cat rss.txt
}

status=0
rows=()
row() { # name ours go limit unit
  local ratio ok
  ratio=$(awk -v a="$2" -v b="$3" 'BEGIN { printf "%.3f", (b > 0) ? a / b : 0 }')
  ok=$(awk -v r="$ratio" -v l="$4" 'BEGIN { print (r <= l) ? "PASS" : "FAIL" }')
  [ "$ok" = PASS ] || status=1
  rows+=("$(printf '| %-44s | %10s | %10s | %6s | <= %-6s | %s |' "$1" "$2 $5" "$3 $5" "$ratio" "$4" "$ok")")
}

# Blobs: no log, a bare signature (both binaries' legacy output).
GO_BLOB=(--use-signing-config=false --tlog-upload=false --new-bundle-format=false)
"$OURS" sign-blob --key k.key --tlog-upload=false big.bin > ours.sig 2>/dev/null
"$GO" sign-blob --key k.key "${GO_BLOB[@]}" big.bin > go.sig 2>/dev/null
t_ours=$(median_time "$OURS" sign-blob --key k.key --tlog-upload=false big.bin)
t_go=$(median_time "$GO" sign-blob --key k.key "${GO_BLOB[@]}" big.bin)
row "sign-blob ${SIZE_MIB} MiB, wall" "$t_ours" "$t_go" 0.5 s
m_ours=$(peak_rss "$OURS" sign-blob --key k.key --tlog-upload=false big.bin)
m_go=$(peak_rss "$GO" sign-blob --key k.key "${GO_BLOB[@]}" big.bin)
row "sign-blob ${SIZE_MIB} MiB, peak RSS" "$m_ours" "$m_go" 0.01 KiB
t_ours=$(median_time "$OURS" verify-blob --key k.pub --signature ours.sig --insecure-ignore-tlog big.bin)
t_go=$(median_time "$GO" verify-blob --key k.pub --signature go.sig --insecure-ignore-tlog big.bin)
row "verify-blob ${SIZE_MIB} MiB, wall" "$t_ours" "$t_go" 0.5 s
m_ours=$(peak_rss "$OURS" verify-blob --key k.pub --signature ours.sig --insecure-ignore-tlog big.bin)
m_go=$(peak_rss "$GO" verify-blob --key k.pub --signature go.sig --insecure-ignore-tlog big.bin)
row "verify-blob ${SIZE_MIB} MiB, peak RSS" "$m_ours" "$m_go" 0.01 KiB
rm -f big.bin

# A registry on loopback.
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
cat > reg.yml <<EOF
version: 0.1
storage:
  filesystem:
    rootdirectory: $work/registry
http:
  addr: 127.0.0.1:$port
EOF
/usr/bin/docker-registry serve reg.yml > registry.log 2>&1 &
reg_pid=$!
for _ in $(seq 50); do curl -sf "http://127.0.0.1:$port/v2/" >/dev/null && break; sleep 0.1; done
REG=127.0.0.1:$port

# Images: each a distinct one-layer image (upload blob), signed by each binary in one call.
echo "pushing $((2 * IMAGES + 1)) images" >&2
ours_refs=() go_refs=()
for i in $(seq "$IMAGES"); do
  for who in ours go; do
    echo "$who $i" > "img-$who-$i.txt"
    "$OURS" upload blob -f "img-$who-$i.txt" "$REG/bench/$who-$i:v1" >/dev/null 2>&1
    d=$(curl -sf -H 'Accept: application/vnd.oci.image.manifest.v1+json' -o /dev/null -D - \
      "http://$REG/v2/bench/$who-$i/manifests/v1" | tr -d '\r' | awk -F': ' 'tolower($1)=="docker-content-digest" {print $2}')
    if [ "$who" = ours ]; then ours_refs+=("$REG/bench/$who-$i@$d"); else go_refs+=("$REG/bench/$who-$i@$d"); fi
  done
done
NOLOG=(--tlog-upload=false --yes)
GO_NOLOG=(--use-signing-config=false --tlog-upload=false --new-bundle-format=false --yes)
t0=$(date +%s%N); "$OURS" sign --key k.key "${NOLOG[@]}" "${ours_refs[@]}" >/dev/null 2>&1; t1=$(date +%s%N)
t_ours=$(awk -v n=$((t1 - t0)) 'BEGIN{printf "%.3f", n/1e9}')
t0=$(date +%s%N); "$GO" sign --key k.key "${GO_NOLOG[@]}" "${go_refs[@]}" >/dev/null 2>&1; t1=$(date +%s%N)
t_go=$(awk -v n=$((t1 - t0)) 'BEGIN{printf "%.3f", n/1e9}')
row "sign ${IMAGES} images in one call (loopback)" "$t_ours" "$t_go" 1.0 s

# One image with SIGS signatures (each a different annotation), verified by both.
echo "many" > many.txt
"$OURS" upload blob -f many.txt "$REG/bench/many:v1" >/dev/null 2>&1
for i in $(seq "$SIGS"); do
  "$OURS" sign --key k.key "${NOLOG[@]}" -a "n=$i" "$REG/bench/many:v1" >/dev/null 2>&1
done
t_ours=$(median_time "$OURS" verify --key k.pub --insecure-ignore-tlog "$REG/bench/many:v1")
t_go=$(median_time "$GO" verify --key k.pub --insecure-ignore-tlog "$REG/bench/many:v1")
[ "$("$GO" verify --key k.pub --insecure-ignore-tlog "$REG/bench/many:v1" 2>/dev/null | tail -1 | grep -o '"critical"' | wc -l)" = "$SIGS" ] \
  || { echo "Go did not verify $SIGS signatures" >&2; status=1; }
row "verify an image with ${SIGS} signatures (loopback)" "$t_ours" "$t_go" 1.0 s

# The same registry at RTT_MS.
"$RTT_PROXY" "http://$REG" "$RTT_MS" > proxy.addr &
proxy_pid=$!
for _ in $(seq 50); do [ -s proxy.addr ] && break; sleep 0.1; done
WAN=$(cat proxy.addr)
t_ours=$(median_time "$OURS" verify --key k.pub --insecure-ignore-tlog "$WAN/bench/many:v1")
t_go=$(median_time "$GO" verify --key k.pub --insecure-ignore-tlog "$WAN/bench/many:v1")
row "verify an image with ${SIGS} signatures (${RTT_MS} ms RTT)" "$t_ours" "$t_go" 0.3 s

# copy of an image with a signature and an attestation, each binary to its own destination.
echo '{"release":"v1"}' > predicate.json
"$OURS" upload blob -f many.txt "$REG/bench/tocopy:v1" >/dev/null 2>&1
"$OURS" sign --key k.key "${NOLOG[@]}" "$REG/bench/tocopy:v1" >/dev/null 2>&1
"$OURS" attest --key k.key --predicate predicate.json --type custom "${NOLOG[@]}" "$REG/bench/tocopy:v1" >/dev/null 2>&1
for where in loopback wan; do
  host=$REG; label="loopback"
  if [ "$where" = wan ]; then host=$WAN; label="${RTT_MS} ms RTT"; fi
  copy_time() { # binary destination-name
    local t0 t1
    t0=$(date +%s%N)
    "$1" copy "$host/bench/tocopy:v1" "$host/bench/$2:v1" >/dev/null 2>&1 \
      || { echo "$1 copy to $2 failed" >&2; status=1; }
    t1=$(date +%s%N)
    awk -v n=$((t1 - t0)) 'BEGIN{printf "%.3f", n/1e9}'
  }
  t_ours=$(copy_time "$OURS" "copied-ours-$where"); t_go=$(copy_time "$GO" "copied-go-$where")
  row "copy an image with .sig and .att (${label})" "$t_ours" "$t_go" 1.0 s
done

t_ours=$(median_time "$OURS" version)
t_go=$(median_time "$GO" version)
row "cold start (version)" "$t_ours" "$t_go" 1.0 s

echo
echo "$(date -u +%Y-%m-%d), $(nproc) cores, $(uname -m); ours: $("$OURS" version 2>&1 | awk '/GitVersion/ {print $2}'), Go cosign: $("$GO" version 2>&1 | awk '/GitVersion/ {print $2}'); median of $RUNS runs"
echo "| row | ours | Go | ratio | target | |"
echo "| --- | --- | --- | --- | --- | --- |"
printf '%s\n' "${rows[@]}"
exit $status
