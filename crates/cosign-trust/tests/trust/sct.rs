//! SCTs: the real embedded SCTs of Fulcio certificates, then SCTs made here by a test log.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use cosign_trust::TrustError;
use cosign_trust::sct::{Sct, embedded_scts, tbs_without_scts, verify_embedded_scts};
use cosign_trust::trusted_root::TrustedRoot;
use cosign_trust::x509::chain::verify_leaf_certificate;
use rcgen::{CustomExtension, KeyPair, PublicKeyData, SerialNumber, SigningKey};
use serde_json::json;
use sha2::Digest as _;

use crate::pki::*;
use crate::real::case;

fn real_chain(name: &str) -> (Vec<cosign_trust::x509::Certificate>, TrustedRoot) {
    let c = case(name);
    let leaf = c.leaf();
    // Any time within the leaf's validity (the chain, not the time, is under test here).
    let chain = verify_leaf_certificate(&leaf, &c.root, leaf.not_before() + 1).unwrap();
    (chain, c.root)
}

#[test]
fn real_embedded_scts_verify() {
    for name in [
        "happy-path-v0.1",
        "happy-path-v0.3",
        "rekor2-happy-path",
        "bundle-with-sct-with-extensions",
    ] {
        let (chain, root) = real_chain(name);
        assert_eq!(
            verify_embedded_scts(&chain, &root, 1).unwrap_or_else(|e| panic!("{name}: {e}")),
            1
        );
    }
    // The static-CT SCT carries extensions, and they are signed.
    let (chain, _) = real_chain("bundle-with-sct-with-extensions");
    assert!(!embedded_scts(&chain[0]).unwrap()[0].extensions.is_empty());
}

#[test]
fn a_wrong_ct_key_fails() {
    let (chain, root) = real_chain("invalid-ct-key_fail");
    let e = verify_embedded_scts(&chain, &root, 1).unwrap_err();
    assert!(matches!(e, TrustError::Sct { .. }), "{e}");
    assert!(
        e.to_string().contains("only able to verify 0 SCT entries"),
        "{e}"
    );
    // Threshold 0 (`--insecure-ignore-sct` is the caller's business) accepts it.
    assert_eq!(verify_embedded_scts(&chain, &root, 0).unwrap(), 0);
}

#[test]
fn a_real_sct_over_another_certificate_fails() {
    // The SCT of one Fulcio certificate, checked against another's TBS.
    let (a, root) = real_chain("happy-path-v0.3");
    let (b, _) = real_chain("happy-path-v0.1");
    let sct = &embedded_scts(&a[0]).unwrap()[0];
    sct.verify_embedded(&a[0], &a[1], &root).unwrap();
    let e = sct.verify_embedded(&b[0], &b[1], &root).unwrap_err();
    assert!(e.to_string().contains("invalid signature"), "{e}");
    // ... or with the wrong issuer key hash.
    assert!(sct.verify_embedded(&a[0], &a[2], &root).is_err());
}

/// A CT log of our own.
struct Log {
    key: KeyPair,
}

impl Log {
    fn new() -> Self {
        Self {
            key: KeyPair::generate().unwrap(),
        }
    }

    fn id(&self) -> [u8; 32] {
        sha2::Sha256::digest(self.key.subject_public_key_info()).into()
    }

    fn entry(&self, valid_for: serde_json::Value) -> serde_json::Value {
        log(&self.key.subject_public_key_info(), &self.id(), valid_for)
    }

    /// Signs an entry; returns the SCT's TLS encoding.
    fn sign(&self, entry_type: u16, entry: &[u8], timestamp_ms: u64, extensions: &[u8]) -> Vec<u8> {
        let mut signed = vec![0u8, 0];
        signed.extend_from_slice(&timestamp_ms.to_be_bytes());
        signed.extend_from_slice(&entry_type.to_be_bytes());
        signed.extend_from_slice(entry);
        signed.extend_from_slice(&(extensions.len() as u16).to_be_bytes());
        signed.extend_from_slice(extensions);
        let sig = self.key.sign(&signed).unwrap();
        let mut sct = vec![0u8];
        sct.extend_from_slice(&self.id());
        sct.extend_from_slice(&timestamp_ms.to_be_bytes());
        sct.extend_from_slice(&(extensions.len() as u16).to_be_bytes());
        sct.extend_from_slice(extensions);
        sct.extend_from_slice(&[4, 3]);
        sct.extend_from_slice(&(sig.len() as u16).to_be_bytes());
        sct.extend_from_slice(&sig);
        sct
    }
}

