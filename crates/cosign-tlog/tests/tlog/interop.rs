//! Real material from sigstore's public-good Rekor (see tests/data/README.md): what Go Rekor
//! signed and Go cosign/sigstore-go wrote must verify here, and must stop verifying when bent.

use cosign_crypto::PublicKey;
use cosign_tlog::checkpoint::{parse_note, verify_note};
use cosign_tlog::entry::Body;
use cosign_tlog::trusted_root::TrustedRoot;
use cosign_tlog::{Expected, LogEntry, TlogError, TrustedLogs, verify_entry};
use cosign_types::bundle::VerificationMaterialContent;
use cosign_types::{Bundle, BundleContent, Digest, HashAlgorithm, RekorBundle};

const REKOR_PUB: &[u8] = include_bytes!("../data/rekor-public-good.pub");
const LEGACY_BUNDLE: &[u8] = include_bytes!("../data/cosign-legacy-rekor-bundle.json");
const BUNDLE_V02: &[u8] = include_bytes!("../data/bundle-v02-hashedrekord.json");
const TRUSTED_ROOT: &[u8] = include_bytes!("../data/trusted-root-public-good.json");

fn rekor_key() -> PublicKey {
    PublicKey::from_pem(REKOR_PUB).unwrap()
}

#[test]
fn public_good_key_is_the_log_id() {
    assert_eq!(
        hex::encode(rekor_key().hint()),
        "c0d23d6ad406973f9559f3ba2d1ca01f84147d8ffc5b8445c224f98b9591801d"
    );
}

/// A Go cosign legacy bundle: SET over the canonical payload, by the public-good key.
#[test]
fn go_cosign_legacy_bundle_set_verifies() {
    let bundle = RekorBundle::from_json(LEGACY_BUNDLE).unwrap();
    let entry = LogEntry::from_legacy_bundle(&bundle).unwrap();
    let Body::HashedRekord {
        digest,
        signature,
        verifier_pem,
    } = Body::parse(&entry.body).unwrap()
    else {
        panic!("not hashedrekord");
    };
    let signer = PublicKey::from_pem(&verifier_pem).unwrap();
    let expected = Expected {
        artifact_digest: Some(&digest),
        signature: Some(&signature),
        verifier: Some(&signer),
        verifier_cert_der: None,
        envelope: None,
    };
    let trusted = TrustedLogs::from_public_key(rekor_key());
    let v = verify_entry(&entry, &trusted, &expected).unwrap();
    assert_eq!(v.integrated_time, 1_743_113_110);
    assert_eq!(v.log_index, 189_132_280);
    assert!(!v.checked_online_proof);

    // The SET covers the integrated time and index.
    let mut moved = entry.clone();
    moved.integrated_time += 1;
    assert!(matches!(
        verify_entry(&moved, &trusted, &expected),
        Err(TlogError::SignedEntryTimestamp { .. })
    ));
    let mut moved = entry.clone();
    moved.log_index += 1;
    assert!(verify_entry(&moved, &trusted, &expected).is_err());
    // A perfectly valid public-good entry is still refused for another artifact.
    let other = Digest::from_hex(HashAlgorithm::Sha256, &"ab".repeat(32)).unwrap();
    assert!(matches!(
        verify_entry(
            &entry,
            &trusted,
            &Expected {
                artifact_digest: Some(&other),
                ..expected
            }
        ),
        Err(TlogError::Mismatch { .. })
    ));
    // Our legacy bundle writer gives back the same document.
    assert_eq!(entry.to_legacy_bundle(), bundle);
}

