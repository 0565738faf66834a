//! The Sigstore conformance cases (tests/data/conformance) through the real `cosign
//! verify-blob`, each with the artifact as a file and as `sha256:<hex>`. Today the cases signed
//! with a key; the certificate cases come with keyless verification.

use std::path::{Path, PathBuf};

use crate::common::Scratch;

fn data() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/conformance")
}

/// Runs `verify-blob` on a case, as a file and as a digest; returns both runs.
fn verify_case(s: &Scratch, case: &str) -> Vec<crate::common::Run> {
    let dir = data().join("bundle-verify").join(case);
    let artifact = if dir.join("artifact").exists() {
        dir.join("artifact")
    } else {
        data().join("a.txt")
    };
    let trusted_root = if dir.join("trusted_root.json").exists() {
        dir.join("trusted_root.json")
    } else {
        data().join("public-good/trusted_root.json")
    };
    let digest = format!(
        "sha256:{}",
        hex::encode(<sha2::Sha256 as sha2::Digest>::digest(
            std::fs::read(&artifact).unwrap()
        ))
    );
    let bundle = dir.join("bundle.sigstore.json");
    let mut runs = Vec::new();
    for subject in [artifact.display().to_string(), digest] {
        let mut args = vec![
            "verify-blob".to_owned(),
            "--bundle".to_owned(),
            bundle.display().to_string(),
            "--trusted-root".to_owned(),
            trusted_root.display().to_string(),
        ];
        if dir.join("key.pub").exists() {
            args.push("--key".into());
            args.push(dir.join("key.pub").display().to_string());
        }
        args.push(subject);
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        runs.push(s.run(&args, &[], None));
    }
    runs
}

#[test]
fn managed_key_cases() {
    let s = Scratch::new();
    for case in ["managed-key-happy-path", "managed-key-and-trusted-root"] {
        for run in verify_case(&s, case) {
            let run = run.ok();
            assert!(run.stderr.contains("Verified OK"), "{case}: {}", run.stderr);
        }
    }
    // Each failing case fails for the reason its README names.
    for (case, reason) in [
        // "expected to fail due to wrong key": the key is not a valid P-256 point.
        ("managed-key-wrong-key_fail", "parsing ECDSA public key"),
        // "bundle is signed with key but no key is provided".
        ("managed-key-no-key_fail", "without --key"),
    ] {
        for run in verify_case(&s, case) {
            let run = run.fails();
            assert!(run.stderr.contains(reason), "{case}: {}", run.stderr);
        }
    }
}
