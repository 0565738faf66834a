#!/usr/bin/env python3
"""Records what Go cosign 3.1.2 does for each `signing-config create` case into go-3.1.2.json.

Usage: record.py /path/to/go/cosign   (built with
`GOBIN=/tmp/gotools go install github.com/sigstore/cosign/v3/cmd/cosign@v3.1.2`)

Each case runs in a temporary directory holding this directory's JSON inputs. Recorded: the
exit code, stdout, and the `Error: ...` line of stderr. The test (tests/cli/signing_config.rs)
runs our cosign the same way and compares; it ignores protojson's deliberately random space
after commas and the `(line L:C)` positions of protojson's messages.
"""

import json
import os
import shutil
import subprocess
import sys
import tempfile

FULCIO = "url=https://fulcio.sigstore.dev,api-version=1,start-time=2024-01-01T00:00:00Z,end-time=2025-01-01T00:00:00Z,operator=sigstore.dev"
REKOR = "url=https://rekor.sigstore.dev,api-version=1,start-time=2024-01-01T00:00:00Z,operator=sigstore.dev"
OIDC = "url=https://oauth2.sigstore.dev/auth,api-version=1,start-time=2024-01-01T00:00:00Z,operator=sigstore.dev"
TSA = "url=https://timestamp.sigstore.dev/api/v1/timestamp,api-version=1,start-time=2024-01-01T00:00:00Z,operator=sigstore.dev"
SPEC = "url=https://x.example,api-version=1,start-time=2024-01-01T00:00:00Z,operator=x"

CASES = [
    # The help text's first example.
    ["--fulcio=" + FULCIO, "--rekor=" + REKOR, "--rekor-config=ANY", "--oidc-provider=" + OIDC,
     "--tsa=" + TSA, "--tsa-config=EXACT:1"],
    [],
    ["ignored", "positional"],
    # Several services of a kind, in order; spaces trimmed, later keys win, unknown keys ignored.
    ["--rekor", REKOR, "--rekor", " url = https://r2.example , api-version=2,start-time=2025-01-01T00:00:00.5+01:00,operator=a,operator=b,color=red", "--rekor-config", "all"],
    ["--tsa", TSA.replace("00:00:00Z", "00:00:00.123456Z"), "--tsa-config", "exact:3"],
    ["--fulcio", SPEC + ",end-time=0001-01-01T00:00:00Z"],
    ["--fulcio", SPEC.replace("T00:", "T1:")],
    ["--fulcio", SPEC.replace("https://x.example", "https://x.example/a=b") + ",end-time=2030-01-01T00:00:00-07:00"],
    ["--fulcio", SPEC.replace("api-version=1", "api-version=0")],
    ["--rekor-config", "EXACT:0"],
    ["--tsa-config", "any", "--rekor-config", "ALL"],
    # Errors, in Go's order of checks.
    ["--rekor", REKOR],
    ["--tsa", "x"],
    ["--rekor", "x", "--rekor-config", "ANY"],
    ["--rekor", "url=x", "--rekor-config", "ANY"],
    ["--fulcio", ""],
    ["--fulcio", SPEC + ","],
    ["--fulcio", SPEC.replace("url=https://x.example", "url=")],
    ["--fulcio", SPEC.replace("operator=x", "operator= ")],
    ["--fulcio", SPEC.replace("api-version=1", "api-version=a")],
    ["--fulcio", SPEC.replace("api-version=1", "api-version=+1")],
    ["--fulcio", SPEC.replace("api-version=1", "api-version=-1")],
    ["--fulcio", SPEC.replace("api-version=1", "api-version=4294967296")],
    ["--fulcio", SPEC.replace("2024-01-01T00:00:00Z", "2024-01-01")],
    ["--fulcio", SPEC.replace("2024-01-01T00:00:00Z", "2024-02-30T00:00:00Z")],
    ["--fulcio", SPEC + ",end-time=bad"],
    ["--fulcio", SPEC.replace("2024-01-01T00:00:00Z", "0000-01-01T00:00:00Z")],
    ["--oidc-provider", "x", "--tsa", "y", "--tsa-config", "ANY"],
    ["--rekor-config", "ANY:1"],
    ["--rekor-config", "all:"],
    ["--rekor-config", "EXACT"],
    ["--rekor-config", "EXACT:"],
    ["--rekor-config", "EXACT:x"],
    ["--rekor-config", "foo"],
    ["--tsa-config", "bar:1"],
    ["--rekor-config", "foo", "--fulcio", "x"],
    # Base configs.
    ["--base-config", "staging.json"],
    ["--base-config", "staging.json", "--tsa", SPEC, "--tsa-config", "ALL", "--no-default-oidc"],
    ["--base-config", "staging.json", "--no-default-fulcio", "--no-default-rekor", "--no-default-tsa", "--rekor-config", "ANY"],
    ["--base-config", "staging.json", "--rekor", SPEC, "--rekor-config", "EXACT:1", "--fulcio", SPEC],
    ["--base-config", "custom.json"],
    ["--base-config", "custom.json", "--rekor-config", "any"],
    ["--base-config", "nonexistent.json"],
    ["--base-config", "v01.json"],
    ["--base-config", "unknown-field.json"],
    ["--base-config", "bad-time.json"],
    ["--base-config", "bad-selector.json"],
    ["--base-config", "not-an-object.json"],
    ["--base-config", "staging.json", "--with-default-services"],
    ["--base-config", "staging.json", "--with-default-rekor-v2"],
    ["--base-config", "staging.json", "--with-default-rekor-v2", "--with-default-services"],
    ["--base-config", "nonexistent.json", "--rekor", REKOR],
]


def main():
    cosign = sys.argv[1]
    here = os.path.dirname(os.path.abspath(__file__))
    out = []
    for args in CASES:
        with tempfile.TemporaryDirectory() as tmp:
            for name in os.listdir(here):
                if name.endswith(".json") and not name.startswith("go-"):
                    shutil.copy(os.path.join(here, name), tmp)
            env = {"PATH": "/usr/bin:/bin", "HOME": tmp}
            p = subprocess.run([cosign, "signing-config", "create", *args], cwd=tmp, env=env,
                               capture_output=True, text=True, timeout=60)
        error = next((l for l in p.stderr.splitlines() if l.startswith("Error: ")), None)
        out.append({"args": args, "code": p.returncode, "stdout": p.stdout, "error": error})
    with open(os.path.join(here, "go-3.1.2.json"), "w") as f:
        json.dump(out, f, indent=1, ensure_ascii=False)
        f.write("\n")


if __name__ == "__main__":
    main()
