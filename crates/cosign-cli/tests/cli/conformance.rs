//! The Sigstore conformance cases (tests/data/conformance) through the real `cosign
//! verify-blob`, each with the artifact as a file and as `sha256:<hex>`: every case that must
//! verify does, and every `_fail` case fails for the reason its README names.

use std::path::{Path, PathBuf};

use crate::common::Scratch;

fn data() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/conformance")
}

/// The identity the cases were signed as, unless a case names another.
const IDENTITY: &str = "https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon/.github/workflows/extremely-dangerous-oidc-beacon.yml@refs/heads/main";
const ISSUER: &str = "https://token.actions.githubusercontent.com";

/// Runs `verify-blob` on a case as the conformance suite does (`--key` when the case has a key,
/// else the identity and issuer), as a file and as a digest; returns both runs.
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
    let read = |name: &str, default: &str| {
        std::fs::read_to_string(dir.join(name))
            .map(|s| s.trim().to_owned())
            .unwrap_or_else(|_| default.to_owned())
    };
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
        } else {
            args.push("--certificate-identity".into());
            args.push(read("identity", IDENTITY));
            args.push("--certificate-oidc-issuer".into());
            args.push(read("issuer", ISSUER));
        }
        args.push(subject);
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        runs.push(s.run(&args, &[], None));
    }
    runs
}

/// Why each `_fail` case must fail (its README), as the words of our error.
const FAILURES: &[(&str, &str)] = &[
    (
        "bundle-empty-certificate-chain_fail",
        "certificate chain is empty",
    ),
    (
        "bundle-from-wrong-instance_fail",
        "which is not a trusted log",
    ),
    ("bundle-invalid-base64-signature_fail", "invalid base64"),
    ("bundle-malformed-json_fail", "not JSON"),
    ("bundle-negative-log-index_fail", "negative log index"),
    ("bundle-unknown-version_fail", "unsupported media type"),
    (
        "bundle-with-root-cert_fail",
        "chain contains a root certificate",
    ),
    ("checkpoint-bad-keyhint_fail", "no signature by the log key"),
    (
        "checkpoint-wrong-roothash_fail",
        "is not the inclusion proof's root hash",
    ),
    (
        "dsse-invalid-sig_fail",
        "invalid signature when validating the DSSE envelope",
    ),
    ("dsse-mismatch-envelope_fail", "does not match the envelope"),
    ("dsse-mismatch-sig_fail", "does not match the signature"),
    (
        "inclusion-proof-corrupted-hash_fail",
        "verifying the inclusion proof",
    ),
    // The public key in the entry was changed: the log's signature over it fails.
    (
        "incorrect-public-key_fail",
        "verifying the signed entry timestamp",
    ),
    ("integrated-time-in-future_fail", "is not valid at"),
    ("intoto-expired-certificate_fail", "is not valid at"),
    // The entry's body is not the envelope's (it does not even decode as one).
    ("intoto-log-entry-mismatch_fail", "parsing log entry body"),
    (
        "intoto-missing-inclusion-proof_fail",
        "has no inclusion proof",
    ),
    (
        "intoto-set-outside-signing-cert-validity_fail",
        "is not valid at",
    ),
    (
        "intoto-tsa-timestamp-outside-cert-validity_fail",
        "is not valid at",
    ),
    (
        "invalid-checkpoint-signature_fail",
        "the signature by the log key does not verify",
    ),
    ("invalid-ct-key_fail", "verifying the certificate's SCT"),
    (
        "invalid-inclusion-proof_fail",
        "verifying the inclusion proof",
    ),
    (
        "managed-key-no-key_fail",
        "signed with a key, not a certificate",
    ),
    // "expected to fail due to wrong key": the key is not a valid P-256 point.
    ("managed-key-wrong-key_fail", "parsing ECDSA public key"),
    (
        "message-digest-mismatch_fail",
        "the bundle's message digest",
    ),
    (
        "rekor2-checkpoint-missing-log-signature_fail",
        "carries no signature line",
    ),
    (
        "rekor2-checkpoint-missing-origin_fail",
        "is not the log's origin",
    ),
    (
        "rekor2-checkpoint-missing-root-hash_fail",
        "root hash line is missing",
    ),
    ("rekor2-checkpoint-missing-size_fail", "tree size"),
    // The checkpoint is signed under another identity (origin) than the log's.
    (
        "rekor2-checkpoint-no-matching-signature_fail",
        "is not the log's origin",
    ),
    (
        "rekor2-dsse-invalid-sig_fail",
        "invalid signature when validating the DSSE envelope",
    ),
    (
        "rekor2-dsse-mismatch-envelope_fail",
        "does not match the envelope",
    ),
    (
        "rekor2-dsse-mismatch-sig_fail",
        "does not match the signature",
    ),
    ("rekor2-no-inclusion-proof_fail", "has no inclusion proof"),
    ("rekor2-no-timestamp_fail", "there is no trusted time"),
    (
        "rekor2-timestamp-outside-trust-root-tsa-validity_fail",
        "no trusted timestamp authority",
    ),
    (
        "rekor2-timestamp-outside-tsa-cert-validity_fail",
        "no trusted timestamp authority",
    ),
    ("rekor2-timestamp-payload-mismatch_fail", "message imprint"),
    (
        "rekor2-timestamp-untrusted-tsa-with-embedded-cert_fail",
        "no trusted timestamp authority",
    ),
    (
        "rekor2-timestamp-untrusted-tsa-without-embedded-cert_fail",
        "no trusted timestamp authority",
    ),
    (
        "rekor2-timestamp-with-incorrect-time_fail",
        "is not valid at",
    ),
    (
        "set-invalid-signature_fail",
        "verifying the signed entry timestamp",
    ),
    ("signature-mismatch_fail", "invalid signature for"),
    (
        "trust-root-tlog-missing-validity-start_fail",
        "missing public key validity period start",
    ),
    (
        "wrong-hashedrekord-artifact_fail",
        "does not match the artifact hash",
    ),
    (
        "wrong-hashedrekord-cert-and-sig_fail",
        "does not match the signature",
    ),
    (
        "wrong-hashedrekord-entry_fail",
        "does not match the artifact hash",
    ),
    ("wrong-material_fail", "the bundle's message digest"),
];

#[test]
fn every_case_as_file_and_digest() {
    let s = Scratch::new();
    let mut cases: Vec<String> = std::fs::read_dir(data().join("bundle-verify"))
        .unwrap()
        .filter_map(|e| {
            let e = e.unwrap();
            e.file_type()
                .unwrap()
                .is_dir()
                .then(|| e.file_name().to_string_lossy().into_owned())
        })
        .collect();
    cases.sort();
    assert_eq!(cases.len(), 70, "the suite's 70 cases are all here");
    let mut runs = 0;
    for case in &cases {
        let reason = FAILURES.iter().find(|(c, _)| c == case).map(|(_, r)| *r);
        assert_eq!(
            reason.is_some(),
            case.ends_with("_fail"),
            "{case}: every failing case (and only those) names its reason"
        );
        for run in verify_case(&s, case) {
            runs += 1;
            match reason {
                None => {
                    let run = run.ok();
                    assert!(run.stderr.contains("Verified OK"), "{case}: {}", run.stderr);
                }
                Some(reason) => {
                    let run = run.fails();
                    assert!(
                        run.stderr.contains(reason),
                        "{case} must fail because {reason:?}, not: {}",
                        run.stderr
                    );
                }
            }
        }
    }
    assert_eq!(runs, 140);
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
