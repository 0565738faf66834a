//! Bent Rekor v2 material: real staging entries moved to other origins, keys, artifacts,
//! and entries built here with logs of our own.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use cosign_crypto::{KeyType, PrivateKey};
use cosign_tlog::checkpoint::Checkpoint;
use cosign_tlog::entry::{Body, V2Verifier, dsse_v002, hashedrekord_v002};
use cosign_tlog::merkle::{MerkleTree, leaf_hash};
use cosign_tlog::note::{key_id, sign_checkpoint};
use cosign_tlog::{
    Expected, InclusionProof, LogEntry, TlogError, TrustedLog, TrustedLogs, verify_entry,
};
use cosign_types::{Digest, Envelope, EnvelopeSignature, HashAlgorithm};

use super::Case;

fn happy() -> Case {
    Case::load("rekor2-happy-path")
}

#[test]
fn entry_not_about_this_artifact_signature_or_certificate() {
    let case = happy();
    let other = Digest::from_hex(HashAlgorithm::Sha256, &"ab".repeat(32)).unwrap();
    let e = verify_entry(
        &case.entry,
        &case.logs,
        &Expected {
            artifact_digest: Some(&other),
            ..case.expected()
        },
    )
    .unwrap_err();
    assert!(
        matches!(
            e,
            TlogError::Mismatch {
                field: "artifact hash",
                ..
            }
        ),
        "{e}"
    );

    let mut sig = case.signature.clone();
    sig[10] ^= 1;
    let e = verify_entry(
        &case.entry,
        &case.logs,
        &Expected {
            signature: Some(&sig),
            ..case.expected()
        },
    )
    .unwrap_err();
    assert!(
        matches!(
            e,
            TlogError::Mismatch {
                field: "signature",
                ..
            }
        ),
        "{e}"
    );

    // Another certificate (the dsse case's) and another key.
    let dsse = Case::load("rekor2-dsse-happy-path");
    let e = verify_entry(
        &case.entry,
        &case.logs,
        &Expected {
            verifier_cert_der: Some(&dsse.cert),
            ..case.expected()
        },
    )
    .unwrap_err();
    assert!(
        matches!(
            e,
            TlogError::Mismatch {
                field: "public key",
                ..
            }
        ),
        "{e}"
    );
    let stranger = PrivateKey::generate_ecdsa_p256().unwrap().public_key();
    let e = verify_entry(
        &case.entry,
        &case.logs,
        &Expected {
            verifier: Some(&stranger),
            verifier_cert_der: None,
            ..case.expected()
        },
    )
    .unwrap_err();
    assert!(
        matches!(
            e,
            TlogError::Mismatch {
                field: "public key",
                ..
            }
        ),
        "{e}"
    );
    // The certificate's own key is accepted in place of the certificate.
    let key = cosign_crypto::PublicKey::from_certificate_der(&case.cert).unwrap();
    verify_entry(
        &case.entry,
        &case.logs,
        &Expected {
            verifier: Some(&key),
            verifier_cert_der: None,
            ..case.expected()
        },
    )
    .unwrap();
}

#[test]
fn checkpoint_of_another_origin_or_without_origin() {
    let case = happy();
    let id: [u8; 32] = hex::decode(&case.entry.log_id).unwrap().try_into().unwrap();
    let mut moved = case.logs.clone();
    moved.set_origin(id, "log2025-alpha2.rekor.sigstage.dev");
    let e = verify_entry(&case.entry, &moved, &case.expected()).unwrap_err();
    assert!(matches!(e, TlogError::CheckpointOrigin { .. }), "{e}");

    // A log known by key only (no base URL): a C2SP checkpoint cannot be checked.
    let log = case.logs.find(&id).unwrap().clone();
    let mut keyed = TrustedLogs::default();
    keyed.push(log);
    let e = verify_entry(&case.entry, &keyed, &case.expected()).unwrap_err();
    assert!(matches!(e, TlogError::RekorV2 { .. }), "{e}");

    // The same checkpoint rewritten for the expected origin no longer verifies.
    let mut bent = case.entry.clone();
    let proof = bent.inclusion_proof.as_mut().unwrap();
    proof.checkpoint = proof.checkpoint.replace(
        "log2025-alpha1.rekor.sigstage.dev",
        "log2025-alpha2.rekor.sigstage.dev",
    );
    let e = verify_entry(&bent, &moved, &case.expected()).unwrap_err();
    assert!(matches!(e, TlogError::CheckpointSignature { .. }), "{e}");
}

