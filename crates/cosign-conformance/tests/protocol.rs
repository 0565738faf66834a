//! The protocol translation, argv for argv, and the built entry point end to end: against a
//! stand-in cosign that records what it is given, and against the real `cosign` on the
//! managed-key conformance cases.
//!
//! The real-cosign tests need the `cosign` binary: `$COSIGN_BIN`, else the one next to
//! `cosign-conformance` in the target directory (`cargo build -p cosign-cli --bin cosign`;
//! `cargo test --workspace` builds it before running any test).
// Test code: a failed unwrap is a failed test, and the tests read COSIGN_BIN.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::disallowed_methods
)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use cosign_conformance::{Facts, Plan, Request, Signer, UsageError, parse, plan};
use sha2::{Digest as _, Sha256};

fn args(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| (*s).to_owned()).collect()
}

fn translate(list: &[&str], facts: Facts) -> Plan {
    plan(&parse(&args(list)).unwrap(), &facts)
}

fn usage(list: &[&str]) -> String {
    let UsageError(msg) = parse(&args(list)).unwrap_err();
    msg
}

const DIGEST: &str = "sha256:4bc453b53cb3d914b45f4b250294236adba2c0e09ff6f03793949e7e39fd4cc1";

// ---- argv, form by form ------------------------------------------------------------------

#[test]
fn sign_bundle() {
    let p = translate(
        &[
            "sign-bundle",
            "--identity-token",
            "TOK",
            "--bundle",
            "out.json",
            "a.txt",
        ],
        Facts::default(),
    );
    assert_eq!(p.initialize, Some(args(&["initialize"])));
    assert_eq!(
        p.command,
        args(&[
            "sign-blob",
            "-y",
            "--new-bundle-format",
            "--bundle",
            "out.json",
            "--identity-token",
            "TOK",
            "a.txt"
        ])
    );
}

#[test]
fn sign_bundle_staging_in_toto_with_trust_files() {
    let p = translate(
        &[
            "sign-bundle",
            "--staging",
            "--in-toto",
            "--identity-token",
            "TOK",
            "--bundle",
            "/t/out.json",
            "--trusted-root",
            "/t/root.json",
            "--signing-config",
            "/t/sc.json",
            "/t/statement.json",
        ],
        Facts::default(),
    );
    // Every piece of trust material comes from files: no TUF initialization.
    assert_eq!(p.initialize, None);
    assert_eq!(
        p.command,
        args(&[
            "attest-blob",
            "-y",
            "--new-bundle-format",
            "--bundle",
            "/t/out.json",
            "--identity-token",
            "TOK",
            "--trusted-root",
            "/t/root.json",
            "--signing-config",
            "/t/sc.json",
            "--statement",
            "/t/statement.json"
        ])
    );
}

#[test]
fn sign_bundle_staging_initializes_staging() {
    let p = translate(
        &[
            "sign-bundle",
            "--staging",
            "--identity-token",
            "TOK",
            "--bundle",
            "b.json",
            "--trusted-root",
            "root.json",
            "a.txt",
        ],
        Facts::default(),
    );
    // A trusted root alone does not say where to sign: the signing config comes from TUF.
    assert_eq!(p.initialize, Some(args(&["initialize", "--staging"])));
    assert_eq!(
        p.command,
        args(&[
            "sign-blob",
            "-y",
            "--new-bundle-format",
            "--bundle",
            "b.json",
            "--identity-token",
            "TOK",
            "--trusted-root",
            "root.json",
            "a.txt"
        ])
    );
}

#[test]
fn verify_bundle_identity() {
    let p = translate(
        &[
            "verify-bundle",
            "--bundle",
            "b.json",
            "--certificate-identity",
            "me@example.com",
            "--certificate-oidc-issuer",
            "https://issuer.example",
            "a.txt",
        ],
        Facts {
            bundle_has_signed_timestamps: false,
            input_exists: true,
        },
    );
    assert_eq!(p.initialize, Some(args(&["initialize"])));
    assert_eq!(
        p.command,
        args(&[
            "verify-blob",
            "--bundle",
            "b.json",
            "--certificate-identity",
            "me@example.com",
            "--certificate-oidc-issuer",
            "https://issuer.example",
            "a.txt"
        ])
    );
}

