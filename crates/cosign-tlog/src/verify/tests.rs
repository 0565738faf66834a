//! verify_entry, including one regression test per way an entry can fail to be bound to what is
//! being verified (GHSA-ccxc-vr6p-4858, GHSA-8gw7-4j42-w388, GHSA-whqx-f9j3-ch6m).

use cosign_crypto::{PrivateKey, SignatureScheme, hash};
use cosign_types::{Envelope, EnvelopeSignature, HashAlgorithm};

use super::*;
use crate::checkpoint::{Checkpoint, sign_note};
use crate::entry;
use crate::merkle::{MerkleTree, leaf_hash};

const TIME: i64 = 1_700_000_000;

struct Log {
    key: PrivateKey,
    tree: MerkleTree,
}

impl Log {
    fn new() -> Self {
        let mut tree = MerkleTree::new();
        for i in 0..5u8 {
            tree.push(leaf_hash(&[i]));
        }
        Self {
            key: PrivateKey::generate_ecdsa_p256().unwrap(),
            tree,
        }
    }

    fn log_id(&self) -> String {
        hex::encode(self.key.public_key().hint())
    }

    fn trusted(&self) -> TrustedLogs {
        TrustedLogs::from_public_key(self.key.public_key())
    }

    /// Logs `body` like Rekor: SET, inclusion proof, checkpoint.
    fn add(&mut self, body: Vec<u8>) -> LogEntry {
        let leaf = leaf_hash(&body);
        let index = self.tree.push(leaf);
        self.tree.push(leaf_hash(b"later entry"));
        let size = self.tree.size();
        let root = self.tree.root();
        let checkpoint = sign_note(
            &Checkpoint {
                origin: "rekor.test - 1".to_owned(),
                size,
                root_hash: root,
                other: vec![],
            },
            "rekor.test",
            &self.key,
        )
        .unwrap();
        let log_id = self.log_id();
        let payload = set::payload(&STANDARD.encode(&body), TIME, &log_id, index as i64);
        LogEntry {
            uuid: hex::encode(leaf),
            body,
            integrated_time: TIME,
            log_id,
            log_index: index as i64,
            inclusion_proof: Some(InclusionProof {
                log_index: index as i64,
                root_hash: root,
                tree_size: size as i64,
                hashes: self.tree.inclusion_proof(index, size).unwrap(),
                checkpoint,
            }),
            signed_entry_timestamp: Some(set::sign(&payload, &self.key).unwrap()),
        }
    }
}

struct Signed {
    key: PrivateKey,
    digest: Digest,
    signature: Vec<u8>,
    body: Vec<u8>,
}

fn signed_blob(data: &[u8]) -> Signed {
    let key = PrivateKey::generate_ecdsa_p256().unwrap();
    let digest = hash(HashAlgorithm::Sha256, data);
    let signature = key
        .sign_digest(SignatureScheme::EcdsaP256Sha256, &digest)
        .unwrap();
    let proposed = entry::hashedrekord(&digest, &signature, key.public_key().to_pem().as_bytes());
    let body = entry::canonicalize_proposed(&proposed).unwrap();
    Signed {
        key,
        digest,
        signature,
        body,
    }
}

fn expected<'a>(s: &'a Signed, key: &'a PublicKey) -> Expected<'a> {
    Expected {
        artifact_digest: Some(&s.digest),
        signature: Some(&s.signature),
        verifier: Some(key),
        verifier_cert_der: None,
        envelope: None,
    }
}

#[test]
fn valid_entry_with_set_and_proof() {
    let mut log = Log::new();
    let s = signed_blob(b"artifact");
    let e = log.add(s.body.clone());
    let key = s.key.public_key();
    let v = verify_entry(&e, &log.trusted(), &expected(&s, &key)).unwrap();
    assert_eq!(v.integrated_time, TIME);
    assert_eq!(v.log_index, e.log_index);
    assert_eq!(v.log_id, log.log_id());
    assert!(v.checked_online_proof);
    assert!(!v.inactive_key);

    // SET alone (a legacy bundle), proof alone (a Rekor v2 style bundle): each suffices.
    let mut set_only = e.clone();
    set_only.inclusion_proof = None;
    set_only.uuid.clear();
    let v = verify_entry(&set_only, &log.trusted(), &expected(&s, &key)).unwrap();
    assert!(!v.checked_online_proof);
    let mut proof_only = e.clone();
    proof_only.signed_entry_timestamp = None;
    verify_entry(&proof_only, &log.trusted(), &expected(&s, &key)).unwrap();
    // An 80-hex entry ID (tree ID + UUID) is accepted too.
    let mut with_tree = e.clone();
    with_tree.uuid = format!("24296fb24b8ad77a{}", e.uuid);
    verify_entry(&with_tree, &log.trusted(), &expected(&s, &key)).unwrap();
    // Bundle round trips keep it verifiable.
    let from_bundle = LogEntry::from_bundle_entry(&e.to_bundle_entry().unwrap());
    verify_entry(&from_bundle, &log.trusted(), &expected(&s, &key)).unwrap();
    let from_legacy = LogEntry::from_legacy_bundle(&e.to_legacy_bundle()).unwrap();
    verify_entry(&from_legacy, &log.trusted(), &expected(&s, &key)).unwrap();
}

