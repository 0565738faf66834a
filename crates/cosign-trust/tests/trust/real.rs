//! Real material: the certificates and timestamps of the Sigstore conformance bundles in
//! `data/`, against the public-good trusted root or the case's own.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use cosign_trust::TrustError;
use cosign_trust::trusted_root::TrustedRoot;
use cosign_trust::x509::Certificate;
use cosign_trust::x509::chain::verify_leaf_certificate;
use serde_json::Value;

const DATA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/trust/data");

/// One conformance case.
pub struct Case {
    pub bundle: Value,
    pub root: TrustedRoot,
}

pub fn read(path: &str) -> Vec<u8> {
    std::fs::read(format!("{DATA}/{path}")).unwrap_or_else(|e| panic!("{path}: {e}"))
}

pub fn public_good() -> TrustedRoot {
    TrustedRoot::from_json(&read("public-good-trusted_root.json")).unwrap()
}

pub fn case(name: &str) -> Case {
    let bundle = serde_json::from_slice(&read(&format!("{name}/bundle.sigstore.json"))).unwrap();
    let own = format!("{DATA}/{name}/trusted_root.json");
    let root = if std::path::Path::new(&own).exists() {
        TrustedRoot::from_json(&std::fs::read(own).unwrap()).unwrap()
    } else {
        public_good()
    };
    Case { bundle, root }
}

/// protojson bytes; like Go's decoder, line breaks are skipped.
fn b64(v: &Value) -> Vec<u8> {
    let s: String = v
        .as_str()
        .unwrap()
        .chars()
        .filter(|c| !matches!(c, '\n' | '\r'))
        .collect();
    STANDARD.decode(s).unwrap()
}

impl Case {
    fn material(&self) -> &Value {
        &self.bundle["verificationMaterial"]
    }

    /// The leaf certificate (v0.3 `certificate` or the first of `x509CertificateChain`).
    pub fn leaf(&self) -> Certificate {
        let m = self.material();
        let raw = if m["certificate"].is_object() {
            &m["certificate"]["rawBytes"]
        } else {
            &m["x509CertificateChain"]["certificates"][0]["rawBytes"]
        };
        Certificate::from_der(&b64(raw)).unwrap()
    }

    pub fn integrated_time(&self) -> i64 {
        self.material()["tlogEntries"][0]["integratedTime"]
            .as_str()
            .unwrap()
            .parse()
            .unwrap()
    }

    pub fn timestamp(&self) -> Vec<u8> {
        b64(
            &self.material()["timestampVerificationData"]["rfc3161Timestamps"][0]["signedTimestamp"],
        )
    }

    /// The signature bytes the timestamp covers.
    pub fn signature(&self) -> Vec<u8> {
        if self.bundle["messageSignature"].is_object() {
            b64(&self.bundle["messageSignature"]["signature"])
        } else {
            b64(&self.bundle["dsseEnvelope"]["signatures"][0]["sig"])
        }
    }
}

#[test]
fn public_good_root_parses_whole() {
    let root = public_good();
    assert_eq!(root.certificate_authorities.len(), 2);
    assert_eq!(root.ctlogs.len(), 2);
    assert_eq!(root.tlogs.len(), 2);
    assert_eq!(root.timestamp_authorities.len(), 1);
    let ca = &root.certificate_authorities[1];
    assert_eq!(ca.uri, "https://fulcio.sigstore.dev");
    assert_eq!(ca.subject.organization, "sigstore.dev");
    assert_eq!(ca.cert_chain.len(), 2);
    assert_eq!(ca.intermediates().len(), 1);
    assert_eq!(
        ca.root().unwrap().subject_string(),
        "CN=sigstore,O=sigstore.dev"
    );
    // validFor with an end of 23:59:59.999: the end is inclusive to the second.
    let first = &root.certificate_authorities[0];
    let end = first.valid_for.end.unwrap();
    assert!(first.valid_for.contains(end));
    assert!(!first.valid_for.contains(end + 1));
    // Lookups.
    let ct_id = STANDARD
        .decode("3T0wasbHETJjGR4cmWc3AqJKXrjePK3/h4pygC8p7o4=")
        .unwrap();
    assert_eq!(
        root.ctlog(&ct_id).unwrap().base_url,
        "https://ctfe.sigstore.dev/2022"
    );
    assert!(root.ctlog(&[0; 32]).is_none());
    assert_eq!(root.certificate_authorities_at(1_600_000_000).count(), 0);
    assert_eq!(root.certificate_authorities_at(1_689_177_396).count(), 1);
    assert_eq!(root.certificate_authorities_at(1_660_000_000).count(), 2);
    assert_eq!(root.timestamp_authorities_at(1_700_000_000).count(), 0);
    assert_eq!(root.timestamp_authorities_at(1_800_000_000).count(), 1);
}

