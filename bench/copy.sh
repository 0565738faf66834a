#!/usr/bin/env bash
# cosign copy benchmark: copying an image with 3 tag attachments and 100 referrers takes at most
# 2x the time of copying the image alone (to a registry with the referrers API, and to one
# without it; on loopback and across an emulated 20 ms RTT). Also prints the floor: the
# attachments pushed by a minimal client. See crates/test-support/src/bin/copy-bench.rs. Needs
# docker-registry and ferro-oci-server: scripts/install-test-deps.sh installs both.
#   bench/copy.sh [LAYER_MIB [RTT_MS]]   (4 layers of LAYER_MIB MiB, default 64; RTT default 20)
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --locked -q -p cosign-cli -p test-support --bins
exec target/release/copy-bench target/release/cosign "$@"