#[test]
fn verify_bundle_identity_staging_timestamps_trusted_root_digest() {
    let p = translate(
        &[
            "verify-bundle",
            "--staging",
            "--bundle",
            "b.json",
            "--certificate-identity",
            "me@example.com",
            "--certificate-oidc-issuer",
            "https://issuer.example",
            "--trusted-root",
            "root.json",
            DIGEST,
        ],
        Facts {
            bundle_has_signed_timestamps: true,
            input_exists: false,
        },
    );
    assert_eq!(p.initialize, None);
    assert_eq!(
        p.command,
        args(&[
            "verify-blob",
            "--use-signed-timestamps",
            "--bundle",
            "b.json",
            "--certificate-identity",
            "me@example.com",
            "--certificate-oidc-issuer",
            "https://issuer.example",
            "--trusted-root",
            "root.json",
            DIGEST
        ])
    );
}

#[test]
fn verify_bundle_key() {
    let p = translate(
        &[
            "verify-bundle",
            "--bundle",
            "b.json",
            "--key",
            "k.pub",
            "a.txt",
        ],
        Facts {
            bundle_has_signed_timestamps: true,
            input_exists: true,
        },
    );
    assert_eq!(p.initialize, Some(args(&["initialize"])));
    assert_eq!(
        p.command,
        args(&[
            "verify-blob",
            "--use-signed-timestamps",
            "--bundle",
            "b.json",
            "--key",
            "k.pub",
            "a.txt"
        ])
    );
}

#[test]
fn verify_bundle_key_staging_trusted_root() {
    let p = translate(
        &[
            "verify-bundle",
            "--staging",
            "--bundle",
            "b.json",
            "--key",
            "k.pub",
            "--trusted-root",
            "root.json",
            "a.txt",
        ],
        Facts {
            bundle_has_signed_timestamps: false,
            input_exists: true,
        },
    );
    assert_eq!(p.initialize, None);
    // --trusted-root before --key, as upstream orders them.
    assert_eq!(
        p.command,
        args(&[
            "verify-blob",
            "--bundle",
            "b.json",
            "--trusted-root",
            "root.json",
            "--key",
            "k.pub",
            "a.txt"
        ])
    );
}

#[test]
fn file_or_digest() {
    let verify = |input: &str, exists: bool| {
        translate(
            &[
                "verify-bundle",
                "--bundle",
                "b",
                "--key",
                "k",
                "--trusted-root",
                "r",
                input,
            ],
            Facts {
                bundle_has_signed_timestamps: false,
                input_exists: exists,
            },
        )
        .command
        .last()
        .cloned()
        .unwrap()
    };
    // A digest: sha256:, 64 hex digits, and no such path.
    assert_eq!(verify(DIGEST, false), DIGEST);
    // A path of that name: read as a file, which cosign must not take for a digest.
    assert_eq!(verify(DIGEST, true), format!("./{DIGEST}"));
    // Not the digest form: a path (cosign would read a missing sha512:<hex> as a digest).
    let sha512 = format!("sha512:{}", "a".repeat(128));
    assert_eq!(verify(&sha512, false), format!("./{sha512}"));
    let short = "sha256:abcd";
    assert_eq!(verify(short, false), format!("./{short}"));
    assert_eq!(verify("/abs/a.txt", true), "/abs/a.txt");
    assert_eq!(verify("-", false), "./-");
}

#[test]
fn parsed_request() {
    let r = parse(&args(&[
        "verify-bundle",
        "--bundle",
        "b",
        "--key",
        "k",
        "a.txt",
    ]))
    .unwrap();
    let Request::Verify(v) = r else {
        panic!("not verify-bundle: {r:?}")
    };
    assert_eq!(v.signer, Signer::Key("k".to_owned()));
    assert!(!v.staging);
    assert_eq!(v.trusted_root, None);
    assert_eq!(v.file_or_digest, "a.txt");
}

// ---- protocol errors ---------------------------------------------------------------------