fn u24(data: &[u8]) -> Vec<u8> {
    let mut out = (data.len() as u32).to_be_bytes()[1..].to_vec();
    out.extend_from_slice(data);
    out
}

/// The SCT list extension value holding `scts`.
fn sct_list(scts: &[Vec<u8>]) -> Vec<u8> {
    let mut items = Vec::new();
    for s in scts {
        items.extend_from_slice(&(s.len() as u16).to_be_bytes());
        items.extend_from_slice(s);
    }
    let mut list = (items.len() as u16).to_be_bytes().to_vec();
    list.extend_from_slice(&items);
    der(0x04, &list)
}

const SCT_OID: [u64; 10] = [1, 3, 6, 1, 4, 1, 11129, 2, 4, 2];
const MS_2030: u64 = T2030 as u64 * 1000;

/// A leaf with an embedded SCT list made by `make(precert_entry)`, issued by `fulcio`.
fn leaf_with_scts(
    fulcio: &Fulcio,
    make: impl Fn(&[u8]) -> Vec<Vec<u8>>,
) -> cosign_trust::x509::Certificate {
    let key = KeyPair::generate().unwrap();
    let build = |ext: Vec<u8>| {
        let mut p = leaf_params("a@test.example", "https://issuer.test.example");
        p.serial_number = Some(SerialNumber::from_slice(&[0x11, 0x22, 0x33]));
        p.custom_extensions
            .push(CustomExtension::from_oid_content(&SCT_OID, ext));
        let der = p
            .signed_by(&key, &fulcio.intermediate.issuer())
            .unwrap()
            .der()
            .to_vec();
        cosign_trust::x509::Certificate::from_der(&der).unwrap()
    };
    // The precertificate TBS does not depend on the SCTs, so a placeholder gives it.
    let placeholder = build(sct_list(&[vec![0; 8]]));
    let mut entry =
        sha2::Sha256::digest(fulcio.intermediate.key.subject_public_key_info()).to_vec();
    entry.extend_from_slice(&u24(&tbs_without_scts(&placeholder).unwrap()));
    let leaf = build(sct_list(&make(&entry)));
    assert_eq!(
        tbs_without_scts(&leaf).unwrap(),
        tbs_without_scts(&placeholder).unwrap()
    );
    leaf
}

fn chain_of(
    fulcio: &Fulcio,
    leaf: cosign_trust::x509::Certificate,
) -> Vec<cosign_trust::x509::Certificate> {
    vec![leaf, fulcio.intermediate.parsed(), fulcio.root.parsed()]
}

fn root_with(logs: &[&Log], valid_for: serde_json::Value) -> TrustedRoot {
    trusted_root(
        vec![],
        logs.iter().map(|l| l.entry(valid_for.clone())).collect(),
        vec![],
    )
}