#[test]
fn wrong_key_hint_bad_signature_and_bent_proofs() {
    let case = happy();
    let text = case
        .entry
        .inclusion_proof
        .as_ref()
        .unwrap()
        .checkpoint
        .clone();
    let (body, line) = text.split_once("\n\n").unwrap();
    let (name, b64) = line.trim_end().rsplit_once(' ').unwrap();
    let blob = STANDARD.decode(b64).unwrap();
    let with_blob = |blob: &[u8]| {
        let mut e = case.entry.clone();
        e.inclusion_proof.as_mut().unwrap().checkpoint =
            format!("{body}\n\n{name} {}\n", STANDARD.encode(blob));
        e
    };
    let mut hint = blob.clone();
    hint[3] ^= 1;
    let e = verify_entry(&with_blob(&hint), &case.logs, &case.expected()).unwrap_err();
    assert!(
        matches!(&e, TlogError::CheckpointSignature { reason } if reason.contains("no signature")),
        "{e}"
    );
    let mut sig = blob.clone();
    sig[20] ^= 1;
    let e = verify_entry(&with_blob(&sig), &case.logs, &case.expected()).unwrap_err();
    assert!(
        matches!(&e, TlogError::CheckpointSignature { reason } if reason.contains("does not verify")),
        "{e}"
    );

    let mut bent = case.entry.clone();
    bent.inclusion_proof.as_mut().unwrap().hashes[2][0] ^= 1;
    assert!(matches!(
        verify_entry(&bent, &case.logs, &case.expected()),
        Err(TlogError::InclusionProof { .. })
    ));
    let mut bent = case.entry.clone();
    bent.log_index += 1;
    assert!(matches!(
        verify_entry(&bent, &case.logs, &case.expected()),
        Err(TlogError::InclusionProof { .. })
    ));
    let mut bent = case.entry.clone();
    bent.inclusion_proof.as_mut().unwrap().tree_size += 1;
    assert!(verify_entry(&bent, &case.logs, &case.expected()).is_err());
    // A v2 entry cannot carry a SET.
    let mut bent = case.entry.clone();
    bent.signed_entry_timestamp = Some(vec![1, 2, 3]);
    assert!(matches!(
        verify_entry(&bent, &case.logs, &case.expected()),
        Err(TlogError::RekorV2 { .. })
    ));
    // A body with its fields intact but not canonical is not the logged leaf.
    let mut bent = case.entry.clone();
    bent.body = String::from_utf8(bent.body)
        .unwrap()
        .replacen('{', "{ ", 1)
        .into_bytes();
    assert!(Body::parse(&bent.body).is_err());
    assert!(verify_entry(&bent, &case.logs, &case.expected()).is_err());
}

/// A log of our own: Ed25519 key, origin `log.test`, entries appended to a tree.
struct OwnLog {
    key: PrivateKey,
    tree: MerkleTree,
}

impl OwnLog {
    fn new(key_type: KeyType) -> Self {
        Self {
            key: PrivateKey::generate(key_type).unwrap(),
            tree: MerkleTree::new(),
        }
    }

    fn logs(&self) -> TrustedLogs {
        let public = self.key.public_key();
        let id = key_id("log.test", &public);
        let mut logs = TrustedLogs::default();
        logs.push(TrustedLog {
            key: public,
            log_id: id,
            valid_from: None,
            valid_until: None,
        });
        logs.set_origin(id, "log.test");
        logs
    }

    /// Appends `body` behind a few other leaves and returns its entry.
    fn add(&mut self, body: Vec<u8>) -> LogEntry {
        for i in 0..3u8 {
            self.tree.push(leaf_hash(&[i]));
        }
        let index = self.tree.push(leaf_hash(&body));
        self.tree.push(leaf_hash(b"after"));
        let size = self.tree.size();
        let cp = Checkpoint {
            origin: "log.test".to_owned(),
            size,
            root_hash: self.tree.root(),
            other: Vec::new(),
        };
        let note = sign_checkpoint(&cp, "log.test", &self.key).unwrap();
        LogEntry {
            uuid: String::new(),
            body,
            integrated_time: 0,
            log_id: hex::encode(key_id("log.test", &self.key.public_key())),
            log_index: i64::try_from(index).unwrap(),
            inclusion_proof: Some(InclusionProof {
                log_index: i64::try_from(index).unwrap(),
                root_hash: cp.root_hash,
                tree_size: i64::try_from(size).unwrap(),
                hashes: self.tree.inclusion_proof(index, size).unwrap(),
                checkpoint: note,
            }),
            signed_entry_timestamp: None,
        }
    }
}