#[test]
fn protocol_errors_name_the_problem() {
    let cases: &[(&[&str], &str)] = &[
        (&[], "missing subcommand"),
        (&["sign"], "unknown subcommand \"sign\""),
        (
            &["verify-bundle", "--bundle", "b", "--key", "k"],
            "missing FILE_OR_DIGEST",
        ),
        (
            &["verify-bundle", "--key", "k", "a"],
            "missing required option --bundle",
        ),
        (
            &["verify-bundle", "--bundle", "b", "a"],
            "either --certificate-identity",
        ),
        (
            &[
                "verify-bundle",
                "--bundle",
                "b",
                "--certificate-identity",
                "i",
                "a",
            ],
            "--certificate-identity needs --certificate-oidc-issuer",
        ),
        (
            &[
                "verify-bundle",
                "--bundle",
                "b",
                "--certificate-oidc-issuer",
                "u",
                "a",
            ],
            "--certificate-oidc-issuer needs --certificate-identity",
        ),
        (
            &[
                "verify-bundle",
                "--bundle",
                "b",
                "--certificate-identity",
                "i",
                "--certificate-oidc-issuer",
                "u",
                "--key",
                "k",
                "a",
            ],
            "--key cannot be combined",
        ),
        (&["verify-bundle", "--bundle"], "--bundle needs a value"),
        (
            &["verify-bundle", "--bundle", "", "--key", "k", "a"],
            "non-empty value",
        ),
        (
            &[
                "verify-bundle",
                "--bundle",
                "b",
                "--bundle",
                "c",
                "--key",
                "k",
                "a",
            ],
            "--bundle given more than once",
        ),
        (
            &[
                "verify-bundle",
                "--bundle",
                "b",
                "--key",
                "k",
                "--offline",
                "a",
            ],
            "unknown option --offline",
        ),
        (
            &["verify-bundle", "--bundle", "b", "--key", "k", "a", "b"],
            "one FILE_OR_DIGEST expected",
        ),
        (
            &["verify-bundle", "--bundle", "b", "a", "--key", "k"],
            "FILE_OR_DIGEST must be the last argument",
        ),
        (
            &[
                "verify-bundle",
                "--in-toto",
                "--bundle",
                "b",
                "--key",
                "k",
                "a",
            ],
            "--in-toto is not an option of verify-bundle",
        ),
        (
            &["sign-bundle", "--bundle", "b", "a"],
            "missing required option --identity-token",
        ),
        (
            &["sign-bundle", "--identity-token", "t", "a"],
            "missing required option --bundle",
        ),
        (
            &["sign-bundle", "--identity-token", "t", "--bundle", "b"],
            "missing FILE",
        ),
        (
            &[
                "sign-bundle",
                "--identity-token",
                "t",
                "--bundle",
                "b",
                "--key",
                "k",
                "a",
            ],
            "--key is not an option of sign-bundle",
        ),
    ];
    for (list, want) in cases {
        let got = usage(list);
        assert!(
            got.contains(want),
            "{list:?}: {got:?} does not contain {want:?}"
        );
    }
}

// ---- the built entry point ---------------------------------------------------------------

const BIN: &str = env!("CARGO_BIN_EXE_cosign-conformance");

fn conformance(list: &[&str], cosign: &Path) -> Output {
    Command::new(BIN)
        .args(list)
        .env("COSIGN_BIN", cosign)
        .output()
        .unwrap()
}

#[test]
fn usage_errors_exit_2() {
    let out = Command::new(BIN)
        .args(["verify-bundle", "--bundle", "b", "a.txt"])
        .env("COSIGN_BIN", "/nonexistent/cosign")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("give either --certificate-identity"),
        "{stderr}"
    );
    assert!(stderr.contains("Usage:"), "{stderr}");
    assert!(out.stdout.is_empty());

    let out = Command::new(BIN).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
}

/// A stand-in cosign: appends its arguments (one line per call) to `calls`, prints a line on
/// each stream, and exits `$FAKE_EXIT` when its subcommand is `$FAKE_FAIL_AT` (else 0).
#[cfg(unix)]
fn fake_cosign(dir: &Path) -> PathBuf {
    use std::os::unix::fs::PermissionsExt;
    let path = dir.join("cosign");
    let script = format!(
        "#!/bin/sh\nprintf '%s\\n' \"$*\" >> '{}'\necho \"out:$1\"\necho \"err:$1\" >&2\n\
         if [ \"$1\" = \"$FAKE_FAIL_AT\" ]; then exit \"$FAKE_EXIT\"; fi\nexit 0\n",
        dir.join("calls").display()
    );
    std::fs::write(&path, script).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    path
}