#[test]
fn a_made_embedded_sct_verifies_and_each_flaw_fails() {
    let f = Fulcio::new();
    let log = Log::new();
    let root = root_with(&[&log], since("2029-01-01T00:00:00Z"));
    let good = leaf_with_scts(&f, |e| vec![log.sign(1, e, MS_2030, b"")]);
    assert_eq!(
        verify_embedded_scts(&chain_of(&f, good.clone()), &root, 1).unwrap(),
        1
    );

    // From a log the trusted root does not know.
    let stranger = Log::new();
    let unknown = leaf_with_scts(&f, |e| vec![stranger.sign(1, e, MS_2030, b"")]);
    let e = verify_embedded_scts(&chain_of(&f, unknown), &root, 1).unwrap_err();
    assert!(e.to_string().contains("no CT log with ID"), "{e}");

    // A bad signature (signed over other extensions than those listed).
    let bad = leaf_with_scts(&f, |e| {
        let mut sct = log.sign(1, e, MS_2030, b"");
        let n = sct.len() - 3;
        sct[n] ^= 1;
        vec![sct]
    });
    let e = verify_embedded_scts(&chain_of(&f, bad), &root, 1).unwrap_err();
    assert!(e.to_string().contains("invalid signature"), "{e}");

    // Over another certificate: an x509_entry of the entry bytes, not a precert_entry.
    let wrong_type = leaf_with_scts(&f, |e| vec![log.sign(0, e, MS_2030, b"")]);
    assert!(verify_embedded_scts(&chain_of(&f, wrong_type), &root, 1).is_err());

    // The log was not valid at the SCT time; the end is inclusive.
    let early = root_with(&[&log], since("2030-06-01T00:00:00Z"));
    let e = verify_embedded_scts(&chain_of(&f, good.clone()), &early, 1).unwrap_err();
    assert!(e.to_string().contains("not valid at the SCT time"), "{e}");
    let edge = root_with(
        &[&log],
        json!({"start": "2029-01-01T00:00:00Z", "end": "2030-01-01T00:00:00Z"}),
    );
    verify_embedded_scts(&chain_of(&f, good.clone()), &edge, 1).unwrap();

    // Two SCTs from the same log count once; two logs count twice.
    let second = Log::new();
    let both = root_with(&[&log, &second], since("2029-01-01T00:00:00Z"));
    let twice = leaf_with_scts(&f, |e| {
        vec![
            log.sign(1, e, MS_2030, b""),
            log.sign(1, e, MS_2030 + 1, b"x"),
            second.sign(1, e, MS_2030, b""),
        ]
    });
    assert_eq!(
        verify_embedded_scts(&chain_of(&f, twice.clone()), &both, 2).unwrap(),
        2
    );
    assert!(verify_embedded_scts(&chain_of(&f, twice), &root, 2).is_err());

    // No SCT at all.
    let plain = f
        .leaf(leaf_params("a@test.example", "https://issuer.test.example"))
        .parsed();
    assert!(verify_embedded_scts(&chain_of(&f, plain), &root, 1).is_err());
}

fn detached_json(log: &Log, cert_der: &[u8], timestamp_ms: u64) -> Vec<u8> {
    let sct = log.sign(0, &u24(cert_der), timestamp_ms, b"");
    // The signature part of the TLS SCT: hash, algorithm, length-prefixed signature.
    let sig = &sct[1 + 32 + 8 + 2..];
    serde_json::to_vec(&json!({
        "sct_version": 0,
        "id": STANDARD.encode(log.id()),
        "timestamp": timestamp_ms,
        "extensions": "",
        "signature": STANDARD.encode(sig),
    }))
    .unwrap()
}

#[test]
fn a_detached_sct_verifies_over_its_certificate_only() {
    let f = Fulcio::new();
    let log = Log::new();
    let root = root_with(&[&log], since("2029-01-01T00:00:00Z"));
    let cert = f
        .leaf(leaf_params("a@test.example", "https://issuer.test.example"))
        .parsed();
    let other = f
        .leaf(leaf_params("b@test.example", "https://issuer.test.example"))
        .parsed();
    let sct = Sct::from_json(&detached_json(&log, cert.der(), MS_2030)).unwrap();
    assert_eq!(sct.time(), T2030);
    sct.verify_detached(&cert, &root).unwrap();
    let e = sct.verify_detached(&other, &root).unwrap_err();
    assert!(e.to_string().contains("invalid signature"), "{e}");
    let stranger = Log::new();
    let sct = Sct::from_json(&detached_json(&stranger, cert.der(), MS_2030)).unwrap();
    assert!(sct.verify_detached(&cert, &root).is_err());
    for junk in [
        &b"{"[..],
        br#"{"sct_version":1,"id":"","timestamp":0,"signature":""}"#,
        br#"{"sct_version":0,"id":"AA==","timestamp":0,"signature":""}"#,
    ] {
        assert!(Sct::from_json(junk).is_err());
    }
}
