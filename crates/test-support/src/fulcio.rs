//! A Fulcio-like test PKI for keyless verification tests ([`FulcioCa`], [`CtLog`],
//! [`TrustedRootJson`]).
//!
//! - [`FulcioCa`]: root → intermediate (ECDSA P-256), issuing Fulcio-like leaves for a given
//!   public key (e.g. a `cosign.pub`): empty subject, an email or URI SAN, key usage
//!   digitalSignature, EKU codeSigning, the OIDC issuer extensions v1 (1.3.6.1.4.1.57264.1.1,
//!   raw string) and v2 (1.3.6.1.4.1.57264.1.8, DER UTF8String), optional GitHub workflow
//!   extensions (1.3.6.1.4.1.57264.1.2 to .6, raw strings), a chosen validity window and an
//!   embedded SCT list (1.3.6.1.4.1.11129.2.4.2) as [`LeafSpec::sct`] says.
//! - [`CtLog`]: a CT log key that signs precertificate SCTs (RFC 6962 §3.2: the SHA-256 of the
//!   issuer's SPKI and the leaf's TBSCertificate without the SCT list extension) and detached
//!   SCTs (the CT `add-chain` response JSON that Go cosign's `--sct` reads, over the final
//!   certificate as an `x509_entry`).
//! - [`TrustedRootJson`]: a Sigstore `trusted_root.json` naming CAs, CT logs, transparency
//!   logs (e.g. a [`crate::TlogServer`]) and raw timestamp authorities, each with a `validFor`.
//!
//! An embedded SCT is made the way a real CA does it, with rcgen: the leaf is first signed
//! without the SCT extension (a fixed serial number, so the TBS is reproducible), the SCT is
//! computed over that TBS, then the SCT extension is appended as the last extension and the leaf
//! signed again. The final TBS without the SCT extension equals the first one (a unit test
//! checks it with cosign-trust's verifier).

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use aws_lc_rs::digest::{SHA256, digest};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use cosign_crypto::{KeyType, PublicKey};
use rcgen::{
    BasicConstraints, CertificateParams, CustomExtension, DistinguishedName, DnType,
    ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair, KeyUsagePurpose, PublicKeyData, SanType,
    SerialNumber, SignatureAlgorithm, SigningKey,
};
use serde_json::{Value, json};

/// Fulcio's OIDC issuer extension, v1 (raw string).
pub const OID_ISSUER_V1: [u64; 9] = [1, 3, 6, 1, 4, 1, 57264, 1, 1];
/// Fulcio's OIDC issuer extension, v2 (DER UTF8String).
pub const OID_ISSUER_V2: [u64; 9] = [1, 3, 6, 1, 4, 1, 57264, 1, 8];
/// The RFC 6962 precertificate SCT list extension.
pub const OID_SCT_LIST: [u64; 10] = [1, 3, 6, 1, 4, 1, 11129, 2, 4, 2];
/// The RFC 6962 precertificate poison extension (critical, value NULL).
pub const OID_CT_POISON: [u64; 10] = [1, 3, 6, 1, 4, 1, 11129, 2, 4, 3];
/// The RFC 6962 Precertificate Signing Certificate extended key usage.
pub const OID_CT_PRECERT_SIGNING: [u64; 10] = [1, 3, 6, 1, 4, 1, 11129, 2, 4, 4];

/// Unix seconds of 2000-01-01T00:00:00Z: where the CA certificates start.
pub const Y2000: i64 = 946_684_800;
/// Unix seconds of 2100-01-01T00:00:00Z: where the CA certificates end.
pub const Y2100: i64 = 4_102_444_800;

/// The current time in Unix seconds.
pub fn now_unix() -> i64 {
    cosign_types::time::now_unix()
}

/// Sets the validity window of `params` from Unix seconds (at or after 1970).
fn set_validity(params: &mut CertificateParams, not_before: i64, not_after: i64) {
    let at = |unix: i64| {
        let secs = u64::try_from(unix).expect("a time after 1970");
        rcgen::date_time_ymd(1970, 1, 1) + std::time::Duration::from_secs(secs)
    };
    params.not_before = at(not_before);
    params.not_after = at(not_after);
}

/// Serial numbers, unique within the process.
fn next_serial() -> SerialNumber {
    static NEXT: AtomicU64 = AtomicU64::new(1);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    let mut bytes = vec![0x5c];
    bytes.extend_from_slice(&(now_unix() as u64).to_be_bytes());
    bytes.extend_from_slice(&n.to_be_bytes());
    SerialNumber::from_slice(&bytes)
}

/// PEM text of one DER block, 64-character lines.
pub fn pem(label: &str, der: &[u8]) -> String {
    let b64 = STANDARD.encode(der);
    let mut out = format!("-----BEGIN {label}-----\n");
    for chunk in b64.as_bytes().chunks(64) {
        out.push_str(std::str::from_utf8(chunk).expect("base64 is ASCII"));
        out.push('\n');
    }
    out.push_str(&format!("-----END {label}-----\n"));
    out
}

/// The first `CERTIFICATE` block of a PEM text, as DER.
pub fn cert_der_from_pem(text: &str) -> Vec<u8> {
    let begin = "-----BEGIN CERTIFICATE-----";
    let start = text.find(begin).expect("a CERTIFICATE PEM block") + begin.len();
    let end = start + text[start..].find("-----END").expect("PEM end line");
    let b64: String = text[start..end].split_whitespace().collect();
    STANDARD.decode(b64).expect("PEM base64")
}

/// Every `CERTIFICATE` block of a PEM text, as DER, in order.
pub fn certs_der_from_pem(text: &str) -> Vec<Vec<u8>> {
    let begin = "-----BEGIN CERTIFICATE-----";
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(at) = rest.find(begin) {
        let block = &rest[at..];
        let end = block
            .find("-----END CERTIFICATE-----")
            .expect("PEM end line");
        out.push(cert_der_from_pem(&block[..end + 25]));
        rest = &block[end + 25..];
    }
    out
}