#[test]
fn ghsa_ccxc_body_signature_differs() {
    let mut log = Log::new();
    let s = signed_blob(b"artifact");
    let e = log.add(s.body.clone());
    let key = s.key.public_key();
    let other_sig = s
        .key
        .sign_digest(SignatureScheme::EcdsaP256Sha256, &s.digest)
        .unwrap();
    assert_ne!(other_sig, s.signature);
    let exp = Expected {
        signature: Some(&other_sig),
        ..expected(&s, &key)
    };
    let err = verify_entry(&e, &log.trusted(), &exp).unwrap_err();
    assert!(
        matches!(
            err,
            TlogError::Mismatch {
                field: "signature",
                ..
            }
        ),
        "{err}"
    );
}

#[test]
fn ghsa_8gw7_body_key_differs() {
    let mut log = Log::new();
    let s = signed_blob(b"artifact");
    let e = log.add(s.body.clone());
    let other = PrivateKey::generate_ecdsa_p256().unwrap().public_key();
    let err = verify_entry(&e, &log.trusted(), &expected(&s, &other)).unwrap_err();
    assert!(
        matches!(
            err,
            TlogError::Mismatch {
                field: "public key",
                ..
            }
        ),
        "{err}"
    );
}

#[test]
fn ghsa_whqx_body_hash_differs() {
    let mut log = Log::new();
    let s = signed_blob(b"artifact");
    let e = log.add(s.body.clone());
    let key = s.key.public_key();
    let other = hash(HashAlgorithm::Sha256, b"another artifact");
    let exp = Expected {
        artifact_digest: Some(&other),
        ..expected(&s, &key)
    };
    let err = verify_entry(&e, &log.trusted(), &exp).unwrap_err();
    assert!(
        matches!(
            err,
            TlogError::Mismatch {
                field: "artifact hash",
                ..
            }
        ),
        "{err}"
    );
    // Same hex under another algorithm is another digest.
    let sha512 = hash(HashAlgorithm::Sha512, b"artifact");
    let exp = Expected {
        artifact_digest: Some(&sha512),
        ..expected(&s, &key)
    };
    assert!(verify_entry(&e, &log.trusted(), &exp).is_err());
}

#[test]
fn nothing_expected_is_refused() {
    let mut log = Log::new();
    let s = signed_blob(b"artifact");
    let e = log.add(s.body.clone());
    let key = s.key.public_key();
    let exp = Expected {
        verifier: Some(&key),
        ..Expected::default()
    };
    assert!(matches!(
        verify_entry(&e, &log.trusted(), &exp),
        Err(TlogError::Mismatch { .. })
    ));
}

#[test]
fn set_from_another_log_key() {
    let mut log = Log::new();
    let s = signed_blob(b"artifact");
    let mut e = log.add(s.body.clone());
    let key = s.key.public_key();
    let rogue = PrivateKey::generate_ecdsa_p256().unwrap();
    let payload = set::payload(
        &STANDARD.encode(&e.body),
        e.integrated_time,
        &e.log_id,
        e.log_index,
    );
    e.signed_entry_timestamp = Some(set::sign(&payload, &rogue).unwrap());
    let err = verify_entry(&e, &log.trusted(), &expected(&s, &key)).unwrap_err();
    assert!(
        matches!(err, TlogError::SignedEntryTimestamp { .. }),
        "{err}"
    );
    // An entry naming a log that is not trusted at all.
    let mut foreign = log.add(s.body.clone());
    foreign.log_id = hex::encode(rogue.public_key().hint());
    let err = verify_entry(&foreign, &log.trusted(), &expected(&s, &key)).unwrap_err();
    assert!(matches!(err, TlogError::UnknownLog { .. }), "{err}");
    foreign.log_id = "not hex".to_owned();
    assert!(verify_entry(&foreign, &log.trusted(), &expected(&s, &key)).is_err());
    // A SET over other fields (index, time) fails.
    let mut moved = log.add(s.body.clone());
    moved.inclusion_proof = None;
    moved.integrated_time += 1;
    assert!(verify_entry(&moved, &log.trusted(), &expected(&s, &key)).is_err());
}

