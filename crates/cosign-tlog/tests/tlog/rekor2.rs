//! The transparency-log part of every `rekor2-*` case of the sigstore-conformance suite (see
//! tests/data/rekor2/README.md): Rekor v2 hashedrekord 0.0.2 entries, C2SP checkpoints signed
//! by staging's Ed25519 logs, witness cosignatures. Certificates and RFC 3161 timestamps are
//! not this crate's business: the cases that fail for those reasons must pass here.

use std::path::PathBuf;

use cosign_tlog::trusted_root::TrustedRoot;
use cosign_tlog::{
    Expected, LogEntry, TlogError, TrustedLogs, VerifiedEntry, verify_entry, verify_entry_at,
};
use cosign_types::bundle::VerificationMaterialContent;
use cosign_types::{Bundle, BundleContent, Digest, HashAlgorithm};

fn data(path: &str) -> Vec<u8> {
    let mut p = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    p.push("tests/data/rekor2");
    p.push(path);
    std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

/// One case: its log entry, the trusted logs, and what the bundle says was signed.
struct Case {
    entry: LogEntry,
    logs: TrustedLogs,
    digest: Option<Digest>,
    signature: Vec<u8>,
    cert: Vec<u8>,
    envelope: Option<Vec<u8>>,
}

impl Case {
    fn load(name: &str) -> Self {
        let bundle = Bundle::from_json(&data(&format!("{name}/bundle.sigstore.json"))).unwrap();
        let root_file = if name.starts_with("rekor2-dsse-") {
            "trusted_root.staging-dsse.json"
        } else {
            "trusted_root.staging.json"
        };
        let root = TrustedRoot::from_json(&data(root_file)).unwrap();
        let tles = &bundle.verification_material.tlog_entries;
        assert_eq!(tles.len(), 1, "{name}");
        let VerificationMaterialContent::Certificate(cert) = &bundle.verification_material.content
        else {
            panic!("{name}: no leaf certificate");
        };
        let (digest, signature, envelope) = match &bundle.content {
            BundleContent::MessageSignature(ms) => {
                let md = ms.message_digest.as_ref().unwrap();
                let digest = Digest::new(HashAlgorithm::Sha256, md.digest.clone()).unwrap();
                (Some(digest), ms.signature.clone(), None)
            }
            BundleContent::DsseEnvelope(env) => {
                (None, env.signatures[0].sig.clone(), Some(env.to_json()))
            }
        };
        Self {
            entry: LogEntry::from_bundle_entry(&tles[0]),
            logs: TrustedLogs::from_trusted_root(&root),
            digest,
            signature,
            cert: cert.raw_bytes.clone(),
            envelope,
        }
    }

    fn expected(&self) -> Expected<'_> {
        Expected {
            artifact_digest: self.digest.as_ref(),
            signature: Some(&self.signature),
            verifier: None,
            verifier_cert_der: Some(&self.cert),
            envelope: self.envelope.as_deref(),
        }
    }

    fn verify(&self) -> Result<VerifiedEntry, TlogError> {
        verify_entry(&self.entry, &self.logs, &self.expected())
    }
}

/// Cases whose log entry is good: the valid bundles, and the `_fail` cases that fail for a
/// certificate or timestamp reason (checked by cosign-trust, not here).
const LOG_PART_VERIFIES: &[&str] = &[
    "rekor2-happy-path",
    "rekor2-checkpoint-cosigned",
    "rekor2-checkpoint-multiple-cosigs",
    "rekor2-checkpoint-origin-not-first",
    "rekor2-checkpoint-two-sigs-cosigned",
    "rekor2-checkpoint-two-sigs-from-origin",
    "rekor2-dsse-happy-path",
    "rekor2-timestamp-with-embedded-cert",
    "rekor2-timestamp-without-embedded-cert",
    "rekor2-timestamp-with-expired-cert-chain",
    // These fail for their timestamps only.
    "rekor2-no-timestamp_fail",
    "rekor2-timestamp-outside-trust-root-tsa-validity_fail",
    "rekor2-timestamp-outside-tsa-cert-validity_fail",
    "rekor2-timestamp-payload-mismatch_fail",
    "rekor2-timestamp-untrusted-tsa-with-embedded-cert_fail",
    "rekor2-timestamp-untrusted-tsa-without-embedded-cert_fail",
    "rekor2-timestamp-with-incorrect-time_fail",
];

#[test]
fn log_part_of_valid_cases_verifies() {
    for name in LOG_PART_VERIFIES {
        let case = Case::load(name);
        let v = case.verify().unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(v.checked_online_proof, "{name}");
        assert_eq!(v.integrated_time, 0, "{name}");
        assert!(!v.inactive_key, "{name}");
        assert_eq!(v.log_index, case.entry.log_index, "{name}");
    }
}

#[test]
fn every_case_is_covered() {
    let mut dir: Vec<String> =
        std::fs::read_dir(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/rekor2"))
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n.starts_with("rekor2-"))
            .collect();
    dir.sort();
    let mut covered: Vec<String> = LOG_PART_VERIFIES
        .iter()
        .chain(LOG_PART_FAILS.iter().map(|(n, _)| n))
        .map(|n| (*n).to_owned())
        .collect();
    covered.sort();
    assert_eq!(dir, covered);
}

type Check = fn(&TlogError) -> bool;