/// One DER element: tag, length, value.
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

/// Splits the first DER element off `data`: `(tag, whole element, value, rest)`.
pub(crate) fn der_split(data: &[u8]) -> (u8, &[u8], &[u8], &[u8]) {
    assert!(data.len() >= 2, "truncated DER");
    let tag = data[0];
    let (len, header) = if data[1] < 0x80 {
        (usize::from(data[1]), 2)
    } else {
        let n = usize::from(data[1] & 0x7f);
        let len = data[2..2 + n]
            .iter()
            .fold(0usize, |acc, &b| (acc << 8) | usize::from(b));
        (len, 2 + n)
    };
    let end = header + len;
    (tag, &data[..end], &data[header..end], &data[end..])
}

/// The elements of a constructed DER value.
pub(crate) fn der_elements(mut value: &[u8]) -> Vec<(u8, &[u8], &[u8])> {
    let mut out = Vec::new();
    while !value.is_empty() {
        let (tag, whole, inner, rest) = der_split(value);
        out.push((tag, whole, inner));
        value = rest;
    }
    out
}

/// The TBSCertificate (DER) of a certificate (DER).
pub fn tbs_of(cert_der: &[u8]) -> Vec<u8> {
    let (_, _, cert, _) = der_split(cert_der);
    der_elements(cert)[0].1.to_vec()
}

/// DER encoding of an OID given as arcs.
fn oid_der(arcs: &[u64]) -> Vec<u8> {
    let mut body = Vec::new();
    let mut push = |mut v: u64| {
        let mut chunk = vec![(v & 0x7f) as u8];
        v >>= 7;
        while v > 0 {
            chunk.push(0x80 | (v & 0x7f) as u8);
            v >>= 7;
        }
        chunk.reverse();
        body.extend_from_slice(&chunk);
    };
    push(arcs[0] * 40 + arcs[1]);
    for &a in &arcs[2..] {
        push(a);
    }
    der(0x06, &body)
}

/// The value (the OCTET STRING's content) of the extension `oid` of a certificate (DER).
pub fn extension_value(cert_der: &[u8], oid: &[u64]) -> Option<Vec<u8>> {
    extension_entry(cert_der, oid).map(|(_, value)| value)
}

/// The criticality and value of the extension `oid` of a certificate (DER).
pub fn extension_entry(cert_der: &[u8], oid: &[u64]) -> Option<(bool, Vec<u8>)> {
    let want = oid_der(oid);
    let tbs = tbs_of(cert_der);
    let (_, _, tbs_body, _) = der_split(&tbs);
    let (_, _, exts, _) = der_elements(tbs_body)
        .into_iter()
        .find(|(tag, _, _)| *tag == 0xa3)
        .map(|(_, _, inner)| der_split(inner))?;
    for (_, _, ext) in der_elements(exts) {
        let parts = der_elements(ext);
        if parts[0].1 == want.as_slice() {
            // Extension ::= SEQUENCE { extnID, critical BOOLEAN DEFAULT FALSE, extnValue }
            let critical = parts.len() == 3 && parts[1].0 == 0x01 && parts[1].2 == [0xff];
            return parts.last().map(|(_, _, v)| (critical, v.to_vec()));
        }
    }
    None
}

/// The SubjectPublicKeyInfo (DER) of a certificate (DER).
pub fn spki_of(cert_der: &[u8]) -> Vec<u8> {
    let tbs = tbs_of(cert_der);
    let (_, _, body, _) = der_split(&tbs);
    let parts = der_elements(body);
    // An explicit version ([0]) shifts the fields by one.
    let skip = usize::from(parts[0].0 == 0xa0);
    parts[skip + 5].1.to_vec()
}

/// Whether an extended key usage extension value (DER) lists `oid`.
pub fn eku_contains(eku_value: &[u8], oid: &[u64]) -> bool {
    let want = oid_der(oid);
    let (_, _, list, _) = der_split(eku_value);
    der_elements(list)
        .iter()
        .any(|(_, whole, _)| *whole == want.as_slice())
}

/// DER UTF8String.
pub fn utf8_string(s: &str) -> Vec<u8> {
    der(0x0c, s.as_bytes())
}

/// A 24-bit length-prefixed value (TLS `opaque<1..2^24-1>`).
fn u24(data: &[u8]) -> Vec<u8> {
    let mut out = (data.len() as u32).to_be_bytes()[1..].to_vec();
    out.extend_from_slice(data);
    out
}

/// A public key given as PEM (`PUBLIC KEY` or `CERTIFICATE`), as rcgen needs it.
struct SubjectKey {
    raw: Vec<u8>,
    alg: &'static SignatureAlgorithm,
}

impl SubjectKey {
    fn from_pem(public_key_pem: &str) -> Self {
        let key = PublicKey::from_pem(public_key_pem.as_bytes()).expect("a PEM public key");
        let alg = match key.key_type() {
            KeyType::EcdsaP256 => &rcgen::PKCS_ECDSA_P256_SHA256,
            KeyType::EcdsaP384 => &rcgen::PKCS_ECDSA_P384_SHA384,
            KeyType::Ed25519 => &rcgen::PKCS_ED25519,
            other => panic!("test Fulcio does not issue for {other:?} keys"),
        };
        // SubjectPublicKeyInfo ::= SEQUENCE { algorithm, subjectPublicKey BIT STRING }
        let spki = key.to_spki_der();
        let (_, _, body, _) = der_split(&spki);
        let parts = der_elements(body);
        let (tag, _, bits) = parts[1];
        assert_eq!(tag, 0x03, "SPKI key is a BIT STRING");
        Self {
            raw: bits[1..].to_vec(),
            alg,
        }
    }
}

impl PublicKeyData for SubjectKey {
    fn der_bytes(&self) -> &[u8] {
        &self.raw
    }

    fn algorithm(&self) -> &'static SignatureAlgorithm {
        self.alg
    }
}

