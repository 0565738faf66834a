//! A small PKI built in the tests with rcgen: CAs, Fulcio-like leaves, TSA leaves, trusted roots
//! around them, and a DER writer for hand-made CMS timestamp tokens.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use cosign_trust::trusted_root::TrustedRoot;
use rcgen::{
    BasicConstraints, CertificateParams, CustomExtension, DistinguishedName, DnType,
    ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair, KeyUsagePurpose, SanType, date_time_ymd,
};
use serde_json::{Value, json};

/// Unix seconds of 2030-01-01T00:00:00Z (the signing time of the built material).
pub const T2030: i64 = 1_893_456_000;

/// A certificate and its key.
pub struct Cert {
    pub der: Vec<u8>,
    pub params: CertificateParams,
    pub key: KeyPair,
}

impl Cert {
    pub fn issuer(&self) -> Issuer<'_, &KeyPair> {
        Issuer::from_params(&self.params, &self.key)
    }

    pub fn parsed(&self) -> cosign_trust::x509::Certificate {
        cosign_trust::x509::Certificate::from_der(&self.der).unwrap()
    }
}

fn name(cn: &str) -> DistinguishedName {
    let mut dn = DistinguishedName::new();
    dn.push(DnType::OrganizationName, "test.example");
    dn.push(DnType::CommonName, cn);
    dn
}

/// Validity from 2029-01-01 to 2031-01-01 unless changed.
pub fn params(cn: &str) -> CertificateParams {
    let mut p = CertificateParams::default();
    p.distinguished_name = name(cn);
    p.not_before = date_time_ymd(2029, 1, 1);
    p.not_after = date_time_ymd(2031, 1, 1);
    p
}

pub fn ca_params(cn: &str, path_len: Option<u8>) -> CertificateParams {
    let mut p = params(cn);
    p.is_ca = IsCa::Ca(match path_len {
        Some(n) => BasicConstraints::Constrained(n),
        None => BasicConstraints::Unconstrained,
    });
    p.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    p
}

pub fn self_signed(params: CertificateParams) -> Cert {
    let key = KeyPair::generate_for(&rcgen::PKCS_ECDSA_P384_SHA384).unwrap();
    let der = params.self_signed(&key).unwrap().der().to_vec();
    Cert { der, params, key }
}

pub fn signed(params: CertificateParams, issuer: &Cert) -> Cert {
    let key = KeyPair::generate().unwrap();
    let der = params
        .signed_by(&key, &issuer.issuer())
        .unwrap()
        .der()
        .to_vec();
    Cert { der, params, key }
}

/// Fulcio's custom extension OIDs.
pub fn fulcio_oid(n: u64) -> Vec<u64> {
    vec![1, 3, 6, 1, 4, 1, 57264, 1, n]
}

/// DER UTF8String.
pub fn utf8(s: &str) -> Vec<u8> {
    der(0x0c, s.as_bytes())
}

/// A Fulcio-like leaf: empty subject, email SAN, code signing, OIDC issuer v1 and v2.
pub fn leaf_params(email: &str, issuer: &str) -> CertificateParams {
    let mut p = params("unused");
    p.distinguished_name = DistinguishedName::new();
    p.subject_alt_names = vec![SanType::Rfc822Name(email.try_into().unwrap())];
    p.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    p.extended_key_usages = vec![ExtendedKeyUsagePurpose::CodeSigning];
    p.custom_extensions = vec![
        CustomExtension::from_oid_content(&fulcio_oid(1), issuer.as_bytes().to_vec()),
        CustomExtension::from_oid_content(&fulcio_oid(8), utf8(issuer)),
    ];
    p
}

/// root → intermediate → leaf, like Fulcio.
pub struct Fulcio {
    pub root: Cert,
    pub intermediate: Cert,
}

impl Fulcio {
    pub fn new() -> Self {
        let root = self_signed(ca_params("test-root", Some(1)));
        let mut ip = ca_params("test-intermediate", Some(0));
        ip.extended_key_usages = vec![ExtendedKeyUsagePurpose::CodeSigning];
        let intermediate = signed(ip, &root);
        Self { root, intermediate }
    }

    pub fn leaf(&self, params: CertificateParams) -> Cert {
        signed(params, &self.intermediate)
    }

    /// The `certificateAuthorities` entry.
    pub fn authority(&self, valid_for: Value) -> Value {
        authority(&[&self.intermediate.der, &self.root.der], valid_for)
    }
}

pub fn b64(bytes: &[u8]) -> String {
    STANDARD.encode(bytes)
}

pub fn authority(chain: &[&[u8]], valid_for: Value) -> Value {
    let certs: Vec<Value> = chain.iter().map(|c| json!({"rawBytes": b64(c)})).collect();
    json!({
        "subject": {"organization": "test.example", "commonName": "test"},
        "uri": "https://ca.test.example",
        "certChain": {"certificates": certs},
        "validFor": valid_for,
    })
}

pub fn log(spki: &[u8], log_id: &[u8], valid_for: Value) -> Value {
    json!({
        "baseUrl": "https://log.test.example",
        "hashAlgorithm": "SHA2_256",
        "publicKey": {"rawBytes": b64(spki), "keyDetails": "PKIX_ECDSA_P256_SHA_256", "validFor": valid_for},
        "logId": {"keyId": b64(log_id)},
    })
}

pub fn since(start: &str) -> Value {
    json!({"start": start})
}

pub fn trusted_root(cas: Vec<Value>, ctlogs: Vec<Value>, tsas: Vec<Value>) -> TrustedRoot {
    let root = json!({
        "mediaType": "application/vnd.dev.sigstore.trustedroot+json;version=0.1",
        "tlogs": [],
        "certificateAuthorities": cas,
        "ctlogs": ctlogs,
        "timestampAuthorities": tsas,
    });
    TrustedRoot::from_json(&serde_json::to_vec(&root).unwrap()).unwrap()
}

/// One DER element.
pub fn der(tag: u8, value: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    let len = value.len();
    if len < 0x80 {
        out.push(len as u8);
    } else {
        let bytes = len.to_be_bytes();
        let skip = bytes.iter().take_while(|&&b| b == 0).count();
        out.push(0x80 | (bytes.len() - skip) as u8);
        out.extend_from_slice(&bytes[skip..]);
    }
    out.extend_from_slice(value);
    out
}

pub fn seq(parts: &[&[u8]]) -> Vec<u8> {
    der(0x30, &parts.concat())
}