#[test]
fn proof_root_differs_from_checkpoint_root() {
    let mut log = Log::new();
    let s = signed_blob(b"artifact");
    let mut e = log.add(s.body.clone());
    let key = s.key.public_key();
    let proof = e.inclusion_proof.as_mut().unwrap();
    // A checkpoint correctly signed by the log, but for another tree head.
    proof.checkpoint = sign_note(
        &Checkpoint {
            origin: "rekor.test - 1".to_owned(),
            size: proof.tree_size as u64,
            root_hash: [7; 32],
            other: vec![],
        },
        "rekor.test",
        &log.key,
    )
    .unwrap();
    e.signed_entry_timestamp = None;
    let err = verify_entry(&e, &log.trusted(), &expected(&s, &key)).unwrap_err();
    assert!(
        matches!(err, TlogError::CheckpointSignature { .. }),
        "{err}"
    );
    // Also refused when a valid SET is present: a bad proof is never ignored.
    let mut with_set = log.add(s.body.clone());
    with_set.inclusion_proof.as_mut().unwrap().checkpoint =
        e.inclusion_proof.as_ref().unwrap().checkpoint.clone();
    assert!(verify_entry(&with_set, &log.trusted(), &expected(&s, &key)).is_err());
    // A checkpoint of another size.
    let mut sized = log.add(s.body.clone());
    let p = sized.inclusion_proof.as_mut().unwrap();
    p.checkpoint = sign_note(
        &Checkpoint {
            origin: "rekor.test - 1".to_owned(),
            size: p.tree_size as u64 + 1,
            root_hash: p.root_hash,
            other: vec![],
        },
        "rekor.test",
        &log.key,
    )
    .unwrap();
    assert!(verify_entry(&sized, &log.trusted(), &expected(&s, &key)).is_err());
}

#[test]
fn checkpoint_signed_by_another_key() {
    let mut log = Log::new();
    let s = signed_blob(b"artifact");
    let mut e = log.add(s.body.clone());
    let key = s.key.public_key();
    let rogue = PrivateKey::generate_ecdsa_p256().unwrap();
    let p = e.inclusion_proof.as_mut().unwrap();
    p.checkpoint = sign_note(
        &Checkpoint {
            origin: "rekor.test - 1".to_owned(),
            size: p.tree_size as u64,
            root_hash: p.root_hash,
            other: vec![],
        },
        "rekor.test",
        &rogue,
    )
    .unwrap();
    let err = verify_entry(&e, &log.trusted(), &expected(&s, &key)).unwrap_err();
    assert!(
        matches!(err, TlogError::CheckpointSignature { .. }),
        "{err}"
    );
    // No checkpoint at all.
    e.inclusion_proof.as_mut().unwrap().checkpoint.clear();
    e.signed_entry_timestamp = None;
    assert!(verify_entry(&e, &log.trusted(), &expected(&s, &key)).is_err());
}

#[test]
fn tampered_inclusion_proof() {
    let mut log = Log::new();
    let s = signed_blob(b"artifact");
    let mut e = log.add(s.body.clone());
    let key = s.key.public_key();
    e.inclusion_proof.as_mut().unwrap().hashes[0][0] ^= 1;
    let err = verify_entry(&e, &log.trusted(), &expected(&s, &key)).unwrap_err();
    assert!(matches!(err, TlogError::InclusionProof { .. }), "{err}");
    let mut negative = log.add(s.body.clone());
    negative.inclusion_proof.as_mut().unwrap().tree_size = -1;
    assert!(verify_entry(&negative, &log.trusted(), &expected(&s, &key)).is_err());
}