/// A CA certificate with its key.
struct CaCert {
    der: Vec<u8>,
    params: CertificateParams,
    key: KeyPair,
}

impl CaCert {
    fn issuer(&self) -> Issuer<'_, &KeyPair> {
        Issuer::from_params(&self.params, &self.key)
    }
}

fn ca_params(org: &str, cn: &str, path_len: u8) -> CertificateParams {
    let mut p = CertificateParams::default();
    let mut dn = DistinguishedName::new();
    dn.push(DnType::OrganizationName, org);
    dn.push(DnType::CommonName, cn);
    p.distinguished_name = dn;
    p.is_ca = IsCa::Ca(BasicConstraints::Constrained(path_len));
    p.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    set_validity(&mut p, Y2000, Y2100);
    p.serial_number = Some(next_serial());
    p
}

/// A Fulcio-like certificate authority: a self-signed root and an intermediate (both ECDSA
/// P-256, valid 2000 to 2100) that issues the leaves.
pub struct FulcioCa {
    name: String,
    root: CaCert,
    intermediate: CaCert,
}

impl Default for FulcioCa {
    fn default() -> Self {
        Self::new()
    }
}

/// The OIDC identity a leaf is issued to (its one SAN).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum San {
    /// An email SAN (`rfc822Name`), as for Google or Microsoft accounts.
    Email(String),
    /// A URI SAN, as for GitHub Actions workflows.
    Uri(String),
}

impl San {
    /// The SAN as cosign prints and matches it.
    pub fn value(&self) -> &str {
        match self {
            Self::Email(s) | Self::Uri(s) => s,
        }
    }
}

/// The GitHub workflow claims (Fulcio extensions 1.3.6.1.4.1.57264.1.2 to .6, raw strings);
/// empty fields are left out.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct GithubWorkflow {
    /// 1.3.6.1.4.1.57264.1.2
    pub trigger: String,
    /// 1.3.6.1.4.1.57264.1.3
    pub sha: String,
    /// 1.3.6.1.4.1.57264.1.4
    pub name: String,
    /// 1.3.6.1.4.1.57264.1.5
    pub repository: String,
    /// 1.3.6.1.4.1.57264.1.6
    pub git_ref: String,
}

/// Where a leaf's embedded SCT comes from.
#[derive(Clone)]
pub enum SctSource {
    /// No SCT list extension.
    None,
    /// A precertificate SCT signed by this log (trusted or not, as the trusted root says).
    Log(CtLog),
    /// The SCT list extension value copied from another certificate (DER): an SCT over
    /// another TBS.
    CopyFrom(Vec<u8>),
}

/// What to put in a leaf certificate.
#[derive(Clone)]
pub struct LeafSpec {
    /// The identity (the only SAN).
    pub san: San,
    /// The OIDC issuer (written to the v1 and/or v2 extension).
    pub issuer: String,
    /// Write the v1 issuer extension (raw string).
    pub issuer_v1: bool,
    /// Write the v2 issuer extension (DER UTF8String).
    pub issuer_v2: bool,
    /// GitHub workflow claims.
    pub github: Option<GithubWorkflow>,
    /// Validity start, Unix seconds.
    pub not_before: i64,
    /// Validity end, Unix seconds.
    pub not_after: i64,
    /// The embedded SCT.
    pub sct: SctSource,
    /// The SCT's timestamp in milliseconds (default: `not_before`).
    pub sct_time_ms: Option<u64>,
}

impl LeafSpec {
    /// An email identity, valid from a minute ago for ten minutes (like Fulcio's), with an SCT
    /// from `log`.
    pub fn email(email: &str, issuer: &str, log: &CtLog) -> Self {
        Self::new(San::Email(email.to_owned()), issuer, log)
    }

    /// A URI identity (e.g. a GitHub workflow), otherwise as [`LeafSpec::email`].
    pub fn uri(uri: &str, issuer: &str, log: &CtLog) -> Self {
        Self::new(San::Uri(uri.to_owned()), issuer, log)
    }

    fn new(san: San, issuer: &str, log: &CtLog) -> Self {
        let now = now_unix();
        Self {
            san,
            issuer: issuer.to_owned(),
            issuer_v1: true,
            issuer_v2: true,
            github: None,
            not_before: now - 60,
            not_after: now + 600,
            sct: SctSource::Log(log.clone()),
            sct_time_ms: None,
        }
    }

    /// With this validity window (Unix seconds).
    pub fn valid(mut self, not_before: i64, not_after: i64) -> Self {
        self.not_before = not_before;
        self.not_after = not_after;
        self
    }

    /// With these GitHub workflow claims.
    pub fn github(mut self, github: GithubWorkflow) -> Self {
        self.github = Some(github);
        self
    }

    /// Without an embedded SCT.
    pub fn without_sct(mut self) -> Self {
        self.sct = SctSource::None;
        self
    }

    /// With the SCT signed by `log` instead.
    pub fn sct_by(mut self, log: &CtLog) -> Self {
        self.sct = SctSource::Log(log.clone());
        self
    }

    /// With the SCT list of `other` (a leaf issued earlier) copied in.
    pub fn sct_copied_from(mut self, other: &Leaf) -> Self {
        self.sct = SctSource::CopyFrom(other.der.clone());
        self
    }
}

/// An issued leaf certificate.
#[derive(Clone, Debug)]
pub struct Leaf {
    /// The certificate, PEM.
    pub pem: String,
    /// The certificate, DER.
    pub der: Vec<u8>,
    /// The TBSCertificate signed before the SCT extension was added (what an embedded SCT
    /// signs).
    pub precert_tbs: Vec<u8>,
    /// The identity.
    pub san: San,
}

impl Leaf {
    /// The final TBSCertificate (DER).
    pub fn tbs(&self) -> Vec<u8> {
        tbs_of(&self.der)
    }

    /// Whether the leaf has an SCT list extension.
    pub fn has_sct(&self) -> bool {
        extension_value(&self.der, &OID_SCT_LIST).is_some()
    }

