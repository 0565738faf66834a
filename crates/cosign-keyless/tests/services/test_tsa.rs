//! A test timestamp authority that signs real RFC 3161 tokens: a root CA and a TSA leaf
//! (ECDSA P-256, extended key usage timeStamping, critical) made with rcgen, and a
//! `TimeStampResp` built here: CMS SignedData (version 3), TSTInfo as eContent, the signed
//! attributes content-type and message-digest, the signature over their SET encoding. Hostile
//! variants change one thing each ([`Tweak`]).

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use cosign_trust::x509::Certificate;
use rcgen::{
    BasicConstraints, CertificateParams, CustomExtension, DistinguishedName, DnType, IsCa, Issuer,
    KeyPair, KeyUsagePurpose, SigningKey as _,
};
use serde_json::{Value, json};
use test_support::fulcio::{ValidFor, Y2000, Y2100};

const SHA256: [u8; 9] = [0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01];
const ECDSA_SHA256: [u8; 8] = [0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02];
const SIGNED_DATA: [u8; 9] = [0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x02];
const TST_INFO: [u8; 11] = [
    0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x09, 0x10, 0x01, 0x04,
];
const CONTENT_TYPE: [u8; 9] = [0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x09, 0x03];
const MESSAGE_DIGEST: [u8; 9] = [0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x09, 0x04];
/// Sigstore's TSA policy 1.3.6.1.4.1.57264.2.
const POLICY: [u8; 9] = [0x2b, 0x06, 0x01, 0x04, 0x01, 0x83, 0xbf, 0x30, 0x02];

/// How the answer departs from an honest one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Tweak {
    Honest,
    /// The imprint is the hash of other bytes.
    OtherData,
    /// Another nonce than the request's.
    WrongNonce,
    /// No nonce.
    NoNonce,
    /// PKIStatus rejection (2) with a reason and failInfo badAlg, no token.
    Rejection,
    /// PKIStatus grantedWithMods (1) with an otherwise valid token.
    GrantedWithMods,
    /// A signature by another key.
    BadSignature,
    /// Bytes that are no DER.
    Garbage,
}

pub fn der(tag: u8, value: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    let len = value.len();
    if len < 0x80 {
        out.push(len as u8);
    } else if len < 0x100 {
        out.extend_from_slice(&[0x81, len as u8]);
    } else {
        out.extend_from_slice(&[0x82, (len >> 8) as u8, len as u8]);
    }
    out.extend_from_slice(value);
    out
}

fn seq(parts: &[Vec<u8>]) -> Vec<u8> {
    der(0x30, &parts.concat())
}

fn sha256(data: &[u8]) -> Vec<u8> {
    aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, data)
        .as_ref()
        .to_vec()
}

/// Splits DER contents into (tag, contents) pairs.
fn elements(mut input: &[u8]) -> Vec<(u8, &[u8])> {
    let mut out = Vec::new();
    while !input.is_empty() {
        let tag = input[0];
        let (len, header) = match input[1] {
            n if n < 0x80 => (usize::from(n), 2),
            0x81 => (usize::from(input[2]), 3),
            0x82 => ((usize::from(input[2]) << 8) | usize::from(input[3]), 4),
            other => panic!("unsupported DER length 0x{other:02x}"),
        };
        out.push((tag, &input[header..header + len]));
        input = &input[header + len..];
    }
    out
}

/// The hashed message and nonce (INTEGER contents) of a `TimeStampReq`, and certReq.
pub struct ParsedRequest {
    pub algorithm_oid: Vec<u8>,
    pub hashed: Vec<u8>,
    pub nonce: Option<Vec<u8>>,
    pub cert_req: bool,
}

pub fn parse_request(req: &[u8]) -> ParsedRequest {
    let outer = elements(req);
    assert_eq!(outer.len(), 1, "one TimeStampReq");
    assert_eq!(outer[0].0, 0x30);
    let fields = elements(outer[0].1);
    assert_eq!(fields[0], (0x02, &[1u8][..]), "version 1");
    let imprint = elements(fields[1].1);
    let alg = elements(imprint[0].1);
    assert_eq!(alg[1], (0x05, &[][..]), "NULL parameters, as Go sends");
    let mut parsed = ParsedRequest {
        algorithm_oid: alg[0].1.to_vec(),
        hashed: imprint[1].1.to_vec(),
        nonce: None,
        cert_req: false,
    };
    for (tag, value) in &fields[2..] {
        match tag {
            0x02 => parsed.nonce = Some(value.to_vec()),
            0x01 => parsed.cert_req = value == &[0xff],
            other => panic!("unexpected TimeStampReq field 0x{other:02x}"),
        }
    }
    parsed
}

/// A `TimeStampReq` for a SHA-256 digest, without nonce or certReq (as Go sends it).
pub fn request_der(hashed: &[u8]) -> Vec<u8> {
    seq(&[
        der(0x02, &[1]),
        seq(&[
            seq(&[der(0x06, &SHA256), der(0x05, &[])]),
            der(0x04, hashed),
        ]),
    ])
}

/// A test TSA.
pub struct TestTsa {
    pub root_der: Vec<u8>,
    pub leaf_der: Vec<u8>,
    leaf_key: KeyPair,
    other_key: KeyPair,
    serial: std::sync::atomic::AtomicU64,
}

fn validity(p: &mut CertificateParams) {
    let at =
        |unix: i64| rcgen::date_time_ymd(1970, 1, 1) + std::time::Duration::from_secs(unix as u64);
    p.not_before = at(Y2000);
    p.not_after = at(Y2100);
}

