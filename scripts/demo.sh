#!/usr/bin/env bash
# The demo: the main job end to end on a fresh machine. It installs what it needs (apt:
# docker-registry, openssl, curl), builds cosign, starts a local OCI registry on 127.0.0.1,
# pushes a small image, then signs and verifies the image (both storage formats) and a blob
# (three formats), and cross-checks signatures with openssl.
# (A local transparency log joins this demo when the tlog feature lands; until then signing
# uses --tlog-upload=false and verification --insecure-ignore-tlog.)
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-test-deps.sh --no-ferro
cargo build --release --locked -q -p cosign-cli
COSIGN="$PWD/target/release/cosign"
work=$(mktemp -d)
cd "$work"
cleanup() { [ -n "${registry_pid:-}" ] && kill "$registry_pid" 2>/dev/null; rm -rf "$work"; }
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

step cosign generate-key-pair
"$COSIGN" generate-key-pair

# --- images -----------------------------------------------------------------------------------
step cosign sign --key cosign.key --tlog-upload=false -a env=demo "$IMAGE"
"$COSIGN" sign --key cosign.key --tlog-upload=false -a env=demo "$IMAGE"
step cosign verify --key cosign.pub --insecure-ignore-tlog -a env=demo "$REG/demo/app:v1"
"$COSIGN" verify --key cosign.pub --insecure-ignore-tlog -a env=demo "$REG/demo/app:v1"
step cosign triangulate "$REG/demo/app:v1"
"$COSIGN" triangulate "$REG/demo/app:v1"
step cosign sign --key cosign.key --tlog-upload=false --new-bundle-format "$IMAGE"
"$COSIGN" sign --key cosign.key --tlog-upload=false --new-bundle-format "$IMAGE"
step cosign clean -f --type signature "$IMAGE" '&&' cosign verify ... '(finds the bundle referrer)'
"$COSIGN" clean -f --type signature "$IMAGE"
"$COSIGN" verify --key cosign.pub --insecure-ignore-tlog "$IMAGE"

# --- blobs ------------------------------------------------------------------------------------
echo "hello from cosign-rs" > artifact.txt
step cosign sign-blob --key cosign.key --tlog-upload=false artifact.txt
sig=$("$COSIGN" sign-blob --key cosign.key --tlog-upload=false artifact.txt)
echo "$sig"
step cosign verify-blob --key cosign.pub --signature "<sig>" --insecure-ignore-tlog artifact.txt
"$COSIGN" verify-blob --key cosign.pub --signature "$sig" --insecure-ignore-tlog artifact.txt
step cosign sign-blob --key cosign.key --tlog-upload=false --bundle artifact.bundle artifact.txt
"$COSIGN" sign-blob --key cosign.key --tlog-upload=false --bundle artifact.bundle artifact.txt >/dev/null
"$COSIGN" verify-blob --key cosign.pub --bundle artifact.bundle --insecure-ignore-tlog artifact.txt
step cosign sign-blob --key cosign.key --tlog-upload=false --new-bundle-format --bundle artifact.sigstore.json artifact.txt
"$COSIGN" sign-blob --key cosign.key --tlog-upload=false --new-bundle-format --bundle artifact.sigstore.json artifact.txt
digest="sha256:$(openssl dgst -sha256 -r artifact.txt | cut -d' ' -f1)"
step cosign verify-blob --key cosign.pub --bundle artifact.sigstore.json --insecure-ignore-tlog "$digest"
"$COSIGN" verify-blob --key cosign.pub --bundle artifact.sigstore.json --insecure-ignore-tlog "$digest"

step "openssl dgst -sha256 -verify cosign.pub -signature <raw sig> artifact.txt"
echo "$sig" | base64 -d > artifact.sig.der
openssl dgst -sha256 -verify cosign.pub -signature artifact.sig.der artifact.txt

step "echo tampered >> artifact.txt; cosign verify-blob ... (must fail)"
echo tampered >> artifact.txt
if "$COSIGN" verify-blob --key cosign.pub --signature "$sig" --insecure-ignore-tlog artifact.txt; then
  echo "tampered artifact verified: demo FAILED" >&2
  exit 1
fi
printf '\nDemo finished: image signatures in both storage formats, blob signatures in three formats, and openssl interop all worked.\n'
