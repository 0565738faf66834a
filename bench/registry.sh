#!/usr/bin/env bash
# Registry benchmark: request counts from the registries' request logs and wall-time ratios
# measured in the same run (see crates/test-support/src/bin/registry-bench.rs for the targets).
# Needs docker-registry and ferro-oci-server: scripts/install-test-deps.sh installs both.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --locked -q -p cosign-cli -p test-support --bins
exec target/release/registry-bench target/release/cosign