#[cfg(unix)]
#[test]
fn runs_initialize_then_the_command_and_passes_output_through() {
    let dir = tempfile::tempdir().unwrap();
    let cosign = fake_cosign(dir.path());
    let bundle = dir.path().join("b.json");
    std::fs::write(
        &bundle,
        r#"{"verificationMaterial":{"timestampVerificationData":{"rfc3161Timestamps":[{"signedTimestamp":"AA=="}]}}}"#,
    )
    .unwrap();
    let out = conformance(
        &[
            "verify-bundle",
            "--staging",
            "--bundle",
            bundle.to_str().unwrap(),
            "--certificate-identity",
            "me",
            "--certificate-oidc-issuer",
            "https://iss",
            DIGEST,
        ],
        &cosign,
    );
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "out:initialize\nout:verify-blob\n"
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "err:initialize\nerr:verify-blob\n"
    );
    let calls = std::fs::read_to_string(dir.path().join("calls")).unwrap();
    assert_eq!(
        calls,
        format!(
            "initialize --staging\nverify-blob --use-signed-timestamps --bundle {} \
             --certificate-identity me --certificate-oidc-issuer https://iss {DIGEST}\n",
            bundle.display()
        )
    );
}

#[cfg(unix)]
#[test]
fn exit_codes_pass_through() {
    let dir = tempfile::tempdir().unwrap();
    let cosign = fake_cosign(dir.path());
    let calls = dir.path().join("calls");
    let run = |list: &[&str], fail_at: &str, code: &str| {
        let _ = std::fs::remove_file(&calls);
        let out = Command::new(BIN)
            .args(list)
            .env("COSIGN_BIN", &cosign)
            .env("FAKE_FAIL_AT", fail_at)
            .env("FAKE_EXIT", code)
            .output()
            .unwrap();
        (out, std::fs::read_to_string(&calls).unwrap())
    };
    let sign = [
        "sign-bundle",
        "--identity-token",
        "t",
        "--bundle",
        "b",
        "a.txt",
    ];

    // initialize fails: its code, and the command itself is not run.
    let (out, calls_made) = run(&sign, "initialize", "3");
    assert_eq!(out.status.code(), Some(3));
    assert_eq!(String::from_utf8_lossy(&out.stdout), "out:initialize\n");
    assert_eq!(calls_made, "initialize\n");

    // the command fails: its code.
    let (out, calls_made) = run(&sign, "sign-blob", "1");
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        calls_made,
        "initialize\nsign-blob -y --new-bundle-format --bundle b --identity-token t a.txt\n"
    );

    // with --trusted-root, verify-bundle runs verify-blob alone; cosign's 12 comes back.
    let verify = [
        "verify-bundle",
        "--bundle",
        "b",
        "--key",
        "k",
        "--trusted-root",
        "r",
        "a",
    ];
    let (out, calls_made) = run(&verify, "verify-blob", "12");
    assert_eq!(out.status.code(), Some(12));
    assert_eq!(
        calls_made,
        "verify-blob --bundle b --trusted-root r --key k a\n"
    );
    let (out, _) = run(&verify, "none", "0");
    assert_eq!(out.status.code(), Some(0));
}

// ---- against the real cosign -------------------------------------------------------------

fn data() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../cosign-cli/tests/data/conformance")
}

/// The real cosign: `$COSIGN_BIN`, else the sibling of the binary under test.
fn real_cosign() -> PathBuf {
    if let Some(bin) = std::env::var_os("COSIGN_BIN").filter(|b| !b.is_empty()) {
        return PathBuf::from(bin);
    }
    let sibling = Path::new(BIN).with_file_name(format!("cosign{}", std::env::consts::EXE_SUFFIX));
    assert!(
        sibling.is_file(),
        "no cosign binary at {}: build it first (cargo build -p cosign-cli --bin cosign) \
         or set COSIGN_BIN",
        sibling.display()
    );
    sibling
}

fn artifact_digest() -> String {
    let bytes = std::fs::read(data().join("a.txt")).unwrap();
    format!("sha256:{}", hex::encode(Sha256::digest(&bytes)))
}