#[test]
fn leaf_hash_differs_from_uuid() {
    let mut log = Log::new();
    let s = signed_blob(b"artifact");
    let mut e = log.add(s.body.clone());
    let key = s.key.public_key();
    e.uuid = hex::encode([0xab; 32]);
    let err = verify_entry(&e, &log.trusted(), &expected(&s, &key)).unwrap_err();
    assert!(matches!(err, TlogError::UuidMismatch { .. }), "{err}");
    e.uuid = "xyz".to_owned();
    assert!(verify_entry(&e, &log.trusted(), &expected(&s, &key)).is_err());
}

#[test]
fn swapped_body_fails_every_proof() {
    // Another valid body under the same SET and proof: the log never signed it.
    let mut log = Log::new();
    let s = signed_blob(b"artifact");
    let t = signed_blob(b"other artifact");
    let mut e = log.add(s.body.clone());
    e.body = t.body.clone();
    e.uuid.clear();
    let key = t.key.public_key();
    assert!(verify_entry(&e, &log.trusted(), &expected(&t, &key)).is_err());
    e.signed_entry_timestamp = None;
    assert!(verify_entry(&e, &log.trusted(), &expected(&t, &key)).is_err());
}

#[test]
fn no_proof_at_all() {
    let mut log = Log::new();
    let s = signed_blob(b"artifact");
    let mut e = log.add(s.body.clone());
    let key = s.key.public_key();
    e.signed_entry_timestamp = None;
    e.inclusion_proof = None;
    assert!(matches!(
        verify_entry(&e, &log.trusted(), &expected(&s, &key)),
        Err(TlogError::NoProof)
    ));
}

#[test]
fn key_validity_windows() {
    let mut log = Log::new();
    let s = signed_blob(b"artifact");
    let e = log.add(s.body.clone());
    let key = s.key.public_key();
    let window = |from: Option<i64>, until: Option<i64>| {
        let mut logs = TrustedLogs::default();
        logs.push(TrustedLog {
            key: log.key.public_key(),
            log_id: log.key.public_key().hint(),
            valid_from: from,
            valid_until: until,
        });
        logs
    };
    // Expired since, but the entry was made while valid: verified, flagged inactive.
    let v = verify_entry(
        &e,
        &window(Some(TIME - 10), Some(TIME + 10)),
        &expected(&s, &key),
    )
    .unwrap();
    assert!(v.inactive_key);
    let v = verify_entry(&e, &window(Some(TIME - 10), None), &expected(&s, &key)).unwrap();
    assert!(!v.inactive_key);
    for (from, until) in [(Some(TIME + 1), None), (None, Some(TIME - 1))] {
        let err = verify_entry(&e, &window(from, until), &expected(&s, &key)).unwrap_err();
        assert!(matches!(err, TlogError::OutsideValidity { .. }), "{err}");
    }
    // The same key listed twice: the window holding the integrated time is used.
    let mut two = window(None, Some(TIME - 100));
    two.push(TrustedLog {
        key: log.key.public_key(),
        log_id: log.key.public_key().hint(),
        valid_from: Some(TIME - 50),
        valid_until: None,
    });
    let v = verify_entry(&e, &two, &expected(&s, &key)).unwrap();
    assert!(!v.inactive_key);
}

fn signed_envelope(key: &PrivateKey, payload: &[u8]) -> Envelope {
    let mut env = Envelope {
        payload_type: "application/vnd.in-toto+json".to_owned(),
        payload: payload.to_vec(),
        signatures: vec![],
    };
    let sig = key
        .sign_message(SignatureScheme::EcdsaP256Sha256, &env.pae())
        .unwrap();
    env.signatures.push(EnvelopeSignature {
        keyid: String::new(),
        sig,
    });
    env
}

