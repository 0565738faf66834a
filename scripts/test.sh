#!/usr/bin/env bash
# The one command that installs what the tests need and runs them all (CI calls it too).
#   scripts/test.sh            install missing tools, then fmt, clippy and every test
#   SKIP_INSTALL=1 scripts/test.sh   skip the install step
set -euo pipefail
cd "$(dirname "$0")/.."

log() { printf '==> %s\n' "$*" >&2; }

if [ "${SKIP_INSTALL:-0}" != 1 ]; then
  scripts/install-test-deps.sh
fi

log "cargo fmt --check"
cargo fmt --all --check

log "cargo clippy (all targets, -D warnings)"
cargo clippy --locked --workspace --all-targets -- -D warnings

log "cargo test"
cargo test --locked --workspace 2>&1 | tee target/test-output.txt
# One summary line for CI, summed over every test binary.
awk '/^test result:/ { p += $4; f += $6; i += $8 } END { printf "%d passed, %d failed, %d skipped\n", p, f, i }' target/test-output.txt