#[test]
fn a_tlog_without_validity_start_is_refused() {
    let json = read("trust-root-tlog-missing-validity-start_fail/trusted_root.json");
    let e = TrustedRoot::from_json(&json).unwrap_err();
    assert!(matches!(e, TrustError::BadTrustedRoot { .. }), "{e}");
    assert!(e.to_string().contains("validity period start"), "{e}");
}

#[test]
fn media_type_and_shape_are_checked() {
    let mut root: Value = serde_json::from_slice(&read("public-good-trusted_root.json")).unwrap();
    for (edit, needle) in [
        (("mediaType", Value::from("application/json")), "media type"),
        (("ctlogs", Value::from(5)), "not a list"),
        (
            ("certificateAuthorities", serde_json::json!([{"uri": "x"}])),
            "cert chain",
        ),
    ] {
        let mut r = root.clone();
        r[edit.0] = edit.1;
        let e = TrustedRoot::from_json(&serde_json::to_vec(&r).unwrap()).unwrap_err();
        assert!(e.to_string().contains(needle), "{e}");
    }
    root["mediaType"] = Value::from("application/vnd.dev.sigstore.trustedroot.v0.2+json");
    TrustedRoot::from_json(&serde_json::to_vec(&root).unwrap()).unwrap();
    assert!(TrustedRoot::from_json(b"{").is_err());
    assert!(TrustedRoot::from_json(b"[]").is_err());
}

#[test]
fn fulcio_leaves_chain_at_signing_time() {
    for name in [
        "happy-path-v0.1",
        "happy-path-v0.3",
        "happy-path-intoto-in-dsse-v3",
        "trust-root-tlog-validity-end-inclusive",
    ] {
        let c = case(name);
        let leaf = c.leaf();
        let chain = verify_leaf_certificate(&leaf, &c.root, c.integrated_time())
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(chain.len(), 3, "{name}");
        assert_eq!(chain[2].subject_string(), "CN=sigstore,O=sigstore.dev");
        // A minute after the 10-minute certificate expired, the same chain fails.
        let late = leaf.not_after() + 60;
        let e = verify_leaf_certificate(&leaf, &c.root, late).unwrap_err();
        assert!(e.to_string().contains("is not valid at"), "{name}: {e}");
    }
}

#[test]
fn a_staging_certificate_is_not_trusted_by_public_good() {
    let c = case("bundle-from-wrong-instance_fail");
    let e = verify_leaf_certificate(&c.leaf(), &c.root, c.integrated_time()).unwrap_err();
    assert!(matches!(e, TrustError::Chain { .. }), "{e}");
}

#[test]
fn a_certificate_issued_outside_the_ca_window_fails() {
    // The case's trusted root ends the CA's validity before the certificate was issued.
    let c = case("intoto-expired-certificate_fail");
    let e = verify_leaf_certificate(&c.leaf(), &c.root, c.integrated_time()).unwrap_err();
    assert!(e.to_string().contains("not valid at"), "{e}");
}

#[test]
fn a_log_time_outside_the_certificate_lifetime_fails() {
    for name in [
        "integrated-time-in-future_fail",
        "intoto-set-outside-signing-cert-validity_fail",
    ] {
        let c = case(name);
        let e = verify_leaf_certificate(&c.leaf(), &c.root, c.integrated_time()).unwrap_err();
        assert!(e.to_string().contains("is not valid at"), "{name}: {e}");
        // Within the certificate's lifetime the same chain verifies.
        let leaf = c.leaf();
        verify_leaf_certificate(&leaf, &c.root, leaf.not_before()).unwrap();
    }
}

#[test]
fn custom_trust_root_chain() {
    let c = case("intoto-with-custom-trust-root");
    verify_leaf_certificate(&c.leaf(), &c.root, c.integrated_time()).unwrap();
}

mod timestamps {
    use super::*;
    use cosign_trust::timestamp::TimestampToken;

    fn verify(name: &str) -> Result<cosign_trust::timestamp::VerifiedTimestamp, TrustError> {
        let c = case(name);
        TimestampToken::from_der(&c.timestamp())?.verify(&c.signature(), &c.root)
    }

