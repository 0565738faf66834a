//! RFC 3161 tokens made here (DER written by hand, signed by rcgen keys): one good token, then
//! each rule broken once.

use cosign_trust::TrustError;
use cosign_trust::timestamp::TimestampToken;
use cosign_trust::trusted_root::TrustedRoot;
use rcgen::{CustomExtension, ExtendedKeyUsagePurpose, KeyUsagePurpose, SigningKey};
use serde_json::{Value, json};
use sha2::Digest as _;

use crate::pki::*;

const SHA256: &[u8] = &[
    0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01,
];
const ECDSA_SHA256: &[u8] = &[0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02];
const SIGNED_DATA: &[u8] = &[
    0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x02,
];
const TST_INFO: &[u8] = &[
    0x06, 0x0b, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x09, 0x10, 0x01, 0x04,
];
const CONTENT_TYPE: &[u8] = &[
    0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x09, 0x03,
];
const MESSAGE_DIGEST: &[u8] = &[
    0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x09, 0x04,
];
const POLICY: &[u8] = &[0x06, 0x03, 0x2a, 0x03, 0x04];

/// The signed bytes (an artifact signature) the tokens cover.
const SIGNATURE: &[u8] = b"the artifact signature";

/// A TSA: root → signing certificate with critical EKU timeStamping.
struct Tsa {
    root: Cert,
    leaf: Cert,
}

fn tsa_leaf_params(critical_eku: bool, eku: &[u8]) -> rcgen::CertificateParams {
    let mut p = params("test-tsa");
    p.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    let mut ext = CustomExtension::from_oid_content(&[2, 5, 29, 37], seq(&[eku]));
    ext.set_criticality(critical_eku);
    p.custom_extensions = vec![ext];
    p
}

const KP_TIME_STAMPING: &[u8] = &[0x06, 0x08, 0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x03, 0x08];
const KP_CODE_SIGNING: &[u8] = &[0x06, 0x08, 0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x03, 0x03];

impl Tsa {
    fn new() -> Self {
        let root = self_signed(ca_params("test-tsa-root", None));
        let leaf = signed(tsa_leaf_params(true, KP_TIME_STAMPING), &root);
        Self { root, leaf }
    }

    fn authority(&self, valid_for: Value) -> Value {
        authority(&[&self.leaf.der, &self.root.der], valid_for)
    }

    fn trusted_root(&self, valid_for: Value) -> TrustedRoot {
        trusted_root(vec![], vec![], vec![self.authority(valid_for)])
    }
}

/// What to put in a token.
struct Token<'a> {
    signer: &'a Cert,
    imprint_over: &'a [u8],
    gen_time: &'a str,
    embed: bool,
    tamper_digest: bool,
    tamper_signature: bool,
}

impl<'a> Token<'a> {
    fn new(signer: &'a Cert) -> Self {
        Self {
            signer,
            imprint_over: SIGNATURE,
            gen_time: "20300101000000Z",
            embed: true,
            tamper_digest: false,
            tamper_signature: false,
        }
    }

    /// A DER TimeStampResp.
    fn build(&self) -> Vec<u8> {
        let sha256 = seq(&[SHA256]);
        let imprint = sha2::Sha256::digest(self.imprint_over);
        let tst_info = seq(&[
            &der(0x02, &[1]),
            POLICY,
            &seq(&[&sha256, &der(0x04, &imprint)]),
            &der(0x02, &[0x42]),
            &der(0x18, self.gen_time.as_bytes()),
        ]);
        let mut digest = sha2::Sha256::digest(&tst_info).to_vec();
        if self.tamper_digest {
            digest[0] ^= 1;
        }
        let attrs = [
            seq(&[CONTENT_TYPE, &der(0x31, TST_INFO)]),
            seq(&[MESSAGE_DIGEST, &der(0x31, &der(0x04, &digest))]),
        ]
        .concat();
        let mut signature = self.signer.key.sign(&der(0x31, &attrs)).unwrap();
        if self.tamper_signature {
            let n = signature.len() - 2;
            signature[n] ^= 1;
        }
        let cert = self.signer.parsed();
        let signer_info = seq(&[
            &der(0x02, &[1]),
            &seq(&[cert.issuer_der(), &der(0x02, cert.serial_number())]),
            &sha256,
            &der(0xa0, &attrs),
            &seq(&[ECDSA_SHA256]),
            &der(0x04, &signature),
        ]);
        let certs = if self.embed {
            der(0xa0, &self.signer.der)
        } else {
            Vec::new()
        };
        let signed_data = seq(&[
            &der(0x02, &[3]),
            &der(0x31, &sha256),
            &seq(&[TST_INFO, &der(0xa0, &der(0x04, &tst_info))]),
            &certs,
            &der(0x31, &signer_info),
        ]);
        let token = seq(&[SIGNED_DATA, &der(0xa0, &signed_data)]);
        seq(&[&seq(&[&der(0x02, &[0])]), &token])
    }

    fn verify(&self, root: &TrustedRoot) -> Result<i64, TrustError> {
        TimestampToken::from_der(&self.build())?
            .verify(SIGNATURE, root)
            .map(|t| t.time)
    }
}

