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

#[test]
fn rfc3161_timestamps_are_checked_or_refused() {
    // Issue 11: a bundle's RFC 3161 timestamp is verified against the trusted root's timestamp
    // authorities; a corrupted one, or one no trusted authority can check, fails the bundle.
    let s = Scratch::new();
    let dir = data().join("bundle-verify/managed-key-happy-path");
    let root_path = data().join("public-good/trusted_root.json");
    let bundle: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("bundle.sigstore.json")).unwrap()).unwrap();
    let tokens = &bundle["verificationMaterial"]["timestampVerificationData"]["rfc3161Timestamps"];
    assert_eq!(
        tokens.as_array().unwrap().len(),
        1,
        "the case carries a timestamp"
    );
    let verify = |bundle: &Path, root: &Path| {
        s.run(
            &[
                "verify-blob",
                "--key",
                &dir.join("key.pub").display().to_string(),
                "--bundle",
                &bundle.display().to_string(),
                "--trusted-root",
                &root.display().to_string(),
                &data().join("a.txt").display().to_string(),
            ],
            &[],
            None,
        )
    };
    verify(&dir.join("bundle.sigstore.json"), &root_path).ok();
    // One byte of the token's signed content changed.
    let mut corrupted = bundle.clone();
    let b64 = corrupted["verificationMaterial"]["timestampVerificationData"]["rfc3161Timestamps"]
        [0]["signedTimestamp"]
        .as_str()
        .unwrap()
        .to_owned();
    let mut der = base64::Engine::decode(&base64::engine::general_purpose::STANDARD, b64).unwrap();
    let at = der.len() / 2;
    der[at] ^= 0x01;
    corrupted["verificationMaterial"]["timestampVerificationData"]["rfc3161Timestamps"][0]["signedTimestamp"] =
        serde_json::Value::String(base64::Engine::encode(
            &base64::engine::general_purpose::STANDARD,
            der,
        ));
    let path = s.write("corrupted.json", serde_json::to_vec(&corrupted).unwrap());
    let run = verify(&path, &root_path).fails();
    assert!(run.stderr.contains("RFC 3161 timestamp"), "{}", run.stderr);
    // A trusted root without timestamp authorities cannot check it: refused, not skipped.
    let mut root: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&root_path).unwrap()).unwrap();
    root.as_object_mut().unwrap().remove("timestampAuthorities");
    let no_tsa = s.write("no-tsa.json", serde_json::to_vec(&root).unwrap());
    let run = verify(&dir.join("bundle.sigstore.json"), &no_tsa).fails();
    assert!(
        run.stderr.contains("no timestamp authority is trusted"),
        "{}",
        run.stderr
    );
}