/// `verify-bundle --bundle B --key K --trusted-root R INPUT` for one case, with the artifact
/// as a file and as its digest.
fn verify_case(case: &str, trusted_root: &Path) -> [Output; 2] {
    let dir = data().join("bundle-verify").join(case);
    let bundle = dir.join("bundle.sigstore.json");
    let key = dir.join("key.pub");
    let cosign = real_cosign();
    let file = data().join("a.txt");
    let digest = artifact_digest();
    [file.to_str().unwrap(), digest.as_str()].map(|input| {
        conformance(
            &[
                "verify-bundle",
                "--bundle",
                bundle.to_str().unwrap(),
                "--key",
                key.to_str().unwrap(),
                "--trusted-root",
                trusted_root.to_str().unwrap(),
                input,
            ],
            &cosign,
        )
    })
}

fn assert_verified(case: &str, outs: &[Output; 2]) {
    for (out, how) in outs.iter().zip(["file", "digest"]) {
        assert!(
            out.status.success(),
            "{case} ({how}): exit {:?}\nstdout: {}\nstderr: {}",
            out.status.code(),
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

#[test]
fn managed_key_and_trusted_root_verifies() {
    let case = "managed-key-and-trusted-root";
    let root = data()
        .join("bundle-verify")
        .join(case)
        .join("trusted_root.json");
    assert_verified(case, &verify_case(case, &root));
}

#[test]
fn managed_key_happy_path_verifies() {
    let case = "managed-key-happy-path";
    let root = data().join("public-good/trusted_root.json");
    assert_verified(case, &verify_case(case, &root));
}

#[test]
fn managed_key_wrong_key_fails() {
    let case = "managed-key-wrong-key_fail";
    let root = data().join("public-good/trusted_root.json");
    for (out, how) in verify_case(case, &root).iter().zip(["file", "digest"]) {
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{case} ({how}) verified: {stderr}");
        // Refused by verification, not by cosign's argument parsing.
        assert!(
            !stderr.contains("unexpected argument"),
            "{case} ({how}): {stderr}"
        );
    }
}

/// The whole suite through the wrapper, as the upstream runner drives it (the identity and
/// issuer of the case, else the suite's defaults; `--key` when the case has one), with the
/// trusted root always given as a file (the suite's production root otherwise, which would
/// need `cosign initialize` and the network): every case verifies or fails as its name says.
#[test]
fn every_case_through_the_protocol() {
    const IDENTITY: &str = "https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon/.github/workflows/extremely-dangerous-oidc-beacon.yml@refs/heads/main";
    const ISSUER: &str = "https://token.actions.githubusercontent.com";
    let cosign = real_cosign();
    let mut cases: Vec<PathBuf> = std::fs::read_dir(data().join("bundle-verify"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir())
        .collect();
    cases.sort();
    assert_eq!(cases.len(), 70);
    for dir in &cases {
        let case = dir.file_name().unwrap().to_string_lossy().into_owned();
        let artifact = if dir.join("artifact").exists() {
            dir.join("artifact")
        } else {
            data().join("a.txt")
        };
        let root = if dir.join("trusted_root.json").exists() {
            dir.join("trusted_root.json")
        } else {
            data().join("public-good/trusted_root.json")
        };
        let read = |name: &str, default: &str| {
            std::fs::read_to_string(dir.join(name))
                .map(|s| s.trim().to_owned())
                .unwrap_or_else(|_| default.to_owned())
        };
        let (identity, issuer) = (read("identity", IDENTITY), read("issuer", ISSUER));
        let digest = format!(
            "sha256:{}",
            hex::encode(Sha256::digest(std::fs::read(&artifact).unwrap()))
        );
        let bundle = dir.join("bundle.sigstore.json");
        let key = dir.join("key.pub");
        for input in [artifact.to_str().unwrap(), digest.as_str()] {
            let mut args = vec!["verify-bundle", "--bundle", bundle.to_str().unwrap()];
            if key.exists() {
                args.extend(["--key", key.to_str().unwrap()]);
            } else {
                args.extend([
                    "--certificate-identity",
                    &identity,
                    "--certificate-oidc-issuer",
                    &issuer,
                ]);
            }
            args.extend(["--trusted-root", root.to_str().unwrap(), input]);
            let out = conformance(&args, &cosign);
            let stderr = String::from_utf8_lossy(&out.stderr);
            assert_eq!(
                out.status.success(),
                !case.ends_with("_fail"),
                "{case} ({input}): exit {:?}: {stderr}",
                out.status.code()
            );
            assert!(!stderr.contains("unexpected argument"), "{case}: {stderr}");
        }
    }
}