impl TestTsa {
    pub fn new(name: &str) -> TestTsa {
        let root_key = KeyPair::generate().unwrap();
        let mut root = CertificateParams::default();
        let mut dn = DistinguishedName::new();
        dn.push(DnType::OrganizationName, format!("{name}.example"));
        dn.push(DnType::CommonName, format!("{name} TSA root"));
        root.distinguished_name = dn;
        root.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
        root.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        validity(&mut root);
        let root_der = root.self_signed(&root_key).unwrap().der().to_vec();

        let leaf_key = KeyPair::generate().unwrap();
        let mut leaf = CertificateParams::default();
        let mut dn = DistinguishedName::new();
        dn.push(DnType::CommonName, format!("{name} timestamping"));
        leaf.distinguished_name = dn;
        leaf.is_ca = IsCa::ExplicitNoCa;
        leaf.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        // EKU timeStamping, critical (RFC 3161 §2.3): SEQUENCE { OID 1.3.6.1.5.5.7.3.8 }.
        let mut eku = CustomExtension::from_oid_content(
            &[2, 5, 29, 37],
            seq(&[der(0x06, &[0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x03, 0x08])]),
        );
        eku.set_criticality(true);
        leaf.custom_extensions = vec![eku];
        validity(&mut leaf);
        let issuer = Issuer::from_params(&root, &root_key);
        let leaf_der = leaf.signed_by(&leaf_key, &issuer).unwrap().der().to_vec();
        TestTsa {
            root_der,
            leaf_der,
            leaf_key,
            other_key: KeyPair::generate().unwrap(),
            serial: std::sync::atomic::AtomicU64::new(1),
        }
    }

    /// The `timestampAuthorities` entry of a trusted root (leaf, root).
    pub fn authority_json(&self, uri: &str) -> Value {
        json!({
            "subject": {"organization": "test", "commonName": "test tsa"},
            "uri": uri,
            "certChain": {"certificates": [
                {"rawBytes": STANDARD.encode(&self.leaf_der)},
                {"rawBytes": STANDARD.encode(&self.root_der)},
            ]},
            "validFor": ValidFor::always().json(),
        })
    }

    /// The answer to a `TimeStampReq`.
    pub fn respond(&self, request: &[u8], tweak: Tweak) -> Vec<u8> {
        if tweak == Tweak::Garbage {
            return b"\x30\x03not a timestamp".to_vec();
        }
        if tweak == Tweak::Rejection {
            let status = seq(&[
                der(0x02, &[2]),
                seq(&[der(0x0c, b"request refused by policy")]),
                der(0x03, &[0x07, 0x80]),
            ]);
            return seq(&[status]);
        }
        let req = parse_request(request);
        let hashed = match tweak {
            Tweak::OtherData => sha256(b"some other bytes"),
            _ => req.hashed.clone(),
        };
        let nonce = match tweak {
            Tweak::WrongNonce => Some(vec![0x01, 0x02, 0x03]),
            Tweak::NoNonce => None,
            _ => req.nonce.clone(),
        };
        let token = self.token(&hashed, nonce.as_deref(), req.cert_req, tweak);
        let status = if tweak == Tweak::GrantedWithMods {
            1
        } else {
            0
        };
        seq(&[seq(&[der(0x02, &[status])]), token])
    }

    /// A `TimeStampToken` (ContentInfo) over `hashed` (SHA-256).
    pub fn token(&self, hashed: &[u8], nonce: Option<&[u8]>, certs: bool, tweak: Tweak) -> Vec<u8> {
        let serial = self
            .serial
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let now = cosign_types::time::now_unix();
        // YYYYMMDDHHMMSSZ
        let gen_time = cosign_types::time::rfc3339(now).replace(['-', ':', 'T'], "");
        let sha256_alg = seq(&[der(0x06, &SHA256), der(0x05, &[])]);
        let mut tst = vec![
            der(0x02, &[1]),
            der(0x06, &POLICY),
            seq(&[sha256_alg.clone(), der(0x04, hashed)]),
            der(0x02, &serial.to_be_bytes()[6..]),
            der(0x18, gen_time.as_bytes()),
            // accuracy { seconds 1 }
            seq(&[der(0x02, &[1])]),
        ];
        if let Some(n) = nonce {
            tst.push(der(0x02, n));
        }
        let tst_info = seq(&tst);
        let attrs = [
            seq(&[der(0x06, &CONTENT_TYPE), der(0x31, &der(0x06, &TST_INFO))]),
            seq(&[
                der(0x06, &MESSAGE_DIGEST),
                der(0x31, &der(0x04, &sha256(&tst_info))),
            ]),
        ]
        .concat();
        let key = if tweak == Tweak::BadSignature {
            &self.other_key
        } else {
            &self.leaf_key
        };
        let signature = key.sign(&der(0x31, &attrs)).unwrap();
        let leaf = Certificate::from_der(&self.leaf_der).unwrap();
        let signer_info = seq(&[
            der(0x02, &[1]),
            seq(&[leaf.issuer_der().to_vec(), der(0x02, leaf.serial_number())]),
            sha256_alg.clone(),
            der(0xa0, &attrs),
            seq(&[der(0x06, &ECDSA_SHA256)]),
            der(0x04, &signature),
        ]);
        let mut signed_data = vec![
            der(0x02, &[3]),
            der(0x31, &sha256_alg),
            seq(&[der(0x06, &TST_INFO), der(0xa0, &der(0x04, &tst_info))]),
        ];
        if certs {
            signed_data.push(der(0xa0, &self.leaf_der));
        }
        signed_data.push(der(0x31, &signer_info));
        seq(&[der(0x06, &SIGNED_DATA), der(0xa0, &seq(&signed_data))])
    }
}
