#!/usr/bin/env bash
# The demo: the main job end to end on a fresh machine. It installs what it needs (apt:
# docker-registry, openssl, curl, jq), builds cosign, tlog-server and rekor-cli, starts a local
# OCI registry and a local transparency log on 127.0.0.1, pushes a small image, then signs and
# verifies the image (both storage formats) and a blob (three formats) with every signature
# recorded in the log, finds a signature again with rekor-cli (the seed's "Hard mode"),
# signs a blob and the image keyless (Level 11: an OIDC token, the real Fulcio and timestamp
# authority built with go install, no key anywhere) and verifies them by identity, verifies
# bundles with the log and services stopped, cross-checks signatures with openssl, and verifies
# a real keyless (Fulcio certificate) bundle offline by its GitHub Actions workflow identity.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-test-deps.sh --no-ferro
# DEMO_PROFILE=debug reuses the test build (target/debug, as `cargo test` builds it: the same
# features, so nothing is rebuilt after scripts/test.sh) instead of building in release.
profile=${DEMO_PROFILE:-release}
case "$profile" in
  release)
    cargo build --release --locked -q -p cosign-cli -p tlog-server -p rekor-cli
    cargo build --release --locked -q -p test-support --bin sigstore-stack
    ;;
  debug) cargo build --locked -q --workspace --tests ;;
  *) echo "DEMO_PROFILE must be release or debug, not $profile" >&2; exit 2 ;;
esac
COSIGN="$PWD/target/$profile/cosign"
TLOG_SERVER="$PWD/target/$profile/tlog-server"
REKOR_CLI="$PWD/target/$profile/rekor-cli"
SIGSTORE_STACK="$PWD/target/$profile/sigstore-stack"
CONFORMANCE="$PWD/crates/cosign-cli/tests/data/conformance"
work=$(mktemp -d)
cd "$work"
cleanup() {
  if [ -n "${stack_pid:-}" ]; then touch "$work/sigstore/stop"; wait "$stack_pid" 2>/dev/null; fi
  [ -n "${registry_pid:-}" ] && kill "$registry_pid" 2>/dev/null
  [ -n "${tlog_pid:-}" ] && kill "$tlog_pid" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT
step() { printf '\n\033[1m$ %s\033[0m\n' "$*"; }
export COSIGN_PASSWORD=demo-password

# --- a local registry -------------------------------------------------------------------------
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
cat > registry.yml <<YML
version: 0.1
log: { level: error, accesslog: { disabled: true } }
storage: { filesystem: { rootdirectory: $work/registry }, delete: { enabled: true } }
http: { addr: 127.0.0.1:$port }
YML
/usr/bin/docker-registry serve registry.yml > registry.log 2>&1 &
registry_pid=$!
for _ in $(seq 100); do curl -fs "http://127.0.0.1:$port/v2/" >/dev/null && break; sleep 0.05; done
REG="127.0.0.1:$port"
echo "registry listening on $REG"

# --- push a tiny image with plain distribution API calls --------------------------------------
push_blob() { # file -> digest
  local d; d="sha256:$(openssl dgst -sha256 -r "$1" | cut -d' ' -f1)"
  local loc; loc=$(curl -fsSi -X POST "http://$REG/v2/demo/app/blobs/uploads/" | tr -d '\r' | awk 'tolower($1)=="location:" {print $2}')
  case "$loc" in http*) ;; *) loc="http://$REG$loc" ;; esac
  case "$loc" in *\?*) loc="$loc&digest=$d" ;; *) loc="$loc?digest=$d" ;; esac
  curl -fsS -X PUT -H 'Content-Type: application/octet-stream' --data-binary @"$1" "$loc" >/dev/null
  echo "$d"
}
echo "hello from cosign-rs" > hello.txt
tar -cf layer.tar hello.txt && gzip -n -f layer.tar
diff_id="sha256:$(gzip -dc layer.tar.gz | openssl dgst -sha256 -r | cut -d' ' -f1)"
printf '{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":["%s"]},"config":{}}' "$diff_id" > config.json
cfg=$(push_blob config.json); layer=$(push_blob layer.tar.gz)
printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","size":%d,"digest":"%s"},"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","size":%d,"digest":"%s"}]}' \
  "$(stat -c %s config.json)" "$cfg" "$(stat -c %s layer.tar.gz)" "$layer" > manifest.json
curl -fsS -X PUT -H 'Content-Type: application/vnd.oci.image.manifest.v1+json' --data-binary @manifest.json "http://$REG/v2/demo/app/manifests/v1" >/dev/null
IMAGE="$REG/demo/app@sha256:$(openssl dgst -sha256 -r manifest.json | cut -d' ' -f1)"
echo "pushed $IMAGE"

# --- a local transparency log ------------------------------------------------------------------
"$TLOG_SERVER" serve --data-dir "$work/tlog" --addr 127.0.0.1:0 2> tlog.log &
tlog_pid=$!
for _ in $(seq 200); do grep -q "listening on" tlog.log && break; sleep 0.05; done
LOG=$(sed -n 's/.*listening on \(http[^ ]*\).*/\1/p' tlog.log | head -n 1)
echo "transparency log listening on $LOG"
"$TLOG_SERVER" public-key --data-dir "$work/tlog" > rekor.pub
"$TLOG_SERVER" trusted-root --data-dir "$work/tlog" --url "$LOG" > trusted_root.json
export SIGSTORE_REKOR_PUBLIC_KEY="$work/rekor.pub" COSIGN_REKOR_URL="$LOG"

