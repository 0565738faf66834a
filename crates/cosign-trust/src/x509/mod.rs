//! X.509 certificates as Sigstore uses them: parsing (DER and PEM), chains to the certificate
//! authorities of a trusted root at a given time ([`chain`]), Fulcio's extensions and subject
//! alternative names ([`fulcio`]) and the signature algorithms they use ([`signature`]).

pub mod chain;
pub mod fulcio;
pub mod signature;
pub(crate) mod tlv;

use base64::Engine as _;
use const_oid::ObjectIdentifier;
use const_oid::db::rfc5912;
use der::{Decode as _, Encode as _};
use x509_cert::ext::pkix::{BasicConstraints, ExtendedKeyUsage, KeyUsage};

use crate::TrustError;

/// Largest certificate accepted (DER bytes).
pub const MAX_CERTIFICATE_LEN: usize = 64 * 1024;
/// Most certificates read from one PEM file.
pub const MAX_PEM_CERTIFICATES: usize = 32;

/// A parsed X.509 certificate with its original DER.
#[derive(Clone)]
pub struct Certificate {
    der: Vec<u8>,
    cert: x509_cert::Certificate,
    /// Byte ranges in `der` of the TBS, the issuer name and the subject name, as read.
    tbs: std::ops::Range<usize>,
    issuer: std::ops::Range<usize>,
    subject: std::ops::Range<usize>,
}

impl std::fmt::Debug for Certificate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Certificate")
            .field("subject", &self.subject_string())
            .field("serial", &hex::encode(self.serial_number()))
            .finish()
    }
}

impl PartialEq for Certificate {
    fn eq(&self, other: &Self) -> bool {
        self.der == other.der
    }
}

impl Eq for Certificate {}

fn parse_err(reason: impl std::fmt::Display) -> TrustError {
    TrustError::Parse {
        what: "certificate",
        reason: reason.to_string(),
    }
}

impl Certificate {
    /// Parses one DER certificate (no trailing data).
    pub fn from_der(der: &[u8]) -> Result<Self, TrustError> {
        if der.len() > MAX_CERTIFICATE_LEN {
            return Err(parse_err(format!(
                "{} bytes, more than the limit of {MAX_CERTIFICATE_LEN}",
                der.len()
            )));
        }
        let cert = x509_cert::Certificate::from_der(der).map_err(parse_err)?;
        let (tbs, issuer, subject) = raw_ranges(der).map_err(parse_err)?;
        Ok(Self {
            der: der.to_vec(),
            cert,
            tbs,
            issuer,
            subject,
        })
    }

    /// Parses every `CERTIFICATE` block of a PEM text (other blocks are skipped). Fails when
    /// there is none.
    pub fn from_pem(pem: &[u8]) -> Result<Vec<Self>, TrustError> {
        let text = std::str::from_utf8(pem).map_err(|_| parse_err("PEM is not UTF-8"))?;
        let mut out = Vec::new();
        let mut rest = text;
        while let Some(start) = rest.find("-----BEGIN ") {
            let after = &rest[start + 11..];
            let label_end = after
                .find("-----")
                .ok_or_else(|| parse_err("unterminated PEM header"))?;
            let label = &after[..label_end];
            let body_start = &after[label_end + 5..];
            let end_marker = format!("-----END {label}-----");
            let body_end = body_start
                .find(&end_marker)
                .ok_or_else(|| parse_err(format!("PEM block {label} has no end line")))?;
            if label == "CERTIFICATE" {
                if out.len() == MAX_PEM_CERTIFICATES {
                    return Err(parse_err(format!(
                        "more than {MAX_PEM_CERTIFICATES} certificates in one PEM file"
                    )));
                }
                let b64: String = body_start[..body_end]
                    .chars()
                    .filter(|c| !c.is_ascii_whitespace())
                    .collect();
                let der = base64::engine::general_purpose::STANDARD
                    .decode(b64.as_bytes())
                    .map_err(|e| parse_err(format!("PEM body is not base64: {e}")))?;
                out.push(Self::from_der(&der)?);
            }
            rest = &body_start[body_end + end_marker.len()..];
        }
        if out.is_empty() {
            return Err(parse_err("no CERTIFICATE block in PEM"));
        }
        Ok(out)
    }

