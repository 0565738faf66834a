#!/usr/bin/env bash
# Offline keyless verification benchmark: the wall time of `cosign verify-blob` on a keyless
# Sigstore bundle (Fulcio certificate: chain, SCT and identity checked, Rekor entry proven
# offline) against the same command on a bundle signed with a key, both with --trusted-root,
# in the same run. Then the keyless run under strace: with --trusted-root no network socket may
# be opened. Prints the ratio and PASS/FAIL per target; exits 1 if a target fails.
#
#   bench/keyless.sh            (RUNS=n to change the number of runs of each command, default 100)
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${RUNS:-100}
DATA="$PWD/crates/cosign-cli/tests/data/conformance"

cargo build --release --locked -q -p cosign-cli
COSIGN="$PWD/target/release/cosign"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export TUF_ROOT="$work/tuf"   # nothing initialized: the embedded root is never needed either

IDENTITY="https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon/.github/workflows/extremely-dangerous-oidc-beacon.yml@refs/heads/main"
ISSUER="https://token.actions.githubusercontent.com"
keyless=("$COSIGN" verify-blob
  --bundle "$DATA/bundle-verify/happy-path-v0.3/bundle.sigstore.json"
  --trusted-root "$DATA/public-good/trusted_root.json"
  --certificate-identity "$IDENTITY" --certificate-oidc-issuer "$ISSUER"
  "$DATA/a.txt")
keyed=("$COSIGN" verify-blob
  --bundle "$DATA/bundle-verify/managed-key-happy-path/bundle.sigstore.json"
  --trusted-root "$DATA/public-good/trusted_root.json"
  --key "$DATA/bundle-verify/managed-key-happy-path/key.pub"
  "$DATA/a.txt")
"${keyless[@]}" 2>&1 | grep -q "Verified OK" || { echo "the keyless bundle does not verify" >&2; exit 1; }
"${keyed[@]}" 2>&1 | grep -q "Verified OK" || { echo "the key bundle does not verify" >&2; exit 1; }

# total wall milliseconds of RUNS runs of a command
total_ms() {
  local t0 t1
  t0=$(date +%s%N)
  for _ in $(seq "$RUNS"); do "$@" >/dev/null 2>&1; done
  t1=$(date +%s%N)
  echo $(( (t1 - t0) / 1000000 ))
}

status=0
report() { # name value limit unit
  local ok
  ok=$(awk -v v="$2" -v l="$3" 'BEGIN { print (v <= l) ? "PASS" : "FAIL" }')
  [ "$ok" = PASS ] || status=1
  printf '%-62s %8s %-4s (target <= %s) %s\n' "$1" "$2" "$4" "$3" "$ok"
}

# Interleaved, twice each, so drift in the machine hits both alike.
k1=$(total_ms "${keyed[@]}"); l1=$(total_ms "${keyless[@]}")
k2=$(total_ms "${keyed[@]}"); l2=$(total_ms "${keyless[@]}")
key_ms=$(( k1 + k2 )); keyless_ms=$(( l1 + l2 ))
runs=$(( RUNS * 2 ))
printf 'verify-blob with a key:   %6.2f ms per run (%d runs)\n' "$(awk -v t="$key_ms" -v n="$runs" 'BEGIN{print t/n}')" "$runs"
printf 'verify-blob keyless:      %6.2f ms per run (%d runs)\n' "$(awk -v t="$keyless_ms" -v n="$runs" 'BEGIN{print t/n}')" "$runs"
report "offline keyless verify-blob / key verify-blob (wall time)" \
  "$(awk -v a="$keyless_ms" -v b="$key_ms" 'BEGIN{printf "%.2f", a/b}')" 1.5 x

# No network with --trusted-root: count the IP sockets connected during a keyless run.
strace -f -qq -e trace=connect -o "$work/trace" "${keyless[@]}" >/dev/null 2>&1
connects=$(grep -cE 'AF_INET6?' "$work/trace" || true)
report "IP connections during an offline keyless verify-blob" "$connects" 0 ""
exit $status