    /// Writes the PEM to `path`.
    pub fn write(&self, path: impl AsRef<Path>) {
        std::fs::write(path.as_ref(), &self.pem)
            .unwrap_or_else(|e| panic!("writing {}: {e}", path.as_ref().display()));
    }
}

impl FulcioCa {
    /// A new CA with fresh keys, named `test-fulcio`.
    pub fn new() -> Self {
        Self::named("test-fulcio")
    }

    /// A new CA whose certificates are `O=<name>.example, CN=<name>-root` and
    /// `CN=<name>-intermediate`.
    pub fn named(name: &str) -> Self {
        let org = format!("{name}.example");
        let root_key = KeyPair::generate().expect("generate root key");
        let root_params = ca_params(&org, &format!("{name}-root"), 1);
        let root_der = root_params
            .self_signed(&root_key)
            .expect("self-sign root")
            .der()
            .to_vec();
        let root = CaCert {
            der: root_der,
            params: root_params,
            key: root_key,
        };
        let int_key = KeyPair::generate().expect("generate intermediate key");
        let mut int_params = ca_params(&org, &format!("{name}-intermediate"), 0);
        int_params.extended_key_usages = vec![ExtendedKeyUsagePurpose::CodeSigning];
        int_params.use_authority_key_identifier_extension = true;
        let int_der = int_params
            .signed_by(&int_key, &root.issuer())
            .expect("sign intermediate")
            .der()
            .to_vec();
        let intermediate = CaCert {
            der: int_der,
            params: int_params,
            key: int_key,
        };
        Self {
            name: name.to_owned(),
            root,
            intermediate,
        }
    }

    /// The root certificate, PEM (`--ca-roots`).
    pub fn root_pem(&self) -> String {
        pem("CERTIFICATE", &self.root.der)
    }

    /// The intermediate certificate, PEM (`--ca-intermediates`).
    pub fn intermediate_pem(&self) -> String {
        pem("CERTIFICATE", &self.intermediate.der)
    }

    /// Intermediate then root, PEM (`--certificate-chain`, the `dev.sigstore.cosign/chain`
    /// annotation).
    pub fn chain_pem(&self) -> String {
        self.intermediate_pem() + &self.root_pem()
    }

    /// The root certificate, DER.
    pub fn root_der(&self) -> &[u8] {
        &self.root.der
    }

    /// The intermediate certificate, DER.
    pub fn intermediate_der(&self) -> &[u8] {
        &self.intermediate.der
    }

    /// The intermediate's private key, PKCS#8 PEM (unencrypted), e.g. for Fulcio's `fileca`.
    pub fn intermediate_key_pem(&self) -> String {
        self.intermediate.key.serialize_pem()
    }

    /// The SHA-256 of the intermediate's SPKI (the `issuer_key_hash` of a precert entry).
    pub fn issuer_key_hash(&self) -> [u8; 32] {
        sha256(&self.intermediate.key.subject_public_key_info())
    }

    /// The `certificateAuthorities` entry of a trusted root naming this CA (chain
    /// intermediate, root).
    pub fn authority_json(&self, valid_for: ValidFor) -> Value {
        json!({
            "subject": {"organization": format!("{}.example", self.name), "commonName": self.name},
            "uri": format!("https://{}.example", self.name),
            "certChain": {"certificates": [
                {"rawBytes": STANDARD.encode(&self.intermediate.der)},
                {"rawBytes": STANDARD.encode(&self.root.der)},
            ]},
            "validFor": valid_for.json(),
        })
    }

    /// Issues a leaf for `public_key_pem` (a `PUBLIC KEY`, e.g. `cosign.pub`, or a
    /// certificate) as `spec` says.
    pub fn issue(&self, public_key_pem: &str, spec: &LeafSpec) -> Leaf {
        let subject = SubjectKey::from_pem(public_key_pem);
        let mut params = CertificateParams::default();
        params.distinguished_name = DistinguishedName::new();
        params.subject_alt_names = vec![match &spec.san {
            San::Email(e) => SanType::Rfc822Name(e.as_str().try_into().expect("email SAN")),
            San::Uri(u) => SanType::URI(u.as_str().try_into().expect("URI SAN")),
        }];
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::CodeSigning];
        params.use_authority_key_identifier_extension = true;
        params.is_ca = IsCa::ExplicitNoCa;
        set_validity(&mut params, spec.not_before, spec.not_after);
        params.serial_number = Some(next_serial());
        if spec.issuer_v1 {
            params
                .custom_extensions
                .push(CustomExtension::from_oid_content(
                    &OID_ISSUER_V1,
                    spec.issuer.as_bytes().to_vec(),
                ));
        }
        if let Some(gw) = &spec.github {
            for (n, value) in [
                (2, &gw.trigger),
                (3, &gw.sha),
                (4, &gw.name),
                (5, &gw.repository),
                (6, &gw.git_ref),
            ] {
                if !value.is_empty() {
                    params
                        .custom_extensions
                        .push(CustomExtension::from_oid_content(
                            &[1, 3, 6, 1, 4, 1, 57264, 1, n],
                            value.as_bytes().to_vec(),
                        ));
                }
            }
        }
        if spec.issuer_v2 {
            params
                .custom_extensions
                .push(CustomExtension::from_oid_content(
                    &OID_ISSUER_V2,
                    utf8_string(&spec.issuer),
                ));
        }
        let sign = |params: &CertificateParams| {
            params
                .signed_by(&subject, &self.intermediate.issuer())
                .expect("sign leaf")
                .der()
                .to_vec()
        };
        let first = sign(&params);
        let precert_tbs = tbs_of(&first);
        let sct_list = match &spec.sct {
            SctSource::None => None,
            SctSource::Log(log) => {
                let time = spec
                    .sct_time_ms
                    .unwrap_or_else(|| u64::try_from(spec.not_before).expect("time") * 1000);
                let sct = log.sign_precert(&self.issuer_key_hash(), &precert_tbs, time);
                Some(sct_list_extension(&[sct]))
            }
            SctSource::CopyFrom(other) => {
                Some(extension_value(other, &OID_SCT_LIST).expect("the other leaf has an SCT list"))
            }
        };
        let der = match sct_list {
            None => first,
            Some(ext) => {
                params
                    .custom_extensions
                    .push(CustomExtension::from_oid_content(&OID_SCT_LIST, ext));
                sign(&params)
            }
        };
        Leaf {
            pem: pem("CERTIFICATE", &der),
            der,
            precert_tbs,
            san: spec.san.clone(),
        }
    }
}

