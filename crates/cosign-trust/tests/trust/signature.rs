//! Signature algorithms not reachable through rcgen: RSASSA-PSS with its parameters.

use aws_lc_rs::encoding::AsDer as _;
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{KeyPair as _, RSA_PSS_SHA256, RSA_PSS_SHA384};
use cosign_trust::x509::signature::verify_signature;
use der::Decode as _;
use spki::AlgorithmIdentifierRef;

use crate::pki::{der, seq};

const RSASSA_PSS: &[u8] = &[
    0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0a,
];
const MGF1: &[u8] = &[
    0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x08,
];
const SHA1: &[u8] = &[0x06, 0x05, 0x2b, 0x0e, 0x03, 0x02, 0x1a];
const SHA256: &[u8] = &[
    0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01,
];
const SHA384: &[u8] = &[
    0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x02,
];
const NULL: &[u8] = &[0x05, 0x00];

/// An RSASSA-PSS AlgorithmIdentifier (DER).
fn pss(hash: &[u8], mgf_hash: &[u8], salt: u8) -> Vec<u8> {
    let hash_alg = seq(&[hash, NULL]);
    let mgf = seq(&[MGF1, &seq(&[mgf_hash, NULL])]);
    let params = seq(&[
        &der(0xa0, &hash_alg),
        &der(0xa1, &mgf),
        &der(0xa2, &der(0x02, &[salt])),
    ]);
    seq(&[RSASSA_PSS, &params])
}

#[test]
fn rsa_pss_verifies_with_matching_parameters_only() {
    let key = aws_lc_rs::rsa::KeyPair::generate(aws_lc_rs::rsa::KeySize::Rsa2048).unwrap();
    let spki = key.public_key().as_der().unwrap();
    let spki = spki.as_ref();
    let msg = b"to be signed";
    let mut sig = vec![0; key.public_modulus_len()];
    key.sign(&RSA_PSS_SHA256, &SystemRandom::new(), msg, &mut sig)
        .unwrap();
    let check = |alg: &[u8], msg: &[u8]| {
        let alg = AlgorithmIdentifierRef::from_der(alg).unwrap();
        verify_signature(spki, &alg, None, msg, &sig)
    };
    check(&pss(SHA256, SHA256, 32), msg).unwrap();
    assert_eq!(
        check(&pss(SHA256, SHA256, 32), b"other").unwrap_err(),
        "invalid signature"
    );
    assert!(
        check(&pss(SHA256, SHA256, 20), msg)
            .unwrap_err()
            .contains("salt")
    );
    assert!(
        check(&pss(SHA256, SHA384, 32), msg)
            .unwrap_err()
            .contains("MGF1")
    );
    assert!(
        check(&pss(SHA1, SHA1, 20), msg)
            .unwrap_err()
            .contains("SHA-1")
    );
    assert!(check(&seq(&[RSASSA_PSS]), msg).is_err());
    // A SHA-384 signature under SHA-256 parameters does not verify.
    let mut sig384 = vec![0; key.public_modulus_len()];
    key.sign(&RSA_PSS_SHA384, &SystemRandom::new(), msg, &mut sig384)
        .unwrap();
    let alg = pss(SHA384, SHA384, 48);
    let alg = AlgorithmIdentifierRef::from_der(&alg).unwrap();
    verify_signature(spki, &alg, None, msg, &sig384).unwrap();
    let alg = pss(SHA256, SHA256, 32);
    let alg = AlgorithmIdentifierRef::from_der(&alg).unwrap();
    assert!(verify_signature(spki, &alg, None, msg, &sig384).is_err());
}