#[test]
fn own_logs_with_ed25519_and_ecdsa_keys() {
    let signer = PrivateKey::generate_ecdsa_p256().unwrap();
    let digest = cosign_crypto::hash(HashAlgorithm::Sha256, b"artifact");
    let sig = signer
        .sign_digest(cosign_crypto::SignatureScheme::EcdsaP256Sha256, &digest)
        .unwrap();
    let verifier = V2Verifier::from_public_key(&signer.public_key()).unwrap();
    let body = hashedrekord_v002(&digest, &sig, &verifier).unwrap();
    for kt in [KeyType::Ed25519, KeyType::EcdsaP256] {
        let mut log = OwnLog::new(kt);
        let entry = log.add(body.clone());
        let expected = Expected {
            artifact_digest: Some(&digest),
            signature: Some(&sig),
            verifier: Some(&signer.public_key()),
            verifier_cert_der: None,
            envelope: None,
        };
        let v = verify_entry(&entry, &log.logs(), &expected).unwrap();
        assert!(v.checked_online_proof);
        // Another log's key under the same origin.
        let other = OwnLog::new(kt);
        assert!(verify_entry(&entry, &other.logs(), &expected).is_err());
        // Body not matching the artifact.
        let wrong = cosign_crypto::hash(HashAlgorithm::Sha256, b"other artifact");
        let e = verify_entry(
            &entry,
            &log.logs(),
            &Expected {
                artifact_digest: Some(&wrong),
                ..expected
            },
        )
        .unwrap_err();
        assert!(matches!(
            e,
            TlogError::Mismatch {
                field: "artifact hash",
                ..
            }
        ));
    }
}

#[test]
fn dsse_v002_entries_bind_payload_signature_and_key() {
    let signer = PrivateKey::generate_ecdsa_p256().unwrap();
    let payload = br#"{"_type":"https://in-toto.io/Statement/v1"}"#.to_vec();
    let pae = cosign_types::pae("application/vnd.in-toto+json", &payload);
    let sig = signer
        .sign_message(cosign_crypto::SignatureScheme::EcdsaP256Sha256, &pae)
        .unwrap();
    let env = Envelope {
        payload_type: "application/vnd.in-toto+json".to_owned(),
        payload: payload.clone(),
        signatures: vec![EnvelopeSignature {
            keyid: String::new(),
            sig: sig.clone(),
        }],
    };
    let env_json = env.to_json();
    let payload_hash = cosign_crypto::hash(HashAlgorithm::Sha256, &payload);
    let verifier = V2Verifier::from_public_key(&signer.public_key()).unwrap();
    let body = dsse_v002(&payload_hash, &[(sig.clone(), verifier)]).unwrap();
    assert!(matches!(Body::parse(&body).unwrap(), Body::DsseV002 { .. }));
    let mut log = OwnLog::new(KeyType::Ed25519);
    let entry = log.add(body);
    let expected = Expected {
        artifact_digest: None,
        signature: Some(&sig),
        verifier: Some(&signer.public_key()),
        verifier_cert_der: None,
        envelope: Some(&env_json),
    };
    verify_entry(&entry, &log.logs(), &expected).unwrap();
    // Another payload.
    let mut other = env.clone();
    other.payload = b"{}".to_vec();
    let other_json = other.to_json();
    let e = verify_entry(
        &entry,
        &log.logs(),
        &Expected {
            envelope: Some(&other_json),
            ..expected
        },
    )
    .unwrap_err();
    assert!(matches!(
        e,
        TlogError::Mismatch {
            field: "envelope",
            ..
        }
    ));
    // Another key.
    let stranger = PrivateKey::generate_ecdsa_p256().unwrap().public_key();
    let e = verify_entry(
        &entry,
        &log.logs(),
        &Expected {
            verifier: Some(&stranger),
            ..expected
        },
    )
    .unwrap_err();
    assert!(matches!(
        e,
        TlogError::Mismatch {
            field: "public key",
            ..
        }
    ));
    // No proof at all.
    let mut bare = entry.clone();
    bare.inclusion_proof = None;
    assert!(matches!(
        verify_entry(&bare, &log.logs(), &expected),
        Err(TlogError::RekorV2 { .. })
    ));
}