/// Cases whose log entry must be refused, and the reason their README names.
const LOG_PART_FAILS: &[(&str, Check)] = &[
    // "The log checkpoint has had log signature removed."
    (
        "rekor2-checkpoint-missing-log-signature_fail",
        |e| matches!(e, TlogError::CheckpointSignature { reason } if reason.contains("no signature")),
    ),
    // "The log checkpoint has had its origin line removed."
    ("rekor2-checkpoint-missing-origin_fail", |e| {
        matches!(e, TlogError::CheckpointOrigin { expected, found }
            if expected == "log2025-alpha1.rekor.sigstage.dev" && found == "736")
    }),
    // "The log checkpoint has had its root hash removed."
    (
        "rekor2-checkpoint-missing-root-hash_fail",
        |e| matches!(e, TlogError::MalformedCheckpoint { reason } if reason.contains("root hash")),
    ),
    // "The log checkpoint has had its size removed."
    (
        "rekor2-checkpoint-missing-size_fail",
        |e| matches!(e, TlogError::MalformedCheckpoint { reason } if reason.contains("tree size")),
    ),
    // "The identity of the checkpoint signature does not match the transparency log host."
    ("rekor2-checkpoint-no-matching-signature_fail", |e| {
        matches!(e, TlogError::CheckpointOrigin { found, .. }
            if found == "log2025-alpha1.rekor.github.dev")
    }),
    // "The inclusion proof is removed"; the log must not be asked.
    (
        "rekor2-no-inclusion-proof_fail",
        |e| matches!(e, TlogError::RekorV2 { reason } if reason.contains("no inclusion proof")),
    ),
    // "Hash(PAE(envelope)) does not match the hashedrekord entry's recorded digest."
    ("rekor2-dsse-mismatch-envelope_fail", |e| {
        matches!(
            e,
            TlogError::Mismatch {
                field: "envelope",
                ..
            }
        )
    }),
    // "The envelope signature does not match the signature recorded in the tlog entry."
    ("rekor2-dsse-mismatch-sig_fail", |e| {
        matches!(
            e,
            TlogError::Mismatch {
                field: "signature",
                ..
            }
        )
    }),
    // The envelope signature was replaced by one from another key: it is not the logged one
    // (that it does not verify under the certificate is checked outside this crate).
    ("rekor2-dsse-invalid-sig_fail", |e| {
        matches!(
            e,
            TlogError::Mismatch {
                field: "signature",
                ..
            }
        )
    }),
];

#[test]
fn log_part_of_failing_cases_fails_for_the_named_reason() {
    for (name, check) in LOG_PART_FAILS {
        let case = Case::load(name);
        match case.verify() {
            Ok(_) => panic!("{name}: verified"),
            Err(e) => assert!(check(&e), "{name}: wrong reason: {e:?}"),
        }
    }
}

/// 2025-06-12T12:02:20Z, the time of the happy path's RFC 3161 timestamp.
const TSA_TIME: i64 = 1_749_729_740;

#[test]
fn log_key_validity_at_a_given_time() {
    let case = Case::load("rekor2-happy-path");
    verify_entry_at(&case.entry, &case.logs, &case.expected(), TSA_TIME).unwrap();
    // log2025-alpha1 is valid from 2025-04-16.
    let early = 1_735_689_600; // 2025-01-01
    assert!(matches!(
        verify_entry_at(&case.entry, &case.logs, &case.expected(), early),
        Err(TlogError::LogKeyNotValidAt { time, .. }) if time == early
    ));
    let log_id = case.entry.log_id.clone();
    let id = hex::decode(&log_id).unwrap();
    assert!(case.logs.find_valid_at(&id, TSA_TIME).is_some());
    assert!(case.logs.find_valid_at(&id, early).is_none());
    // An integrated time in a v2 entry is signed by nothing: ignored, never reported.
    let mut dated = case.entry.clone();
    dated.integrated_time = early;
    let v = verify_entry_at(&dated, &case.logs, &case.expected(), TSA_TIME).unwrap();
    assert_eq!(v.integrated_time, 0);

    // In the dsse root, log2025-alpha1 ended on 2025-09-04 and alpha3 began on 2025-09-22.
    let dsse = Case::load("rekor2-dsse-happy-path");
    let sept_30 = 1_759_190_400;
    verify_entry_at(&dsse.entry, &dsse.logs, &dsse.expected(), sept_30).unwrap();
    assert!(matches!(
        verify_entry_at(&dsse.entry, &dsse.logs, &dsse.expected(), TSA_TIME),
        Err(TlogError::LogKeyNotValidAt { .. })
    ));
}

#[test]
fn trusted_root_names_v2_logs() {
    let root = TrustedRoot::from_json(&data("trusted_root.staging.json")).unwrap();
    let v2 = root
        .tlogs
        .iter()
        .find(|t| t.base_url == "https://log2025-alpha1.rekor.sigstage.dev")
        .unwrap();
    assert_eq!(v2.public_key.key_type(), cosign_crypto::KeyType::Ed25519);
    // The log ID is the C2SP key ID of the key under the host name.
    let origin = cosign_tlog::note::origin_from_base_url(&v2.base_url).unwrap();
    assert_eq!(
        cosign_tlog::note::key_id(&origin, &v2.public_key),
        v2.log_id
    );
    let logs = TrustedLogs::from_trusted_root(&root);
    assert_eq!(logs.origin(&v2.log_id), Some(origin.as_str()));
}

#[test]
fn bundle_entries_round_trip() {
    for name in ["rekor2-happy-path", "rekor2-dsse-happy-path"] {
        let bundle = Bundle::from_json(&data(&format!("{name}/bundle.sigstore.json"))).unwrap();
        let tle = &bundle.verification_material.tlog_entries[0];
        let entry = LogEntry::from_bundle_entry(tle);
        assert_eq!(entry.to_bundle_entry().unwrap(), *tle, "{name}");
        let body = cosign_tlog::entry::Body::parse(&entry.body).unwrap();
        assert!(body.is_rekor_v2());
        assert_eq!((body.kind(), body.version()), ("hashedrekord", "0.0.2"));
    }
}

mod hostile;
