#!/usr/bin/env bash
# The demo: builds cosign, then runs the main job end to end in a scratch directory.
# Today that is keys and blobs (the registry and transparency-log parts join this script as
# those features land): generate a key pair, sign a file three ways, verify each, and
# cross-check the signature with openssl.
set -euo pipefail
cd "$(dirname "$0")/.."

cargo build --release --locked -q -p cosign-cli
COSIGN="$PWD/target/release/cosign"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"
step() { printf '\n\033[1m$ %s\033[0m\n' "$*"; }

export COSIGN_PASSWORD=demo-password

step cosign generate-key-pair
"$COSIGN" generate-key-pair

echo "hello from cosign-rs" > artifact.txt

step cosign sign-blob --key cosign.key --tlog-upload=false artifact.txt
sig=$("$COSIGN" sign-blob --key cosign.key --tlog-upload=false artifact.txt)
echo "$sig"

step cosign verify-blob --key cosign.pub --signature "<sig>" --insecure-ignore-tlog artifact.txt
"$COSIGN" verify-blob --key cosign.pub --signature "$sig" --insecure-ignore-tlog artifact.txt

step cosign sign-blob --key cosign.key --tlog-upload=false --bundle artifact.bundle artifact.txt
"$COSIGN" sign-blob --key cosign.key --tlog-upload=false --bundle artifact.bundle artifact.txt >/dev/null
step cosign verify-blob --key cosign.pub --bundle artifact.bundle --insecure-ignore-tlog artifact.txt
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
printf '\nDemo finished: keys, blob signatures, both bundle formats and openssl interop all worked.\n'
