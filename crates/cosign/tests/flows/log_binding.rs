//! Decision 0007: a log entry counts only for the artifact, signature and key it records
//! (GHSA-ccxc-vr6p-4858): a log that answers with an entry for something else, correctly
//! signed by the log, fails the flow.

use std::collections::BTreeMap;

use cosign::image::verify::verify_image_from;
use cosign::tlog::{TlogUpload, TlogVerify, upload_hashedrekord, verify_signature_entry};
use cosign_tlog::{Expected, entry};
use cosign_types::annotations::BUNDLE_ANNOTATION;
use cosign_types::{Digest, HashAlgorithm};

use crate::fakes::{FakeLog, LogLie, MemStore, image_ref, sha256};
use crate::{Key, legacy_layer, put_sig_image, subject, verify_options};

/// A signed artifact: its digest, the signature and the signer.
struct Signed {
    digest: Digest,
    signature: Vec<u8>,
    key: Key,
}

impl Signed {
    fn new(artifact: &[u8]) -> Self {
        let key = Key::new();
        Self {
            digest: sha256(artifact),
            signature: key.sign(artifact),
            key,
        }
    }

    fn proposed(&self) -> serde_json::Value {
        entry::hashedrekord(&self.digest, &self.signature, self.key.pem().as_bytes())
    }

    fn expected(&self) -> (Digest, Vec<u8>, cosign_crypto::PublicKey) {
        (
            self.digest.clone(),
            self.signature.clone(),
            self.key.private.public_key(),
        )
    }
}

/// Valid entries (the log checks them) for something else than `ours`: another artifact
/// signed by the same key, another signature of the same artifact by the same key (ECDSA
/// signatures differ each time), the same artifact signed by another key.
fn others(ours: &Signed, artifact: &[u8]) -> Vec<(&'static str, serde_json::Value)> {
    let pem = ours.key.pem();
    let other_artifact = b"another artifact";
    let other_key = Key::new();
    vec![
        (
            "another artifact",
            entry::hashedrekord(
                &sha256(other_artifact),
                &ours.key.sign(other_artifact),
                pem.as_bytes(),
            ),
        ),
        (
            "another signature",
            entry::hashedrekord(&ours.digest, &ours.key.sign(artifact), pem.as_bytes()),
        ),
        (
            "another key",
            entry::hashedrekord(
                &ours.digest,
                &other_key.sign(artifact),
                other_key.pem().as_bytes(),
            ),
        ),
    ]
}

#[tokio::test]
async fn signing_refuses_a_log_answer_for_something_else() {
    let ours = Signed::new(b"artifact");
    let (digest, signature, key) = ours.expected();
    let honest = FakeLog::new(LogLie::None);
    for trusted in [Some(honest.trusted()), None] {
        let up = TlogUpload {
            client: &honest,
            trusted,
        };
        upload_hashedrekord(&up, &digest, &signature, &key, ours.key.pem().as_bytes())
            .await
            .unwrap();
    }
    for (what, lie) in others(&ours, b"artifact") {
        let log = FakeLog::new(LogLie::EntryFor(lie));
        for trusted in [Some(log.trusted()), None] {
            let up = TlogUpload {
                client: &log,
                trusted,
            };
            let err =
                upload_hashedrekord(&up, &digest, &signature, &key, ours.key.pem().as_bytes())
                    .await
                    .expect_err(what)
                    .to_string();
            assert!(
                err.contains("checking the transparency log's answer"),
                "{what}: {err}"
            );
        }
    }
}

#[tokio::test]
async fn an_online_lookup_refuses_an_entry_for_something_else() {
    let ours = Signed::new(b"artifact");
    let (digest, signature, key) = ours.expected();
    let expected = Expected {
        artifact_digest: Some(&digest),
        signature: Some(&signature),
        verifier: Some(&key),
        verifier_cert_der: None,
        envelope: None,
    };
    let honest = FakeLog::new(LogLie::None);
    honest.integrate(&ours.proposed());
    let tv = TlogVerify {
        trusted: honest.trusted(),
        client: Some(&honest),
    };
    let found = verify_signature_entry(&tv, None, Some(&digest), &expected)
        .await
        .unwrap();
    assert!(!found.offline);
    for (what, lie) in others(&ours, b"artifact") {
        let log = FakeLog::new(LogLie::EntryFor(lie));
        log.integrate(&ours.proposed());
        let tv = TlogVerify {
            trusted: log.trusted(),
            client: Some(&log),
        };
        let err = verify_signature_entry(&tv, None, Some(&digest), &expected)
            .await
            .expect_err(what)
            .to_string();
        assert!(
            err.contains("no matching transparency log entry"),
            "{what}: {err}"
        );
    }
}

#[tokio::test]
async fn a_bundled_entry_for_something_else_is_refused() {
    let ours = Signed::new(b"artifact");
    let (digest, signature, key) = ours.expected();
    let expected = Expected {
        artifact_digest: Some(&digest),
        signature: Some(&signature),
        verifier: Some(&key),
        verifier_cert_der: None,
        envelope: None,
    };
    let log = FakeLog::new(LogLie::None);
    let tv: TlogVerify<FakeLog> = TlogVerify {
        trusted: log.trusted(),
        client: None,
    };
    let good = log.integrate(&ours.proposed());
    let found = verify_signature_entry(&tv, Some(&good), None, &expected)
        .await
        .unwrap();
    assert!(found.offline);
    for (what, lie) in others(&ours, b"artifact") {
        let bad = log.integrate(&lie);
        verify_signature_entry(&tv, Some(&bad), None, &expected)
            .await
            .expect_err(what);
    }
}

#[tokio::test]
async fn verify_refuses_a_legacy_signature_whose_bundle_records_something_else() {
    let (key, store) = (Key::new(), MemStore::new());
    let log = FakeLog::new(LogLie::None);
    // The signature layer as it verifies, then its Rekor bundle.
    let (layer, payload, signature) = legacy_layer(&store, &key, BTreeMap::new());
    let ours = entry::hashedrekord(
        &cosign_crypto::hash(HashAlgorithm::Sha256, &payload),
        &signature,
        key.pem().as_bytes(),
    );
    let wrong = entry::hashedrekord(&sha256(b"else"), &key.sign(b"else"), key.pem().as_bytes());
    let mut opts = verify_options(&key);
    opts.tlog = Some(TlogVerify {
        trusted: log.trusted(),
        client: None,
    });
    for (proposed, ok) in [(ours, true), (wrong, false)] {
        let bundle = log.integrate(&proposed).to_legacy_bundle().to_json();
        let mut layer = layer.clone();
        layer.annotations.insert(
            BUNDLE_ANNOTATION.to_owned(),
            String::from_utf8(bundle).unwrap(),
        );
        put_sig_image(&store, vec![layer]);
        let result = verify_image_from(&store, &image_ref(&subject()), &opts).await;
        match (result, ok) {
            (Ok(v), true) => assert!(v.signatures[0].tlog.as_ref().unwrap().offline),
            (Err(cosign::Error::NoMatchingSignatures(_)), false) => {}
            (other, _) => panic!("expected ok={ok}, got {other:?}"),
        }
    }
}