/// SHA-256.
pub fn sha256(data: &[u8]) -> [u8; 32] {
    let d = digest(&SHA256, data);
    let mut out = [0u8; 32];
    out.copy_from_slice(d.as_ref());
    out
}

/// The SCT list extension value (an OCTET STRING holding the TLS `SignedCertificateTimestampList`)
/// for TLS-encoded SCTs.
pub fn sct_list_extension(scts: &[Vec<u8>]) -> Vec<u8> {
    let mut items = Vec::new();
    for s in scts {
        items.extend_from_slice(&(s.len() as u16).to_be_bytes());
        items.extend_from_slice(s);
    }
    let mut list = (items.len() as u16).to_be_bytes().to_vec();
    list.extend_from_slice(&items);
    der(0x04, &list)
}

/// A test CT log (ECDSA P-256). Clones share the key.
#[derive(Clone)]
pub struct CtLog {
    key: Arc<KeyPair>,
    /// The log's URL in a trusted root (never contacted).
    pub base_url: String,
}

impl Default for CtLog {
    fn default() -> Self {
        Self::new()
    }
}

impl CtLog {
    /// A new log with a fresh key.
    pub fn new() -> Self {
        Self {
            key: Arc::new(KeyPair::generate().expect("generate CT log key")),
            base_url: "https://ctfe.test.example/test".to_owned(),
        }
    }

    /// The log ID: SHA-256 of its SPKI DER.
    pub fn log_id(&self) -> [u8; 32] {
        sha256(&self.key.subject_public_key_info())
    }

    /// The public key, PEM (`SIGSTORE_CT_LOG_PUBLIC_KEY_FILE`).
    pub fn public_key_pem(&self) -> String {
        pem("PUBLIC KEY", &self.key.subject_public_key_info())
    }

    /// The `ctlogs` entry of a trusted root naming this log.
    pub fn ctlog_json(&self, valid_for: ValidFor) -> Value {
        log_json(
            &self.base_url,
            &self.key.subject_public_key_info(),
            "PKIX_ECDSA_P256_SHA_256",
            valid_for,
        )
    }

    /// Signs `digitally-signed` data for an entry; returns the SCT's TLS encoding.
    fn sign(&self, entry_type: u16, entry: &[u8], timestamp_ms: u64) -> Vec<u8> {
        let mut signed = vec![0u8, 0]; // v1, certificate_timestamp
        signed.extend_from_slice(&timestamp_ms.to_be_bytes());
        signed.extend_from_slice(&entry_type.to_be_bytes());
        signed.extend_from_slice(entry);
        signed.extend_from_slice(&0u16.to_be_bytes()); // no extensions
        let sig = self.key.sign(&signed).expect("CT log signs");
        let mut sct = vec![0u8];
        sct.extend_from_slice(&self.log_id());
        sct.extend_from_slice(&timestamp_ms.to_be_bytes());
        sct.extend_from_slice(&0u16.to_be_bytes());
        sct.extend_from_slice(&[4, 3]); // SHA-256, ECDSA
        sct.extend_from_slice(&(sig.len() as u16).to_be_bytes());
        sct.extend_from_slice(&sig);
        sct
    }

    /// A precertificate SCT (TLS encoding) over `tbs` issued by the key hashing to
    /// `issuer_key_hash`.
    pub fn sign_precert(
        &self,
        issuer_key_hash: &[u8; 32],
        tbs: &[u8],
        timestamp_ms: u64,
    ) -> Vec<u8> {
        let mut entry = issuer_key_hash.to_vec();
        entry.extend_from_slice(&u24(tbs));
        self.sign(1, &entry, timestamp_ms)
    }

    /// An `x509_entry` SCT (TLS encoding) over the final certificate `cert_der`.
    pub fn sign_x509(&self, cert_der: &[u8], timestamp_ms: u64) -> Vec<u8> {
        self.sign(0, &u24(cert_der), timestamp_ms)
    }

    /// A detached SCT over the final certificate `cert_pem`: the CT `add-chain` response JSON
    /// (`{"sct_version":0,"id":..,"timestamp":..,"extensions":"","signature":..}`) that Go
    /// cosign's `--sct` reads (`ct.AddChainResponse`).
    pub fn detached_sct(&self, cert_pem: &str, timestamp_ms: u64) -> String {
        let sct = self.sign_x509(&cert_der_from_pem(cert_pem), timestamp_ms);
        add_chain_response(&sct).to_string()
    }
}

/// The RFC 6962 `add-chain` / `add-pre-chain` response JSON (`sct_version`, `id`, `timestamp`,
/// `extensions`, `signature`: the TLS `DigitallySigned`) of an SCT in its TLS encoding.
pub fn add_chain_response(sct_tls: &[u8]) -> Value {
    let version = sct_tls[0];
    let id = &sct_tls[1..33];
    let timestamp = u64::from_be_bytes(sct_tls[33..41].try_into().expect("8 bytes"));
    let ext_len = usize::from(u16::from_be_bytes([sct_tls[41], sct_tls[42]]));
    let extensions = &sct_tls[43..43 + ext_len];
    // The signature part: hash, algorithm, length-prefixed signature.
    let signature = &sct_tls[43 + ext_len..];
    json!({
        "sct_version": version,
        "id": STANDARD.encode(id),
        "timestamp": timestamp,
        "extensions": STANDARD.encode(extensions),
        "signature": STANDARD.encode(signature),
    })
}

