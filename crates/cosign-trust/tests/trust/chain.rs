//! Certificate chains built here: one good chain, then each rule broken once.

use cosign_trust::TrustError;
use cosign_trust::x509::chain::verify_leaf_certificate;
use rcgen::{ExtendedKeyUsagePurpose, KeyUsagePurpose};
use serde_json::json;

use crate::pki::*;

fn check(fulcio: &Fulcio, leaf: &Cert, time: i64) -> Result<usize, TrustError> {
    let root = trusted_root(
        vec![fulcio.authority(since("2029-01-01T00:00:00Z"))],
        vec![],
        vec![],
    );
    verify_leaf_certificate(&leaf.parsed(), &root, time).map(|c| c.len())
}

fn fails(result: Result<usize, TrustError>, needle: &str) {
    let e = result.unwrap_err();
    assert!(matches!(e, TrustError::Chain { .. }), "{e}");
    assert!(e.to_string().contains(needle), "{needle:?} not in: {e}");
}

#[test]
fn a_good_chain_verifies() {
    let f = Fulcio::new();
    let leaf = f.leaf(leaf_params("a@test.example", "https://issuer.test.example"));
    assert_eq!(check(&f, &leaf, T2030).unwrap(), 3);
    // Both ends of the leaf's validity are inclusive.
    let parsed = leaf.parsed();
    assert_eq!(check(&f, &leaf, parsed.not_before()).unwrap(), 3);
    assert_eq!(check(&f, &leaf, parsed.not_after()).unwrap(), 3);
}

#[test]
fn a_leaf_from_another_ca_is_untrusted() {
    let trusted = Fulcio::new();
    let other = Fulcio::new();
    let leaf = other.leaf(leaf_params("a@test.example", "https://issuer.test.example"));
    // Same names, other keys.
    fails(check(&trusted, &leaf, T2030), "invalid signature");
    // Other names.
    let root = self_signed(ca_params("elsewhere-root", None));
    let elsewhere = Fulcio {
        intermediate: signed(ca_params("elsewhere", None), &root),
        root,
    };
    let leaf = elsewhere.leaf(leaf_params("a@test.example", "https://issuer.test.example"));
    fails(check(&trusted, &leaf, T2030), "unknown authority");
}

#[test]
fn a_leaf_expired_at_signing_time_fails() {
    let f = Fulcio::new();
    let mut p = leaf_params("a@test.example", "https://issuer.test.example");
    p.not_before = rcgen::date_time_ymd(2029, 6, 1);
    p.not_after = rcgen::date_time_ymd(2029, 6, 2);
    let leaf = f.leaf(p);
    fails(
        check(&f, &leaf, T2030),
        "is not valid at 2030-01-01T00:00:00Z",
    );
    // ... and one not yet valid.
    fails(check(&f, &leaf, T2030 - 365 * 86_400), "is not valid at");
}

#[test]
fn a_ca_outside_its_valid_for_fails() {
    let f = Fulcio::new();
    let leaf = f.leaf(leaf_params("a@test.example", "https://issuer.test.example"));
    for window in [
        json!({"start": "2030-06-01T00:00:00Z"}),
        json!({"start": "2029-01-01T00:00:00Z", "end": "2029-12-31T23:59:59Z"}),
    ] {
        let root = trusted_root(vec![f.authority(window)], vec![], vec![]);
        let e = verify_leaf_certificate(&leaf.parsed(), &root, T2030).unwrap_err();
        assert!(
            e.to_string()
                .contains("authority https://ca.test.example is not valid"),
            "{e}"
        );
    }
    // The end is inclusive.
    let root = trusted_root(
        vec![f.authority(json!({"start": "2029-01-01T00:00:00Z", "end": "2030-01-01T00:00:00Z"}))],
        vec![],
        vec![],
    );
    verify_leaf_certificate(&leaf.parsed(), &root, T2030).unwrap();
}

#[test]
fn a_leaf_without_code_signing_fails() {
    let f = Fulcio::new();
    let mut p = leaf_params("a@test.example", "https://issuer.test.example");
    p.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    fails(check(&f, &f.leaf(p), T2030), "codeSigning");
    let mut p = leaf_params("a@test.example", "https://issuer.test.example");
    p.extended_key_usages = vec![];
    fails(check(&f, &f.leaf(p), T2030), "codeSigning");
    let mut p = leaf_params("a@test.example", "https://issuer.test.example");
    p.key_usages = vec![KeyUsagePurpose::KeyEncipherment];
    fails(check(&f, &f.leaf(p), T2030), "digitalSignature");
}

#[test]
fn an_intermediate_that_is_not_a_ca_fails() {
    let root = self_signed(ca_params("test-root", None));
    let mut ip = params("not-a-ca");
    ip.key_usages = vec![KeyUsagePurpose::KeyCertSign];
    let intermediate = signed(ip, &root);
    let f = Fulcio { root, intermediate };
    let leaf = f.leaf(leaf_params("a@test.example", "https://issuer.test.example"));
    fails(check(&f, &leaf, T2030), "is not a CA");
}

#[test]
fn path_length_is_enforced() {
    // The root allows no intermediate below it.
    let root = self_signed(ca_params("test-root", Some(0)));
    let intermediate = signed(ca_params("test-intermediate", None), &root);
    let f = Fulcio { root, intermediate };
    let leaf = f.leaf(leaf_params("a@test.example", "https://issuer.test.example"));
    fails(check(&f, &leaf, T2030), "allows 0 intermediate");
}