/// A sigstore-go v0.2 bundle: inclusion proof to a checkpoint signed by the public-good key.
#[test]
fn sigstore_go_bundle_inclusion_proof_and_checkpoint_verify() {
    let bundle = Bundle::from_json(BUNDLE_V02).unwrap();
    let tle = &bundle.verification_material.tlog_entries[0];
    let entry = LogEntry::from_bundle_entry(tle);
    assert!(entry.signed_entry_timestamp.is_none());
    let BundleContent::MessageSignature(ms) = &bundle.content else {
        panic!("not a message signature");
    };
    let digest = Digest::new(
        HashAlgorithm::Sha256,
        ms.message_digest.as_ref().unwrap().digest.clone(),
    )
    .unwrap();
    let VerificationMaterialContent::X509CertificateChain(chain) =
        &bundle.verification_material.content
    else {
        panic!("no certificate chain");
    };
    let cert = chain.certificates[0].raw_bytes.clone();
    let expected = Expected {
        artifact_digest: Some(&digest),
        signature: Some(&ms.signature),
        verifier: None,
        verifier_cert_der: Some(&cert),
        envelope: None,
    };
    let from_key = TrustedLogs::from_public_key(rekor_key());
    let v = verify_entry(&entry, &from_key, &expected).unwrap();
    assert!(v.checked_online_proof);
    assert_eq!(v.log_index, 27_246_492);
    let root = TrustedRoot::from_json(TRUSTED_ROOT).unwrap();
    verify_entry(&entry, &TrustedLogs::from_trusted_root(&root), &expected).unwrap();

    // Bent proofs fail.
    let mut bent = entry.clone();
    bent.inclusion_proof.as_mut().unwrap().hashes[3][5] ^= 0x10;
    assert!(matches!(
        verify_entry(&bent, &from_key, &expected),
        Err(TlogError::InclusionProof { .. })
    ));
    let mut bent = entry.clone();
    bent.inclusion_proof.as_mut().unwrap().log_index -= 1;
    assert!(verify_entry(&bent, &from_key, &expected).is_err());
    let mut bent = entry.clone();
    bent.inclusion_proof.as_mut().unwrap().checkpoint = bent
        .inclusion_proof
        .as_ref()
        .unwrap()
        .checkpoint
        .replace("23083062", "23083063");
    assert!(verify_entry(&bent, &from_key, &expected).is_err());

    // Round trip through our bundle writer.
    assert_eq!(entry.to_bundle_entry().unwrap(), *tle);
}

#[test]
fn real_checkpoint_verifies() {
    let bundle = Bundle::from_json(BUNDLE_V02).unwrap();
    let text = &bundle.verification_material.tlog_entries[0]
        .inclusion_proof
        .as_ref()
        .unwrap()
        .checkpoint
        .envelope;
    let note = parse_note(text).unwrap();
    assert_eq!(
        note.checkpoint.origin,
        "rekor.sigstore.dev - 2605736670972794746"
    );
    assert_eq!(note.checkpoint.size, 23_083_062);
    assert_eq!(
        note.checkpoint.other,
        vec!["Timestamp: 1689177396617352539"]
    );
    assert_eq!(note.signatures[0].name, "rekor.sigstore.dev");
    assert_eq!(hex::encode(note.signatures[0].key_hint), "c0d23d6a");
    let cp = verify_note(text, &rekor_key()).unwrap();
    assert_eq!(cp, note.checkpoint);
    let other = cosign_crypto::PrivateKey::generate_ecdsa_p256()
        .unwrap()
        .public_key();
    assert!(verify_note(text, &other).is_err());
}

#[test]
fn public_good_trusted_root() {
    let root = TrustedRoot::from_json(TRUSTED_ROOT).unwrap();
    assert_eq!(root.tlogs.len(), 1);
    let tlog = &root.tlogs[0];
    assert_eq!(tlog.base_url, "https://tlog.sigstore.dev");
    assert_eq!(tlog.hash_algorithm, "SHA2_256");
    assert_eq!(tlog.public_key, rekor_key());
    assert_eq!(tlog.log_id, rekor_key().hint());
    assert_eq!((tlog.valid_from, tlog.valid_until), (None, None));
    assert!(root.certificate_authorities.is_array());
    let again = TrustedRoot::from_json(&root.to_json()).unwrap();
    assert_eq!(again, root);
    let logs = TrustedLogs::from_trusted_root(&root);
    assert!(logs.find(&rekor_key().hint()).is_some());
    assert!(logs.find(&[0; 32]).is_none());
}

#[test]
fn trusted_root_validity_and_errors() {
    let text = String::from_utf8(TRUSTED_ROOT.to_vec()).unwrap().replace(
        "\"keyDetails\": \"PKIX_ECDSA_P256_SHA_256\"\n      },\n      \"logId\"",
        "\"keyDetails\": \"PKIX_ECDSA_P256_SHA_256\",\n        \"validFor\": {\"start\": \"2021-01-12T11:53:27.000Z\", \"end\": \"2022-04-01T00:00:00Z\"}\n      },\n      \"logId\"",
    );
    let root = TrustedRoot::from_json(text.as_bytes()).unwrap();
    assert_eq!(root.tlogs[0].valid_from, Some(1_610_452_407));
    assert_eq!(root.tlogs[0].valid_until, Some(1_648_771_200));
    let again = TrustedRoot::from_json(&root.to_json()).unwrap();
    assert_eq!(again.tlogs, root.tlogs);
    for bad in [
        &b"[]"[..],
        b"{\"tlogs\": 5}",
        b"{\"tlogs\": [{\"baseUrl\": \"x\"}]}",
        b"{\"tlogs\": [{\"publicKey\": {\"rawBytes\": \"AAAA\"}}]}",
        b"not json",
    ] {
        assert!(TrustedRoot::from_json(bad).is_err());
    }
}