step cosign generate-key-pair
"$COSIGN" generate-key-pair

# --- images -----------------------------------------------------------------------------------
step cosign sign --key cosign.key -a env=demo "$IMAGE"
"$COSIGN" sign --key cosign.key -a env=demo "$IMAGE"
step cosign verify --key cosign.pub -a env=demo "$REG/demo/app:v1"
"$COSIGN" verify --key cosign.pub -a env=demo "$REG/demo/app:v1"
step cosign triangulate "$REG/demo/app:v1"
"$COSIGN" triangulate "$REG/demo/app:v1"
step cosign sign --key cosign.key --new-bundle-format "$IMAGE"
"$COSIGN" sign --key cosign.key --new-bundle-format "$IMAGE"
step cosign clean -f --type signature "$IMAGE" '&&' cosign verify ... '(finds the bundle referrer)'
"$COSIGN" clean -f --type signature "$IMAGE"
"$COSIGN" verify --key cosign.pub "$IMAGE"

# --- blobs ------------------------------------------------------------------------------------
echo "hello from cosign-rs" > artifact.txt
step cosign sign-blob --key cosign.key artifact.txt
sig=$("$COSIGN" sign-blob --key cosign.key artifact.txt)
echo "$sig"
step cosign verify-blob --key cosign.pub --signature "<sig>" artifact.txt '(looked up in the log)'
"$COSIGN" verify-blob --key cosign.pub --signature "$sig" artifact.txt

step 'uuid=$(rekor-cli search --artifact artifact.txt | tail -n 1); rekor-cli get --uuid=$uuid --format=json | jq -r .Body.HashedRekordObj.signature.content'
uuid=$("$REKOR_CLI" --rekor_server "$LOG" search --artifact artifact.txt | tail -n 1)
logged=$("$REKOR_CLI" --rekor_server "$LOG" get --uuid="$uuid" --format=json | jq -r .Body.HashedRekordObj.signature.content)
echo "$logged"
[ "$logged" = "$sig" ] || { echo "the log holds a different signature: demo FAILED" >&2; exit 1; }

step cosign sign-blob --key cosign.key --new-bundle-format=false --bundle artifact.bundle artifact.txt
"$COSIGN" sign-blob --key cosign.key --new-bundle-format=false --bundle artifact.bundle artifact.txt >/dev/null
step cosign sign-blob --key cosign.key --bundle artifact.sigstore.json artifact.txt
"$COSIGN" sign-blob --key cosign.key --bundle artifact.sigstore.json artifact.txt

# --- Level 11: keyless. The signature goes to the log, the keys nowhere -------------------------
# A private Sigstore on 127.0.0.1: an OIDC issuer, the real Fulcio (with a CT log) and the real
# timestamp authority (both built from the Go module proxy by install-test-deps), and the log
# above (Rekor v2 API). The identity token comes from the environment the way GitHub Actions
# hands it out (ACTIONS_ID_TOKEN_REQUEST_URL/_TOKEN): no key file, no password.
mkdir -p "$work/sigstore"
"$SIGSTORE_STACK" "$work/sigstore" "$LOG" trusted_root.json > sigstore.log 2>&1 &
stack_pid=$!
for _ in $(seq 400); do [ -e "$work/sigstore/ready" ] && break; sleep 0.05; done
[ -e "$work/sigstore/ready" ] || { cat sigstore.log >&2; echo "the private Sigstore did not start: demo FAILED" >&2; exit 1; }
# shellcheck disable=SC1091
. "$work/sigstore/env"
cp "$work/sigstore/trusted_root.json" keyless_root.json
cp "$work/sigstore/signing_config.json" signing_config.json
echo "OIDC issuer $OIDC_ISSUER, Fulcio $FULCIO_URL, timestamp authority $TSA_URL, log $LOG"
keyless() { env -u COSIGN_PASSWORD -u COSIGN_REKOR_URL -u SIGSTORE_REKOR_PUBLIC_KEY "$COSIGN" "$@"; }
step cosign sign-blob --signing-config signing_config.json --trusted-root keyless_root.json --bundle keyless.sigstore.json artifact.txt
keyless sign-blob --yes --signing-config signing_config.json --trusted-root keyless_root.json \
  --bundle keyless.sigstore.json artifact.txt
jq -c '{certificate: (.verificationMaterial.certificate.rawBytes != null), log: .verificationMaterial.tlogEntries[0].kindVersion, timestamps: (.verificationMaterial.timestampVerificationData.rfc3161Timestamps | length)}' keyless.sigstore.json
step cosign verify-blob --trusted-root keyless_root.json --certificate-identity "$IDENTITY" --certificate-oidc-issuer "$OIDC_ISSUER" --bundle keyless.sigstore.json artifact.txt
keyless verify-blob --trusted-root keyless_root.json --certificate-identity "$IDENTITY" \
  --certificate-oidc-issuer "$OIDC_ISSUER" --bundle keyless.sigstore.json artifact.txt