    #[test]
    fn good_timestamps_verify() {
        for name in [
            "rekor2-happy-path",
            "rekor2-dsse-happy-path",
            "rekor2-timestamp-with-embedded-cert",
            "rekor2-timestamp-without-embedded-cert",
            // The TSA chain has expired since, but was valid at genTime.
            "rekor2-timestamp-with-expired-cert-chain",
            "intoto-with-custom-trust-root",
            "managed-key-happy-path",
            "bundle-with-sct-with-extensions",
        ] {
            let ts = verify(name).unwrap_or_else(|e| panic!("{name}: {e}"));
            assert!(ts.time > 1_600_000_000, "{name}");
            assert!(!ts.chain.is_empty(), "{name}");
        }
    }

    #[test]
    fn validity_end_of_the_tsa_is_inclusive() {
        let ts = verify("trust-root-tsa-validity-end-inclusive").unwrap();
        let c = case("trust-root-tsa-validity-end-inclusive");
        assert_eq!(Some(ts.time), c.root.timestamp_authorities[0].valid_for.end);
        assert_eq!(cosign_types::time::rfc3339(ts.time), "2025-06-12T12:02:20Z");
    }

    #[test]
    fn bad_timestamps_fail() {
        for (name, needle) in [
            (
                "rekor2-timestamp-outside-trust-root-tsa-validity_fail",
                "not valid at",
            ),
            (
                "rekor2-timestamp-outside-tsa-cert-validity_fail",
                "not valid at",
            ),
            ("rekor2-timestamp-payload-mismatch_fail", "message imprint"),
            (
                "rekor2-timestamp-untrusted-tsa-with-embedded-cert_fail",
                "vouches",
            ),
            (
                "rekor2-timestamp-untrusted-tsa-without-embedded-cert_fail",
                "vouches",
            ),
        ] {
            let e = verify(name).unwrap_err();
            assert!(matches!(e, TrustError::Timestamp { .. }), "{name}: {e}");
            assert!(e.to_string().contains(needle), "{name}: {e}");
        }
    }

    #[test]
    fn a_timestamp_outside_the_certificate_lifetime_does_not_make_it_valid() {
        for name in [
            "rekor2-timestamp-with-incorrect-time_fail",
            "intoto-tsa-timestamp-outside-cert-validity_fail",
        ] {
            let c = case(name);
            let ts = verify(name).unwrap_or_else(|e| panic!("{name}: {e}"));
            let e = verify_leaf_certificate(&c.leaf(), &c.root, ts.time).unwrap_err();
            assert!(e.to_string().contains("not valid at"), "{name}: {e}");
        }
    }
}

#[test]
fn corrupted_real_material_never_panics() {
    use cosign_trust::sct::verify_embedded_scts;
    use cosign_trust::timestamp::TimestampToken;
    let c = case("rekor2-timestamp-with-embedded-cert");
    let (ts, sig) = (c.timestamp(), c.signature());
    // Bytes of this token that nothing vouches for, so a flip there may still verify: the
    // PKIStatus value (granted / grantedWithMods), the unsigned list of digest algorithms, and
    // the embedded certificates (a damaged copy of the signer's certificate no longer matches
    // the signer identifier, and the trusted root's copy of the TSA certificate is used).
    let unvouched = |i: usize| i == 8 || (35..50).contains(&i) || (247..782).contains(&i);
    for i in 0..ts.len() {
        for bit in [0x01, 0x80] {
            let mut bad = ts.clone();
            bad[i] ^= bit;
            if let Ok(t) = TimestampToken::from_der(&bad) {
                let ok = t.verify(&sig, &c.root).is_ok();
                assert!(
                    !ok || unvouched(i),
                    "flipping {bit:#x} at {i} still verifies"
                );
            }
        }
    }
    let c = case("happy-path-v0.3");
    let der = c.leaf().der().to_vec();
    let time = c.integrated_time();
    let mut accepted = 0;
    for i in 0..der.len() {
        let mut bad = der.clone();
        bad[i] ^= 0x01;
        if let Ok(leaf) = Certificate::from_der(&bad) {
            if let Ok(chain) = verify_leaf_certificate(&leaf, &c.root, time) {
                accepted += usize::from(verify_embedded_scts(&chain, &c.root, 1).is_ok());
            }
        }
    }
    assert_eq!(accepted, 0);
}