    /// The certificate as PEM.
    pub fn to_pem(&self) -> String {
        let b64 = base64::engine::general_purpose::STANDARD.encode(&self.der);
        let mut out = String::from("-----BEGIN CERTIFICATE-----\n");
        for chunk in b64.as_bytes().chunks(64) {
            out.push_str(&String::from_utf8_lossy(chunk));
            out.push('\n');
        }
        out.push_str("-----END CERTIFICATE-----\n");
        out
    }

    /// The DER encoding as read.
    pub fn der(&self) -> &[u8] {
        &self.der
    }

    /// The parsed certificate.
    pub fn inner(&self) -> &x509_cert::Certificate {
        &self.cert
    }

    /// The DER of the `tbsCertificate` as read (what the issuer signed).
    pub fn tbs_der(&self) -> Result<&[u8], TrustError> {
        self.der
            .get(self.tbs.clone())
            .ok_or_else(|| parse_err("TBS out of range"))
    }

    /// The DER of the subject name, as read.
    pub fn subject_der(&self) -> &[u8] {
        self.der.get(self.subject.clone()).unwrap_or_default()
    }

    /// The DER of the issuer name, as read.
    pub fn issuer_der(&self) -> &[u8] {
        self.der.get(self.issuer.clone()).unwrap_or_default()
    }

    /// The subject as an RFC 4514 string.
    pub fn subject_string(&self) -> String {
        self.cert.tbs_certificate().subject().to_string()
    }

    /// The issuer as an RFC 4514 string.
    pub fn issuer_string(&self) -> String {
        self.cert.tbs_certificate().issuer().to_string()
    }

    /// The serial number's big-endian bytes as encoded.
    pub fn serial_number(&self) -> &[u8] {
        self.cert.tbs_certificate().serial_number().as_bytes()
    }

    /// Start of validity (Unix seconds).
    pub fn not_before(&self) -> i64 {
        secs(self.cert.tbs_certificate().validity().not_before)
    }

    /// End of validity (Unix seconds, inclusive).
    pub fn not_after(&self) -> i64 {
        secs(self.cert.tbs_certificate().validity().not_after)
    }

    /// Whether `time` (Unix seconds) is within `notBefore ..= notAfter`.
    pub fn valid_at(&self, time: i64) -> bool {
        self.not_before() <= time && time <= self.not_after()
    }

    /// The DER of the SubjectPublicKeyInfo.
    pub fn spki_der(&self) -> Result<Vec<u8>, TrustError> {
        self.cert
            .tbs_certificate()
            .subject_public_key_info()
            .to_der()
            .map_err(parse_err)
    }

    /// The subject public key, for verifying signatures made by the certificate's owner.
    pub fn public_key(&self) -> Result<cosign_crypto::PublicKey, TrustError> {
        cosign_crypto::PublicKey::from_spki_der(&self.spki_der()?).map_err(parse_err)
    }

    /// An extension by OID: whether it is critical, and its value (the OCTET STRING's content).
    /// Fails when the OID appears more than once.
    pub fn extension(&self, oid: &ObjectIdentifier) -> Result<Option<(bool, &[u8])>, TrustError> {
        let mut found = None;
        for ext in self.extensions() {
            if ext.extn_id == *oid {
                if found.is_some() {
                    return Err(parse_err(format!("extension {oid} appears twice")));
                }
                found = Some((ext.critical, ext.extn_value.as_bytes()));
            }
        }
        Ok(found)
    }

    /// All extensions.
    pub fn extensions(&self) -> &[x509_cert::ext::Extension] {
        self.cert
            .tbs_certificate()
            .extensions()
            .map(|v| v.as_slice())
            .unwrap_or(&[])
    }