step cosign sign --fulcio-url "$FULCIO_URL" --rekor-url "$LOG" --timestamp-server-url "$TSA_URL" --trusted-root keyless_root.json "$IMAGE"
keyless sign --yes --fulcio-url "$FULCIO_URL" --rekor-url "$LOG" --timestamp-server-url "$TSA_URL" \
  --trusted-root keyless_root.json "$IMAGE"
step cosign verify --trusted-root keyless_root.json --certificate-identity "$IDENTITY" --certificate-oidc-issuer "$OIDC_ISSUER" "$IMAGE"
keyless verify --trusted-root keyless_root.json --certificate-identity "$IDENTITY" \
  --certificate-oidc-issuer "$OIDC_ISSUER" "$IMAGE" | jq -c '.[] | .optional.Subject'
step "the keyless image for another identity (must fail)"
if keyless verify --trusted-root keyless_root.json --certificate-identity someone@else.example \
  --certificate-oidc-issuer "$OIDC_ISSUER" "$IMAGE" >/dev/null; then
  echo "a keyless signature verified for the wrong identity: demo FAILED" >&2
  exit 1
fi
touch "$work/sigstore/stop"; wait "$stack_pid" 2>/dev/null || true; stack_pid=

step "kill the transparency log; bundles still verify offline"
kill "$tlog_pid"; wait "$tlog_pid" 2>/dev/null || true; tlog_pid=
"$COSIGN" verify-blob --key cosign.pub --bundle artifact.bundle --offline artifact.txt
digest="sha256:$(openssl dgst -sha256 -r artifact.txt | cut -d' ' -f1)"
step cosign verify-blob --key cosign.pub --bundle artifact.sigstore.json --trusted-root trusted_root.json --offline "$digest"
"$COSIGN" verify-blob --key cosign.pub --bundle artifact.sigstore.json --trusted-root trusted_root.json --offline "$digest"
step cosign verify --key cosign.pub --offline "$IMAGE"
"$COSIGN" verify --key cosign.pub --offline "$IMAGE" >/dev/null
step "keyless, offline: Fulcio, the TSA and the log are all gone"
keyless verify-blob --trusted-root keyless_root.json --certificate-identity "$IDENTITY" \
  --certificate-oidc-issuer "$OIDC_ISSUER" --bundle keyless.sigstore.json --offline artifact.txt
keyless verify --trusted-root keyless_root.json --certificate-identity "$IDENTITY" \
  --certificate-oidc-issuer "$OIDC_ISSUER" --offline "$IMAGE" >/dev/null && echo "image: Verified OK (offline)"

step "openssl dgst -sha256 -verify cosign.pub -signature <raw sig> artifact.txt"
echo "$sig" | base64 -d > artifact.sig.der
openssl dgst -sha256 -verify cosign.pub -signature artifact.sig.der artifact.txt

# --- keyless verification: a real public-good bundle made by a GitHub Actions workflow ----------
# (Fulcio certificate, SCT, Rekor entry; from the Sigstore conformance suite), checked offline
# against the public-good trusted root by the workflow identity.
WORKFLOW="https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon/.github/workflows/extremely-dangerous-oidc-beacon.yml@refs/heads/main"
step cosign verify-blob --bundle happy-path.sigstore.json --trusted-root public-good.json \
  --certificate-identity "$WORKFLOW" --certificate-oidc-issuer https://token.actions.githubusercontent.com a.txt
cp "$CONFORMANCE/bundle-verify/happy-path-v0.3/bundle.sigstore.json" happy-path.sigstore.json
cp "$CONFORMANCE/public-good/trusted_root.json" public-good.json
cp "$CONFORMANCE/a.txt" a.txt
"$COSIGN" verify-blob --bundle happy-path.sigstore.json --trusted-root public-good.json \
  --certificate-identity "$WORKFLOW" --certificate-oidc-issuer https://token.actions.githubusercontent.com a.txt
step "the same bundle for another identity (must fail)"
if "$COSIGN" verify-blob --bundle happy-path.sigstore.json --trusted-root public-good.json \
  --certificate-identity-regexp '^https://github.com/someone-else/' \
  --certificate-oidc-issuer https://token.actions.githubusercontent.com a.txt; then
  echo "a keyless bundle verified for the wrong identity: demo FAILED" >&2
  exit 1
fi

step "echo tampered >> artifact.txt; cosign verify-blob ... (must fail)"
echo tampered >> artifact.txt
if "$COSIGN" verify-blob --key cosign.pub --bundle artifact.bundle --offline artifact.txt; then
  echo "tampered artifact verified: demo FAILED" >&2
  exit 1
fi
printf '\nDemo finished: image signatures in both storage formats and blob signatures in three formats, all recorded in the local transparency log and verified (online and offline), keyless signing of a blob and an image with no key anywhere (token, Fulcio, timestamp authority and log; verified by identity, then offline), openssl interop, and a real public-good keyless bundle verified offline by its workflow identity.\n'
