#!/usr/bin/env bash
# Blob signing benchmark: wall time against `openssl dgst -sha256` on the same file in the same
# run, peak memory for 2 GiB against 1 MiB (file and stdin, ECDSA and Ed25519), and the start-up
# time of `cosign version`. Prints ratios and PASS/FAIL per target; exits 1 if a target fails.
#
#   bench/blob.sh [SIZE_MIB]      (default 2048; the targets are stated for 2 GiB)
set -euo pipefail
cd "$(dirname "$0")/.."
SIZE_MIB=${1:-2048}
RUNS=${RUNS:-3}

cargo build --release --locked -q -p cosign-cli
COSIGN="$PWD/target/release/cosign"
work=${BENCH_DIR:-$(mktemp -d)}
mkdir -p "$work"
trap 'rm -rf "$work"' EXIT
cd "$work"
export COSIGN_PASSWORD=bench

echo "preparing ${SIZE_MIB} MiB and 1 MiB inputs in $work" >&2
head -c $((SIZE_MIB * 1024 * 1024)) /dev/urandom > big.bin
head -c $((1024 * 1024)) /dev/urandom > small.bin
cat big.bin > /dev/null   # page cache, as for openssl

"$COSIGN" generate-key-pair --output-key-prefix ec >/dev/null 2>&1
openssl genpkey -algorithm ed25519 -out ed.pem 2>/dev/null
"$COSIGN" import-key-pair --key ed.pem -o ed >/dev/null 2>&1

# median wall seconds of RUNS runs of a command
median_time() {
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
# peak RSS in KiB of one run
peak_rss() {
  /usr/bin/time -f '%M' -o rss.txt "$@" >/dev/null 2>/dev/null
  cat rss.txt
}

status=0
report() { # name value limit unit
  local ok
  ok=$(awk -v v="$2" -v l="$3" 'BEGIN { print (v <= l) ? "PASS" : "FAIL" }')
  [ "$ok" = PASS ] || status=1
  printf '%-58s %10s %-4s (target <= %s) %s\n' "$1" "$2" "$4" "$3" "$ok"
}

sig_ec=$("$COSIGN" sign-blob --key ec.key --tlog-upload=false big.bin 2>/dev/null)
echo "$sig_ec" > big.ec.sig
sig_ed=$("$COSIGN" sign-blob --key ed.key --tlog-upload=false big.bin 2>/dev/null)
echo "$sig_ed" > big.ed.sig
"$COSIGN" sign-blob --key ec.key --tlog-upload=false small.bin > small.ec.sig 2>/dev/null
"$COSIGN" sign-blob --key ed.key --tlog-upload=false small.bin > small.ed.sig 2>/dev/null

floor=$(median_time openssl dgst -sha256 big.bin)
sign=$(median_time "$COSIGN" sign-blob --key ec.key --tlog-upload=false big.bin)
verify=$(median_time "$COSIGN" verify-blob --key ec.pub --signature big.ec.sig --insecure-ignore-tlog big.bin)
echo
echo "floor: openssl dgst -sha256 of ${SIZE_MIB} MiB: ${floor} s (median of $RUNS)"
echo "sign-blob (ECDSA P-256): ${sign} s; verify-blob: ${verify} s"
report "sign-blob time / openssl dgst time" "$(awk -v a="$sign" -v b="$floor" 'BEGIN{printf "%.3f", a/b}')" 1.15 x
report "verify-blob time / openssl dgst time" "$(awk -v a="$verify" -v b="$floor" 'BEGIN{printf "%.3f", a/b}')" 1.15 x

echo
echo "peak RSS, ${SIZE_MIB} MiB minus 1 MiB input (KiB):"
for kind in ec ed; do
  for mode in file stdin; do
    if [ "$mode" = file ]; then
      small=$(peak_rss "$COSIGN" sign-blob --key $kind.key --tlog-upload=false small.bin)
      big=$(peak_rss "$COSIGN" sign-blob --key $kind.key --tlog-upload=false big.bin)
    else
      small=$(peak_rss sh -c "\"$COSIGN\" sign-blob --key $kind.key --tlog-upload=false - < small.bin")
      big=$(peak_rss sh -c "\"$COSIGN\" sign-blob --key $kind.key --tlog-upload=false - < big.bin")
    fi
    report "sign-blob $kind $mode: RSS delta (small ${small} KiB, big ${big} KiB)" $((big - small)) 8192 KiB
    if [ "$mode" = file ]; then
      small=$(peak_rss "$COSIGN" verify-blob --key $kind.pub --signature small.$kind.sig --insecure-ignore-tlog small.bin)
      big=$(peak_rss "$COSIGN" verify-blob --key $kind.pub --signature big.$kind.sig --insecure-ignore-tlog big.bin)
    else
      small=$(peak_rss sh -c "\"$COSIGN\" verify-blob --key $kind.pub --signature small.$kind.sig --insecure-ignore-tlog - < small.bin")
      big=$(peak_rss sh -c "\"$COSIGN\" verify-blob --key $kind.pub --signature big.$kind.sig --insecure-ignore-tlog - < big.bin")
    fi
    report "verify-blob $kind $mode: RSS delta (small ${small} KiB, big ${big} KiB)" $((big - small)) 8192 KiB
  done
done

echo
n=200
t0=$(date +%s%N)
for _ in $(seq $n); do "$COSIGN" version >/dev/null; done
t1=$(date +%s%N)
report "cosign version start-up (mean of $n)" "$(awk -v d=$((t1 - t0)) -v n=$n 'BEGIN{printf "%.2f", d/n/1e6}')" 5 ms
exit $status