    /// Basic constraints, when present.
    pub fn basic_constraints(&self) -> Result<Option<BasicConstraints>, TrustError> {
        self.decode_extension::<BasicConstraints>(&rfc5912::ID_CE_BASIC_CONSTRAINTS)
    }

    /// Whether basic constraints say this is a CA.
    pub fn is_ca(&self) -> Result<bool, TrustError> {
        Ok(self.basic_constraints()?.is_some_and(|bc| bc.ca))
    }

    /// Key usage, when present.
    pub fn key_usage(&self) -> Result<Option<KeyUsage>, TrustError> {
        self.decode_extension::<KeyUsage>(&rfc5912::ID_CE_KEY_USAGE)
    }

    /// Extended key usages, when present (and whether the extension is critical).
    pub fn extended_key_usage(&self) -> Result<Option<(bool, Vec<ObjectIdentifier>)>, TrustError> {
        match self.extension(&rfc5912::ID_CE_EXT_KEY_USAGE)? {
            None => Ok(None),
            Some((critical, value)) => {
                let eku = ExtendedKeyUsage::from_der(value).map_err(parse_err)?;
                Ok(Some((critical, eku.0)))
            }
        }
    }

    fn decode_extension<'a, T: der::Decode<'a, Error = der::Error>>(
        &'a self,
        oid: &ObjectIdentifier,
    ) -> Result<Option<T>, TrustError> {
        match self.extension(oid)? {
            None => Ok(None),
            Some((_, value)) => T::from_der(value)
                .map(Some)
                .map_err(|e| parse_err(format!("extension {oid}: {e}"))),
        }
    }

    /// Whether `issuer` signed this certificate (names chain and the signature verifies).
    pub fn is_signed_by(&self, issuer: &Certificate) -> Result<(), String> {
        if self.issuer_der() != issuer.subject_der() {
            return Err(format!(
                "issuer {} is not the subject {}",
                self.issuer_string(),
                issuer.subject_string()
            ));
        }
        let outer_alg = self.cert.signature_algorithm();
        if outer_alg != self.cert.tbs_certificate().signature() {
            return Err("the signature algorithm differs inside and outside the TBS".into());
        }
        let alg_der = outer_alg.to_der().map_err(|e| e.to_string())?;
        let alg = spki::AlgorithmIdentifierRef::from_der(&alg_der).map_err(|e| e.to_string())?;
        let sig = self
            .cert
            .signature()
            .as_bytes()
            .ok_or("the signature bit string has unused bits")?;
        let tbs = self.tbs_der().map_err(|e| e.to_string())?;
        let spki = issuer.spki_der().map_err(|e| e.to_string())?;
        signature::verify_signature(&spki, &alg, None, tbs, sig)
    }
}

/// The positions of the TBS, issuer and subject in a certificate's DER (Go compares names by
/// these raw bytes).
type Ranges = (
    std::ops::Range<usize>,
    std::ops::Range<usize>,
    std::ops::Range<usize>,
);

fn raw_ranges(der: &[u8]) -> Result<Ranges, String> {
    let base = der.as_ptr() as usize;
    let range = |part: &[u8]| {
        let start = part.as_ptr() as usize - base;
        start..start + part.len()
    };
    let outer = tlv::single(der)?;
    let tbs = *tlv::elements(outer.value)?
        .first()
        .ok_or("empty certificate")?;
    let fields = tlv::elements(tbs.value)?;
    // version [0] is optional; then serial, signature, issuer, validity, subject.
    let skip = usize::from(fields.first().is_some_and(|f| f.tag == 0xa0));
    let issuer = fields.get(skip + 2).ok_or("TBS without issuer")?;
    let subject = fields.get(skip + 4).ok_or("TBS without subject")?;
    if issuer.tag != 0x30 || subject.tag != 0x30 {
        return Err("TBS names are not SEQUENCEs".into());
    }
    Ok((range(tbs.raw), range(issuer.raw), range(subject.raw)))
}

fn secs(time: x509_cert::time::Time) -> i64 {
    i64::try_from(time.to_unix_duration().as_secs()).unwrap_or(i64::MAX)
}
