#!/usr/bin/env bash
# Keyless signing benchmark: every service keyless signing talks to (the test OIDC issuer, the
# real Fulcio, tlog-server's Rekor v1 and v2 logs, the real timestamp authority, the registry)
# behind a proxy adding RTT_MS (default 50) to every request and every new connection. Prints
# the wall time of keyless `sign-blob` at that RTT and on loopback, the difference in round
# trips (target <= 4: token, Fulcio, then the log and the TSA at once), the requests and
# connections each service saw, in order; then `sign` of 50 images in one call against 1 image
# (wall-time ratio; Fulcio certificates issued: target 1). Exits 1 if a target fails.
#
#   bench/keyless-sign.sh [RTT_MS]      (RUNS=n: runs per timing, median taken, default 5;
#                                        IMAGES=n: images signed in one call, default 50)
#
# Needs Fulcio and the timestamp authority (scripts/install-test-deps.sh builds both into
# target/test-tools/bin; FULCIO_BIN and TIMESTAMP_SERVER_BIN point elsewhere) and the
# distribution registry (apt docker-registry).
set -euo pipefail
cd "$(dirname "$0")/.."
RTT_MS=${1:-50}
cargo build --release --locked -q -p cosign-cli -p test-support -p tlog-server --bins
export TLOG_SERVER="$PWD/target/release/tlog-server"
exec target/release/keyless-bench target/release/cosign "$RTT_MS" "${RUNS:-5}" "${IMAGES:-50}"