fn fails(result: Result<i64, TrustError>, needle: &str) {
    let e = result.unwrap_err();
    assert!(matches!(e, TrustError::Timestamp { .. }), "{e}");
    assert!(e.to_string().contains(needle), "{needle:?} not in: {e}");
}

#[test]
fn a_good_token_verifies_with_or_without_embedded_certificate() {
    let tsa = Tsa::new();
    let root = tsa.trusted_root(since("2029-01-01T00:00:00Z"));
    assert_eq!(Token::new(&tsa.leaf).verify(&root).unwrap(), T2030);
    let bare = Token {
        embed: false,
        ..Token::new(&tsa.leaf)
    };
    assert_eq!(bare.verify(&root).unwrap(), T2030);
    // Fractional seconds are dropped.
    let fraction = Token {
        gen_time: "20300101000000.25Z",
        ..Token::new(&tsa.leaf)
    };
    assert_eq!(fraction.verify(&root).unwrap(), T2030);
}

#[test]
fn a_token_over_other_bytes_fails() {
    let tsa = Tsa::new();
    let root = tsa.trusted_root(since("2029-01-01T00:00:00Z"));
    let t = Token {
        imprint_over: b"other bytes",
        ..Token::new(&tsa.leaf)
    };
    fails(t.verify(&root), "message imprint");
}

#[test]
fn a_tsa_outside_its_validity_fails() {
    let tsa = Tsa::new();
    for window in [
        json!({"start": "2029-01-01T00:00:00Z", "end": "2029-12-31T23:59:59Z"}),
        json!({"start": "2030-01-01T00:00:01Z"}),
    ] {
        fails(
            Token::new(&tsa.leaf).verify(&tsa.trusted_root(window)),
            "is not valid at",
        );
    }
    // The end is inclusive.
    let edge =
        tsa.trusted_root(json!({"start": "2029-01-01T00:00:00Z", "end": "2030-01-01T00:00:00Z"}));
    Token::new(&tsa.leaf).verify(&edge).unwrap();
    // genTime after the TSA certificate expired.
    let late = Token {
        gen_time: "20310601000000Z",
        ..Token::new(&tsa.leaf)
    };
    fails(
        late.verify(&tsa.trusted_root(since("2029-01-01T00:00:00Z"))),
        "is not valid at 2031-06-01",
    );
}

#[test]
fn a_token_signed_by_a_non_tsa_fails() {
    let tsa = Tsa::new();
    // A certificate of the same CA without timeStamping.
    let code_signer = signed(tsa_leaf_params(true, KP_CODE_SIGNING), &tsa.root);
    let root = trusted_root(
        vec![],
        vec![],
        vec![authority(&[&tsa.root.der], since("2029-01-01T00:00:00Z"))],
    );
    fails(Token::new(&code_signer).verify(&root), "TimeStamping");
    // timeStamping, but not critical.
    let lax = signed(tsa_leaf_params(false, KP_TIME_STAMPING), &tsa.root);
    fails(Token::new(&lax).verify(&root), "critical");
    // A Fulcio-like code signing leaf.
    let mut p = params("signer");
    p.extended_key_usages = vec![ExtendedKeyUsagePurpose::CodeSigning];
    fails(Token::new(&signed(p, &tsa.root)).verify(&root), "EKU");
    // The authority's own leaf is pinned: another good TSA certificate of the same root is not it.
    let sibling = signed(tsa_leaf_params(true, KP_TIME_STAMPING), &tsa.root);
    let pinned = tsa.trusted_root(since("2029-01-01T00:00:00Z"));
    fails(
        Token::new(&sibling).verify(&pinned),
        "not the authority's TSA certificate",
    );
    // Without the pin it would be accepted.
    Token::new(&sibling).verify(&root).unwrap();
}

#[test]
fn an_untrusted_tsa_fails() {
    let tsa = Tsa::new();
    let other = Tsa::new();
    let root = other.trusted_root(since("2029-01-01T00:00:00Z"));
    fails(Token::new(&tsa.leaf).verify(&root), "vouches");
    let no_tsa = trusted_root(vec![], vec![], vec![]);
    fails(
        Token::new(&tsa.leaf).verify(&no_tsa),
        "no timestamp authority",
    );
}

#[test]
fn tampered_tokens_fail() {
    let tsa = Tsa::new();
    let root = tsa.trusted_root(since("2029-01-01T00:00:00Z"));
    let t = Token {
        tamper_digest: true,
        ..Token::new(&tsa.leaf)
    };
    fails(t.verify(&root), "message-digest");
    let t = Token {
        tamper_signature: true,
        ..Token::new(&tsa.leaf)
    };
    fails(t.verify(&root), "CMS signature");
    let t = Token {
        gen_time: "2030-01-01T00:00:00Z",
        ..Token::new(&tsa.leaf)
    };
    fails(t.verify(&root), "genTime");
    // Truncations of a good token never panic and never verify.
    let good = Token::new(&tsa.leaf).build();
    for n in 0..good.len() {
        assert!(TimestampToken::from_der(&good[..n]).is_err(), "{n}");
    }
}