#[test]
fn an_intermediate_restricted_to_other_usages_fails() {
    let root = self_signed(ca_params("test-root", None));
    let mut ip = ca_params("test-intermediate", None);
    ip.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    let intermediate = signed(ip, &root);
    let f = Fulcio { root, intermediate };
    let leaf = f.leaf(leaf_params("a@test.example", "https://issuer.test.example"));
    fails(check(&f, &leaf, T2030), "does not allow extended key usage");
}

#[test]
fn a_forged_signature_fails() {
    let f = Fulcio::new();
    let leaf = f.leaf(leaf_params("a@test.example", "https://issuer.test.example"));
    let mut der = leaf.der.clone();
    let last = der.len() - 3;
    der[last] ^= 0x01;
    let forged = cosign_trust::x509::Certificate::from_der(&der).unwrap();
    let root = trusted_root(
        vec![f.authority(since("2029-01-01T00:00:00Z"))],
        vec![],
        vec![],
    );
    let e = verify_leaf_certificate(&forged, &root, T2030).unwrap_err();
    assert!(e.to_string().contains("invalid signature"), "{e}");
}

#[test]
fn malformed_certificates_are_errors() {
    use cosign_trust::x509::Certificate;
    assert!(Certificate::from_der(b"").is_err());
    assert!(Certificate::from_der(&[0x30, 0x82, 0xff, 0xff]).is_err());
    assert!(Certificate::from_pem(b"no pem here").is_err());
    let f = Fulcio::new();
    let pem = format!(
        "{}{}",
        f.root.parsed().to_pem(),
        f.intermediate.parsed().to_pem()
    );
    assert_eq!(Certificate::from_pem(pem.as_bytes()).unwrap().len(), 2);
    let mut trailing = f.root.der.clone();
    trailing.push(0);
    assert!(Certificate::from_der(&trailing).is_err());
}

#[test]
fn an_unknown_critical_extension_fails() {
    let f = Fulcio::new();
    let mut p = leaf_params("a@test.example", "https://issuer.test.example");
    let mut ext = rcgen::CustomExtension::from_oid_content(&[1, 2, 3, 4, 5], vec![0x05, 0x00]);
    ext.set_criticality(true);
    p.custom_extensions.push(ext);
    fails(
        check(&f, &f.leaf(p), T2030),
        "unhandled critical extension 1.2.3.4.5",
    );
    // The same extension, not critical, is ignored.
    let mut p = leaf_params("a@test.example", "https://issuer.test.example");
    p.custom_extensions
        .push(rcgen::CustomExtension::from_oid_content(
            &[1, 2, 3, 4, 5],
            vec![0x05, 0x00],
        ));
    assert_eq!(check(&f, &f.leaf(p), T2030).unwrap(), 3);
}

#[test]
fn names_must_chain_even_when_keys_match() {
    // "other-name" holds the root's key, so the leaf's signature verifies with the root's key,
    // but the leaf names "other-name" as its issuer, not the root.
    let root = self_signed(ca_params("test-root", None));
    let other = ca_params("other-name", None);
    let leaf_p = leaf_params("a@test.example", "https://issuer.test.example");
    let leaf_key = rcgen::KeyPair::generate().unwrap();
    let leaf = leaf_p
        .signed_by(&leaf_key, &rcgen::Issuer::from_params(&other, &root.key))
        .unwrap();
    let leaf = cosign_trust::x509::Certificate::from_der(leaf.der()).unwrap();
    let trusted = trusted_root(
        vec![authority(&[&root.der], since("2029-01-01T00:00:00Z"))],
        vec![],
        vec![],
    );
    let e = verify_leaf_certificate(&leaf, &trusted, T2030).unwrap_err();
    assert!(e.to_string().contains("unknown authority"), "{e}");
}

#[test]
fn ed25519_rsa_and_p521_issuers() {
    let make = |key: rcgen::KeyPair, cn: &str| {
        let params = ca_params(cn, None);
        let der = params.self_signed(&key).unwrap().der().to_vec();
        Cert { der, params, key }
    };
    let roots = [
        make(
            rcgen::KeyPair::generate_for(&rcgen::PKCS_ED25519).unwrap(),
            "ed25519-root",
        ),
        make(
            rcgen::KeyPair::generate_rsa_for(&rcgen::PKCS_RSA_SHA384, rcgen::RsaKeySize::_2048)
                .unwrap(),
            "rsa-root",
        ),
        make(
            rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P521_SHA512).unwrap(),
            "p521-root",
        ),
    ];
    for root in roots {
        let cn = root.parsed().subject_string();
        let f = Fulcio {
            intermediate: signed(ca_params("intermediate", None), &root),
            root,
        };
        let leaf = f.leaf(leaf_params("a@test.example", "https://issuer.test.example"));
        assert_eq!(check(&f, &leaf, T2030).unwrap(), 3, "{cn}");
        // The same names under another key of the same kind do not verify.
        let mut forged = f.intermediate.der.clone();
        let n = forged.len() - 5;
        forged[n] ^= 1;
        let forged = Fulcio {
            intermediate: Cert {
                der: forged,
                params: ca_params("intermediate", None),
                key: rcgen::KeyPair::generate().unwrap(),
            },
            root: f.root,
        };
        fails(check(&forged, &leaf, T2030), "invalid signature");
    }
}