/// A `validFor` window (Unix seconds; no end means open).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ValidFor {
    /// Start.
    pub start: i64,
    /// End, if any.
    pub end: Option<i64>,
}

impl ValidFor {
    /// From `start` on.
    pub fn since(start: i64) -> Self {
        Self { start, end: None }
    }

    /// From `start` to `end`.
    pub fn between(start: i64, end: i64) -> Self {
        Self {
            start,
            end: Some(end),
        }
    }

    /// From 2000 on (everything a test makes).
    pub fn always() -> Self {
        Self::since(Y2000)
    }

    /// The protojson `TimeRange`.
    pub fn json(&self) -> Value {
        let mut v = json!({"start": cosign_types::time::rfc3339(self.start)});
        if let Some(end) = self.end {
            v["end"] = Value::String(cosign_types::time::rfc3339(end));
        }
        v
    }
}

fn log_json(base_url: &str, spki: &[u8], key_details: &str, valid_for: ValidFor) -> Value {
    json!({
        "baseUrl": base_url.trim_end_matches('/'),
        "hashAlgorithm": "SHA2_256",
        "publicKey": {
            "rawBytes": STANDARD.encode(spki),
            "keyDetails": key_details,
            "validFor": valid_for.json(),
        },
        "logId": {"keyId": STANDARD.encode(sha256(spki))},
    })
}

/// A `certificateAuthorities` / `timestampAuthorities` entry for a PEM chain (leaf-most first,
/// root last); its `subject` names organization `test` and the URI.
pub fn authority_from_pem(chain_pem: &str, uri: &str, valid_for: ValidFor) -> Value {
    let certs = certs_der_from_pem(chain_pem);
    assert!(!certs.is_empty(), "no CERTIFICATE in the chain PEM");
    json!({
        "subject": {"organization": "test", "commonName": uri},
        "uri": uri,
        "certChain": {"certificates": certs
            .iter()
            .map(|der| json!({"rawBytes": STANDARD.encode(der)}))
            .collect::<Vec<_>>()},
        "validFor": valid_for.json(),
    })
}

/// A Sigstore `trusted_root.json` under construction
/// (`application/vnd.dev.sigstore.trustedroot+json;version=0.1`, protojson field names).
#[derive(Clone, Debug, Default)]
pub struct TrustedRootJson {
    /// `tlogs` entries.
    pub tlogs: Vec<Value>,
    /// `certificateAuthorities` entries.
    pub certificate_authorities: Vec<Value>,
    /// `ctlogs` entries.
    pub ctlogs: Vec<Value>,
    /// `timestampAuthorities` entries.
    pub timestamp_authorities: Vec<Value>,
}

impl TrustedRootJson {
    /// An empty trusted root.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a CA.
    pub fn ca(mut self, ca: &FulcioCa, valid_for: ValidFor) -> Self {
        self.certificate_authorities
            .push(ca.authority_json(valid_for));
        self
    }

    /// Adds a CT log.
    pub fn ctlog(mut self, log: &CtLog, valid_for: ValidFor) -> Self {
        self.ctlogs.push(log.ctlog_json(valid_for));
        self
    }

    /// Adds a transparency log (Rekor v1 API) with this public key (PEM) at `base_url`; the
    /// log ID is the SHA-256 of the key's SPKI DER.
    pub fn tlog(mut self, public_key_pem: &str, base_url: &str, valid_for: ValidFor) -> Self {
        let key = PublicKey::from_pem(public_key_pem.as_bytes()).expect("a PEM public key");
        let details = match key.key_type() {
            KeyType::EcdsaP256 => "PKIX_ECDSA_P256_SHA_256",
            KeyType::EcdsaP384 => "PKIX_ECDSA_P384_SHA_384",
            KeyType::EcdsaP521 => "PKIX_ECDSA_P521_SHA_512",
            KeyType::Ed25519 => "PKIX_ED25519",
            KeyType::Rsa { bits: 3072 } => "PKIX_RSA_PKCS1V15_3072_SHA256",
            KeyType::Rsa { bits: 4096 } => "PKIX_RSA_PKCS1V15_4096_SHA256",
            KeyType::Rsa { .. } => "PKIX_RSA_PKCS1V15_2048_SHA256",
        };
        self.tlogs
            .push(log_json(base_url, &key.to_spki_der(), details, valid_for));
        self
    }

    /// Adds a running [`crate::TlogServer`], valid from 2000 on.
    pub fn tlog_server(self, server: &crate::TlogServer) -> Self {
        let key = server.public_key_pem();
        self.tlog(&key, server.url(), ValidFor::always())
    }

    /// Adds a CA given by its chain (PEM, leaf-most first, root last), e.g. a running
    /// Fulcio's trust bundle.
    pub fn ca_chain_pem(mut self, chain_pem: &str, uri: &str, valid_for: ValidFor) -> Self {
        self.certificate_authorities
            .push(authority_from_pem(chain_pem, uri, valid_for));
        self
    }

    /// Adds a timestamp authority given by its chain (PEM: the TSA's signing certificate,
    /// intermediates, root), e.g. a running TSA's `/api/v1/timestamp/certchain`.
    pub fn tsa_chain_pem(mut self, chain_pem: &str, uri: &str, valid_for: ValidFor) -> Self {
        self.timestamp_authorities
            .push(authority_from_pem(chain_pem, uri, valid_for));
        self
    }

    /// Adds every log (`tlogs`) of another trusted root's JSON, e.g. a `tlog-server
    /// trusted-root` output naming its Rekor v1 and v2 logs.
    pub fn tlogs_from(mut self, trusted_root_json: &str) -> Self {
        let v: Value = serde_json::from_str(trusted_root_json).expect("trusted root JSON");
        self.tlogs
            .extend(v["tlogs"].as_array().expect("tlogs array").iter().cloned());
        self
    }