#[test]
fn dsse_entries_are_bound_to_the_envelope() {
    let mut log = Log::new();
    let key = PrivateKey::generate_ecdsa_p256().unwrap();
    let pubkey = key.public_key();
    let env = signed_envelope(&key, br#"{"_type":"https://in-toto.io/Statement/v0.1"}"#);
    let env_json = env.to_json();
    let body = entry::canonicalize_proposed(&entry::dsse(&env_json, &[pubkey.to_pem().as_bytes()]))
        .unwrap();
    let e = log.add(body);
    let sig = env.signatures[0].sig.clone();
    let exp = Expected {
        artifact_digest: None,
        signature: Some(&sig),
        verifier: Some(&pubkey),
        verifier_cert_der: None,
        envelope: Some(&env_json),
    };
    verify_entry(&e, &log.trusted(), &exp).unwrap();
    // The protojson spelling of the same envelope (a Sigstore bundle) binds by payload hash.
    let reserialised = env.to_json_compact_new();
    assert_ne!(reserialised, env_json);
    verify_entry(
        &e,
        &log.trusted(),
        &Expected {
            envelope: Some(&reserialised),
            ..exp
        },
    )
    .unwrap();
    // Attestations without a signature annotation: bound by envelope and key.
    verify_entry(
        &e,
        &log.trusted(),
        &Expected {
            signature: None,
            ..exp
        },
    )
    .unwrap();
    // Another envelope (another statement) is refused, whatever else matches.
    let other = signed_envelope(&key, br#"{"_type":"other"}"#).to_json();
    let err = verify_entry(
        &e,
        &log.trusted(),
        &Expected {
            envelope: Some(&other),
            signature: None,
            ..exp
        },
    )
    .unwrap_err();
    assert!(
        matches!(
            err,
            TlogError::Mismatch {
                field: "envelope",
                ..
            }
        ),
        "{err}"
    );
    // Another signature or key is refused.
    let other_sig = vec![1, 2, 3];
    assert!(
        verify_entry(
            &e,
            &log.trusted(),
            &Expected {
                signature: Some(&other_sig),
                ..exp
            }
        )
        .is_err()
    );
    let other_key = PrivateKey::generate_ecdsa_p256().unwrap().public_key();
    assert!(
        verify_entry(
            &e,
            &log.trusted(),
            &Expected {
                verifier: Some(&other_key),
                ..exp
            }
        )
        .is_err()
    );
    // The payload hash may be given as the artifact digest.
    let payload_digest = hash(HashAlgorithm::Sha256, &env.payload);
    verify_entry(
        &e,
        &log.trusted(),
        &Expected {
            artifact_digest: Some(&payload_digest),
            ..exp
        },
    )
    .unwrap();
}

#[test]
fn intoto_entries_are_bound_to_the_envelope() {
    let mut log = Log::new();
    let key = PrivateKey::generate_ecdsa_p256().unwrap();
    let pubkey = key.public_key();
    let env = signed_envelope(&key, br#"{"_type":"https://in-toto.io/Statement/v0.1"}"#);
    let env_json = env.to_json();
    let body = entry::canonicalize_proposed(&entry::intoto(&env_json, pubkey.to_pem().as_bytes()))
        .unwrap();
    let e = log.add(body);
    let exp = Expected {
        artifact_digest: None,
        signature: None,
        verifier: Some(&pubkey),
        verifier_cert_der: None,
        envelope: Some(&env_json),
    };
    verify_entry(&e, &log.trusted(), &exp).unwrap();
    let other = signed_envelope(&key, b"{}").to_json();
    assert!(
        verify_entry(
            &e,
            &log.trusted(),
            &Expected {
                envelope: Some(&other),
                ..exp
            }
        )
        .is_err()
    );
}

#[test]
fn certificate_verifiers() {
    let key_pair = rcgen::KeyPair::generate().unwrap();
    let cert = rcgen::CertificateParams::new(vec!["signer.test".to_owned()])
        .unwrap()
        .self_signed(&key_pair)
        .unwrap();
    let key = PrivateKey::from_pem(key_pair.serialize_pem().as_bytes()).unwrap();
    let digest = hash(HashAlgorithm::Sha256, b"blob");
    let signature = key
        .sign_digest(SignatureScheme::EcdsaP256Sha256, &digest)
        .unwrap();
    let body = entry::canonicalize_proposed(&entry::hashedrekord(
        &digest,
        &signature,
        cert.pem().as_bytes(),
    ))
    .unwrap();
    let mut log = Log::new();
    let e = log.add(body);
    let cert_der = cert.der().to_vec();
    let base = Expected {
        artifact_digest: Some(&digest),
        signature: Some(&signature),
        verifier: None,
        verifier_cert_der: Some(&cert_der),
        envelope: None,
    };
    verify_entry(&e, &log.trusted(), &base).unwrap();
    let pubkey = key.public_key();
    verify_entry(
        &e,
        &log.trusted(),
        &Expected {
            verifier: Some(&pubkey),
            verifier_cert_der: None,
            ..base
        },
    )
    .unwrap();
    let mut other_cert = cert_der.clone();
    let last = other_cert.len() - 1;
    other_cert[last] ^= 1;
    assert!(
        verify_entry(
            &e,
            &log.trusted(),
            &Expected {
                verifier_cert_der: Some(&other_cert),
                ..base
            }
        )
        .is_err()
    );
}