    /// Adds a running [`crate::TlogServer`]'s Rekor v1 and v2 logs, as its `trusted-root`
    /// command lists them.
    pub fn tlog_server_v1_v2(self, server: &crate::TlogServer) -> Self {
        self.tlogs_from(&server.trusted_root_json())
    }

    /// Adds a raw `timestampAuthorities` entry.
    pub fn timestamp_authority(mut self, entry: Value) -> Self {
        self.timestamp_authorities.push(entry);
        self
    }

    /// The JSON document.
    pub fn to_value(&self) -> Value {
        json!({
            "mediaType": "application/vnd.dev.sigstore.trustedroot+json;version=0.1",
            "tlogs": self.tlogs,
            "certificateAuthorities": self.certificate_authorities,
            "ctlogs": self.ctlogs,
            "timestampAuthorities": self.timestamp_authorities,
        })
    }

    /// The JSON text (pretty).
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(&self.to_value()).expect("JSON")
    }

    /// Writes the JSON to `path`.
    pub fn write(&self, path: impl AsRef<Path>) {
        std::fs::write(path.as_ref(), self.to_json())
            .unwrap_or_else(|e| panic!("writing {}: {e}", path.as_ref().display()));
    }
}

/// The TBSCertificate (DER) of a certificate (DER) with the extension `oid` removed (for the
/// SCT list: the precertificate TBS of RFC 6962 §3.2). An emptied extension list is dropped.
pub fn tbs_without_extension(cert_der: &[u8], oid: &[u64]) -> Vec<u8> {
    let want = oid_der(oid);
    let tbs = tbs_of(cert_der);
    let (_, _, body, _) = der_split(&tbs);
    let mut out = Vec::new();
    for (tag, whole, inner) in der_elements(body) {
        if tag != 0xa3 {
            out.extend_from_slice(whole);
            continue;
        }
        let (_, _, exts, _) = der_split(inner);
        let kept: Vec<u8> = der_elements(exts)
            .into_iter()
            .filter(|(_, _, ext)| der_elements(ext)[0].1 != want.as_slice())
            .flat_map(|(_, whole, _)| whole.to_vec())
            .collect();
        if !kept.is_empty() {
            out.extend_from_slice(&der(0xa3, &der(0x30, &kept)));
        }
    }
    der(0x30, &out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_lc_rs::signature::{ECDSA_P256_SHA256_ASN1, UnparsedPublicKey};

    const ISSUER: &str = "https://issuer.test.example";

    fn subject_pem() -> String {
        pem(
            "PUBLIC KEY",
            &KeyPair::generate().unwrap().subject_public_key_info(),
        )
    }

    /// The SCTs (TLS) of a leaf's SCT list.
    fn scts(leaf: &Leaf) -> Vec<Vec<u8>> {
        let ext = extension_value(&leaf.der, &OID_SCT_LIST).unwrap();
        let (tag, _, list, _) = der_split(&ext);
        assert_eq!(tag, 0x04);
        let n = usize::from(u16::from_be_bytes([list[0], list[1]]));
        let mut items = &list[2..2 + n];
        let mut out = Vec::new();
        while !items.is_empty() {
            let len = usize::from(u16::from_be_bytes([items[0], items[1]]));
            out.push(items[2..2 + len].to_vec());
            items = &items[2 + len..];
        }
        out
    }

    /// Verifies a precert SCT (no extensions) of `leaf` issued by `ca` with `log`'s key, as
    /// RFC 6962 says: over the TBS without the SCT extension.
    fn verify_precert_sct(sct: &[u8], ca: &FulcioCa, leaf: &Leaf, log: &CtLog) -> bool {
        let id = &sct[1..33];
        let ts = &sct[33..41];
        assert_eq!(&sct[41..43], &[0, 0], "no extensions");
        assert_eq!(&sct[43..45], &[4, 3]);
        let sig = &sct[47..];
        let mut signed = vec![0u8, 0];
        signed.extend_from_slice(ts);
        signed.extend_from_slice(&1u16.to_be_bytes());
        signed.extend_from_slice(&ca.issuer_key_hash());
        signed.extend_from_slice(&u24(&tbs_without_extension(&leaf.der, &OID_SCT_LIST)));
        signed.extend_from_slice(&[0, 0]);
        let spki = log.key.subject_public_key_info();
        let point = {
            let (_, _, body, _) = der_split(&spki);
            der_elements(body)[1].2[1..].to_vec()
        };
        id == log.log_id()
            && UnparsedPublicKey::new(&ECDSA_P256_SHA256_ASN1, point)
                .verify(&signed, sig)
                .is_ok()
    }

    #[test]
    fn the_embedded_sct_signs_the_tbs_without_the_sct_extension() {
        let ca = FulcioCa::new();
        let log = CtLog::new();
        let leaf = ca.issue(
            &subject_pem(),
            &LeafSpec::email("a@test.example", ISSUER, &log),
        );
        assert!(leaf.has_sct());
        assert_eq!(
            tbs_without_extension(&leaf.der, &OID_SCT_LIST),
            leaf.precert_tbs
        );
        assert_ne!(leaf.tbs(), leaf.precert_tbs);
        let all = scts(&leaf);
        assert_eq!(all.len(), 1);
        assert!(verify_precert_sct(&all[0], &ca, &leaf, &log));
        // Without the SCT extension nothing changes.
        let plain = ca.issue(
            &subject_pem(),
            &LeafSpec::email("a@test.example", ISSUER, &log).without_sct(),
        );
        assert!(!plain.has_sct());
        assert_eq!(plain.tbs(), plain.precert_tbs);
        assert_eq!(
            tbs_without_extension(&plain.der, &OID_SCT_LIST),
            plain.tbs()
        );
    }

    #[test]
    fn the_leaf_looks_like_fulcio_s() {
        let ca = FulcioCa::new();
        let log = CtLog::new();
        let gw = GithubWorkflow {
            trigger: "push".into(),
            sha: "abc".into(),
            name: "release".into(),
            repository: "org/repo".into(),
            git_ref: "refs/heads/main".into(),
        };
        let spec = LeafSpec::uri(
            "https://github.com/org/repo/.github/workflows/r.yml@refs/heads/main",
            ISSUER,
            &log,
        )
        .github(gw)
        .valid(Y2000 + 10, Y2000 + 20);
        let leaf = ca.issue(&subject_pem(), &spec);
        let ext = |n: u64| extension_value(&leaf.der, &[1, 3, 6, 1, 4, 1, 57264, 1, n]);
        assert_eq!(ext(1).unwrap(), ISSUER.as_bytes());
        assert_eq!(ext(8).unwrap(), utf8_string(ISSUER));
        assert_eq!(ext(2).unwrap(), b"push");
        assert_eq!(ext(3).unwrap(), b"abc");
        assert_eq!(ext(4).unwrap(), b"release");
        assert_eq!(ext(5).unwrap(), b"org/repo");
        assert_eq!(ext(6).unwrap(), b"refs/heads/main");
        assert!(ext(7).is_none());
        // The subject is empty: an empty SEQUENCE right after the validity.
        let tbs = leaf.tbs();
        let (_, _, body, _) = der_split(&tbs);
        let parts = der_elements(body);
        assert_eq!(parts[5].1, &[0x30, 0x00]);
        // The validity is as asked (UTCTime 000101000010Z .. 000101000020Z).
        assert_eq!(
            parts[4].2,
            &der(
                0x30,
                &[der(0x17, b"000101000010Z"), der(0x17, b"000101000020Z")].concat()
            )[2..]
        );
        // The SCT time defaults to not_before.
        let sct = &scts(&leaf)[0];
        assert_eq!(
            u64::from_be_bytes(sct[33..41].try_into().unwrap()),
            (Y2000 as u64 + 10) * 1000
        );
        assert_eq!(cert_der_from_pem(&leaf.pem), leaf.der);
        assert_eq!(cert_der_from_pem(&ca.chain_pem()), ca.intermediate_der());
    }

    #[test]
    fn each_sct_flaw_is_made() {
        let ca = FulcioCa::new();
        let log = CtLog::new();
        let key = subject_pem();
        let good = ca.issue(&key, &LeafSpec::email("a@test.example", ISSUER, &log));
        let stranger = CtLog::new();
        let unknown = ca.issue(
            &key,
            &LeafSpec::email("a@test.example", ISSUER, &log).sct_by(&stranger),
        );
        assert!(!verify_precert_sct(&scts(&unknown)[0], &ca, &unknown, &log));
        assert!(verify_precert_sct(
            &scts(&unknown)[0],
            &ca,
            &unknown,
            &stranger
        ));
        let copied = ca.issue(
            &key,
            &LeafSpec::email("a@test.example", ISSUER, &log).sct_copied_from(&good),
        );
        assert_eq!(scts(&copied), scts(&good));
        assert!(!verify_precert_sct(&scts(&copied)[0], &ca, &copied, &log));
    }

    #[test]
    fn the_detached_sct_is_an_add_chain_response() {
        let ca = FulcioCa::new();
        let log = CtLog::new();
        let leaf = ca.issue(
            &subject_pem(),
            &LeafSpec::email("a@test.example", ISSUER, &log).without_sct(),
        );
        let v: Value = serde_json::from_str(&log.detached_sct(&leaf.pem, 1_000)).unwrap();
        assert_eq!(v["sct_version"], 0);
        assert_eq!(v["timestamp"], 1_000);
        assert_eq!(v["id"], STANDARD.encode(log.log_id()));
        let sig = STANDARD.decode(v["signature"].as_str().unwrap()).unwrap();
        let mut signed = vec![0u8, 0];
        signed.extend_from_slice(&1_000u64.to_be_bytes());
        signed.extend_from_slice(&0u16.to_be_bytes());
        signed.extend_from_slice(&u24(&leaf.der));
        signed.extend_from_slice(&[0, 0]);
        let spki = log.key.subject_public_key_info();
        let (_, _, body, _) = der_split(&spki);
        let point = der_elements(body)[1].2[1..].to_vec();
        assert_eq!(&sig[..2], &[4, 3]);
        assert!(
            UnparsedPublicKey::new(&ECDSA_P256_SHA256_ASN1, point)
                .verify(&signed, &sig[4..])
                .is_ok()
        );
    }

    #[test]
    fn the_trusted_root_names_everything() {
        let ca = FulcioCa::new();
        let log = CtLog::new();
        let key = subject_pem();
        let r = TrustedRootJson::new()
            .ca(&ca, ValidFor::always())
            .ctlog(&log, ValidFor::between(Y2000, Y2100))
            .tlog(&key, "http://127.0.0.1:1/", ValidFor::since(Y2000));
        let v = r.to_value();
        assert_eq!(
            v["mediaType"],
            "application/vnd.dev.sigstore.trustedroot+json;version=0.1"
        );
        assert_eq!(v["tlogs"][0]["baseUrl"], "http://127.0.0.1:1");
        assert_eq!(
            v["tlogs"][0]["publicKey"]["validFor"]["start"],
            "2000-01-01T00:00:00Z"
        );
        let pk = PublicKey::from_pem(key.as_bytes()).unwrap();
        assert_eq!(v["tlogs"][0]["logId"]["keyId"], STANDARD.encode(pk.hint()));
        assert_eq!(
            v["ctlogs"][0]["publicKey"]["validFor"]["end"],
            "2100-01-01T00:00:00Z"
        );
        assert_eq!(
            v["ctlogs"][0]["logId"]["keyId"],
            STANDARD.encode(log.log_id())
        );
        assert_eq!(
            v["certificateAuthorities"][0]["certChain"]["certificates"][1]["rawBytes"],
            STANDARD.encode(ca.root_der())
        );
        assert_eq!(v["timestampAuthorities"], json!([]));
    }
}
