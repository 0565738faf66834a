//! RFC 3161 timestamps: a `TimeStampResp` (or a bare `TimeStampToken`), a CMS SignedData
//! (RFC 5652) whose content is a `TSTInfo`, verified against the timestamp authorities of the
//! trusted root, as sigstore-go does with sigstore's timestamp-authority verifier:
//!
//! - the token holds exactly one signer; its signed attributes carry the content type
//!   `id-ct-TSTInfo` and the message digest of the TSTInfo, and its signature verifies with the
//!   signer's certificate (embedded in the token, or the authority's own leaf);
//! - the message imprint is the SHA-256/384/512 hash of the signed bytes (SHA-1 is refused);
//! - the signer chains to an authority of the trusted root at `genTime` (the whole chain valid
//!   then), is an end-entity certificate whose only extended key usage is `timeStamping`
//!   (critical), is the authority's leaf when the authority names one, and the authority's
//!   `validFor` contains `genTime` (end inclusive).
//!
//! Parsing is done on the DER bytes, so the signature is checked over exactly what was signed.
//! (RustCrypto's `cms` has only a release candidate on der 0.8, and `x509-tsp` 0.1 is built on
//! der 0.7, so the few CMS and TSTInfo fields needed are read here.)

use const_oid::ObjectIdentifier;
use der::Decode as _;
use der::asn1::ObjectIdentifier as Oid;
use spki::AlgorithmIdentifierRef;

use crate::TrustError;
use crate::trusted_root::{CertificateAuthority, TrustedRoot};
use crate::x509::Certificate;
use crate::x509::chain::{Purpose, verify_with_authority};
use crate::x509::signature::{SigHash, verify_signature};
use crate::x509::tlv::{self, Tlv};

/// Largest timestamp accepted (bytes).
pub const MAX_TIMESTAMP_LEN: usize = 128 * 1024;
/// Most certificates embedded in one token.
const MAX_EMBEDDED_CERTS: usize = 16;

const ID_SIGNED_DATA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.7.2");
const ID_CT_TST_INFO: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.16.1.4");
const ID_CONTENT_TYPE: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.3");
const ID_MESSAGE_DIGEST: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.4");
const ID_SHA1: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.14.3.2.26");

const SEQUENCE: u8 = 0x30;
const SET: u8 = 0x31;
const OID: u8 = 0x06;
const INTEGER: u8 = 0x02;
const OCTET_STRING: u8 = 0x04;
const GENERALIZED_TIME: u8 = 0x18;
const CTX0: u8 = 0xa0;
const CTX0_PRIMITIVE: u8 = 0x80;
const CTX1: u8 = 0xa1;

fn err(reason: impl std::fmt::Display) -> TrustError {
    TrustError::Timestamp {
        reason: reason.to_string(),
    }
}

fn expect<'a>(tlv: Option<&Tlv<'a>>, tag: u8, what: &str) -> Result<Tlv<'a>, TrustError> {
    match tlv {
        Some(t) if t.tag == tag => Ok(*t),
        Some(t) => Err(err(format!("{what}: unexpected tag 0x{:02x}", t.tag))),
        None => Err(err(format!("{what}: missing"))),
    }
}

fn split<'a>(value: &'a [u8], what: &str) -> Result<Vec<Tlv<'a>>, TrustError> {
    tlv::elements(value).map_err(|e| err(format!("{what}: {e}")))
}

fn oid(t: &Tlv<'_>) -> Result<ObjectIdentifier, TrustError> {
    Oid::from_der(t.raw).map_err(|e| err(format!("bad object identifier: {e}")))
}

fn alg_hash(t: &Tlv<'_>, what: &str) -> Result<SigHash, TrustError> {
    let alg = AlgorithmIdentifierRef::from_der(t.raw).map_err(|e| err(format!("{what}: {e}")))?;
    if alg.oid == ID_SHA1 {
        return Err(err(format!("{what}: SHA-1 is too weak")));
    }
    SigHash::from_oid(&alg.oid).ok_or_else(|| err(format!("{what}: unsupported hash {}", alg.oid)))
}

/// How the signer names its certificate.
#[derive(Clone, Debug, PartialEq, Eq)]
enum SignerId {
    IssuerSerial { issuer: Vec<u8>, serial: Vec<u8> },
    KeyId(Vec<u8>),
}

/// A parsed (not yet verified) RFC 3161 timestamp token.
#[derive(Clone, Debug)]
pub struct TimestampToken {
    certificates: Vec<Certificate>,
    signer: SignerId,
    digest_alg: SigHash,
    signed_attrs: Vec<u8>,
    signature_alg: Vec<u8>,
    signature: Vec<u8>,
    tst_info: Vec<u8>,
    imprint_alg: SigHash,
    imprint: Vec<u8>,
    gen_time: i64,
}

/// A timestamp that verified.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VerifiedTimestamp {
    /// `genTime` (Unix seconds; fractions dropped).
    pub time: i64,
    /// The URI of the timestamp authority that vouched for it.
    pub authority_uri: String,
    /// The chain of the signer, leaf first.
    pub chain: Vec<Certificate>,
}

impl TimestampToken {
    /// Parses a DER `TimeStampResp` (what Sigstore bundles hold in `signedTimestamp`) or a bare
    /// `TimeStampToken`.
    pub fn from_der(der: &[u8]) -> Result<Self, TrustError> {
        if der.len() > MAX_TIMESTAMP_LEN {
            return Err(err(format!("more than {MAX_TIMESTAMP_LEN} bytes")));
        }
        let outer = tlv::single(der).map_err(err)?;
        let parts = split(
            expect(Some(&outer), SEQUENCE, "timestamp")?.value,
            "timestamp",
        )?;
        let token = match parts.first().map(|t| t.tag) {
            Some(SEQUENCE) => {
                // TimeStampResp: status, then the token.
                let status = split(parts[0].value, "PKIStatusInfo")?;
                let code = expect(status.first(), INTEGER, "PKIStatus")?;
                if code.value != [0] && code.value != [1] {
                    return Err(err(format!(
                        "the TSA refused the request (status {})",
                        hex::encode(code.value)
                    )));
                }
                let token = expect(parts.get(1), SEQUENCE, "TimeStampToken")?;
                split(token.value, "TimeStampToken")?
            }
            Some(OID) => parts,
            _ => return Err(err("neither a TimeStampResp nor a TimeStampToken")),
        };
        if oid(&expect(token.first(), OID, "content type")?)? != ID_SIGNED_DATA {
            return Err(err("the token is not CMS SignedData"));
        }
        let content = expect(token.get(1), CTX0, "SignedData")?;
        let signed_data = tlv::single(content.value).map_err(err)?;
        let signed_data = expect(Some(&signed_data), SEQUENCE, "SignedData")?;
        Self::from_signed_data(split(signed_data.value, "SignedData")?)
    }

    fn from_signed_data(sd: Vec<Tlv<'_>>) -> Result<Self, TrustError> {
        let mut it = sd.iter().peekable();
        let version = expect(it.next(), INTEGER, "SignedData version")?;
        if !matches!(version.value, [1 | 3 | 4 | 5]) {
            return Err(err("unknown SignedData version"));
        }
        expect(it.next(), SET, "SignedData digestAlgorithms")?;
        let encap = expect(it.next(), SEQUENCE, "encapContentInfo")?;
        let mut certificates = Vec::new();
        if let Some(certs) = it.next_if(|t| t.tag == CTX0) {
            for c in split(certs.value, "certificates")? {
                if c.tag != SEQUENCE {
                    continue; // attribute certificates and other choices are not used
                }
                if certificates.len() == MAX_EMBEDDED_CERTS {
                    return Err(err(format!("more than {MAX_EMBEDDED_CERTS} certificates")));
                }
                certificates.push(Certificate::from_der(c.raw)?);
            }
        }
        let _crls = it.next_if(|t| t.tag == CTX1);
        let signer_infos = expect(it.next(), SET, "signerInfos")?;
        if it.next().is_some() {
            return Err(err("trailing data in SignedData"));
        }
        let infos = split(signer_infos.value, "signerInfos")?;
        let [info] = infos.as_slice() else {
            return Err(err(format!(
                "{} signers, expected exactly one",
                infos.len()
            )));
        };

        let encap = split(encap.value, "encapContentInfo")?;
        if oid(&expect(encap.first(), OID, "eContentType")?)? != ID_CT_TST_INFO {
            return Err(err("the signed content is not a TSTInfo"));
        }
        let econtent = expect(encap.get(1), CTX0, "eContent")?;
        let econtent = tlv::single(econtent.value).map_err(err)?;
        let tst_info = expect(Some(&econtent), OCTET_STRING, "eContent")?
            .value
            .to_vec();

        let si = split(
            expect(Some(info), SEQUENCE, "SignerInfo")?.value,
            "SignerInfo",
        )?;
        let mut si = si.iter().peekable();
        let version = expect(si.next(), INTEGER, "SignerInfo version")?;
        if !matches!(version.value, [1 | 3]) {
            return Err(err("unknown SignerInfo version"));
        }
        let sid = si.next().ok_or_else(|| err("SignerInfo: missing sid"))?;
        let signer = match sid.tag {
            SEQUENCE => {
                let parts = split(sid.value, "issuerAndSerialNumber")?;
                let issuer = expect(parts.first(), SEQUENCE, "issuer")?.raw.to_vec();
                let serial = expect(parts.get(1), INTEGER, "serialNumber")?
                    .value
                    .to_vec();
                SignerId::IssuerSerial { issuer, serial }
            }
            CTX0_PRIMITIVE => SignerId::KeyId(sid.value.to_vec()),
            other => return Err(err(format!("SignerInfo: unknown sid tag 0x{other:02x}"))),
        };
        let digest_alg = alg_hash(
            &expect(si.next(), SEQUENCE, "digestAlgorithm")?,
            "digestAlgorithm",
        )?;
        let attrs = si
            .next_if(|t| t.tag == CTX0)
            .ok_or_else(|| err("SignerInfo has no signed attributes"))?;
        let signature_alg = expect(si.next(), SEQUENCE, "signatureAlgorithm")?
            .raw
            .to_vec();
        let signature = expect(si.next(), OCTET_STRING, "signature")?.value.to_vec();

        // The signature covers the attributes encoded as a SET OF (tag 0x31, not [0]).
        let mut signed_attrs = tlv::header(SET, attrs.value.len());
        signed_attrs.extend_from_slice(attrs.value);
        check_attributes(attrs.value, digest_alg, &tst_info)?;

        let (imprint_alg, imprint, gen_time) = parse_tst_info(&tst_info)?;
        Ok(Self {
            certificates,
            signer,
            digest_alg,
            signed_attrs,
            signature_alg,
            signature,
            tst_info,
            imprint_alg,
            imprint,
            gen_time,
        })
    }

    /// `genTime` (Unix seconds), unverified.
    pub fn gen_time(&self) -> i64 {
        self.gen_time
    }

    /// The certificates embedded in the token.
    pub fn certificates(&self) -> &[Certificate] {
        &self.certificates
    }

    /// The raw TSTInfo (DER).
    pub fn tst_info(&self) -> &[u8] {
        &self.tst_info
    }

    /// Whether the message imprint is the hash of `data`.
    pub fn covers(&self, data: &[u8]) -> bool {
        self.imprint_alg.digest(data) == self.imprint
    }

    fn names(&self, cert: &Certificate) -> bool {
        match &self.signer {
            SignerId::IssuerSerial { issuer, serial } => {
                cert.issuer_der() == *issuer && cert.serial_number() == serial.as_slice()
            }
            SignerId::KeyId(id) => cert
                .extension(&const_oid::db::rfc5912::ID_CE_SUBJECT_KEY_IDENTIFIER)
                .ok()
                .flatten()
                .and_then(|(_, v)| tlv::single(v).ok().filter(|t| t.tag == OCTET_STRING))
                .is_some_and(|ski| ski.value == id.as_slice()),
        }
    }

    /// Checks the CMS signature with the signer's certificate among those embedded in the token,
    /// trusting nothing else, and that the signing-time attribute (when there is one that
    /// parses) is within that certificate's validity: what digitorus/timestamp's
    /// `ParseResponse` checks when a token carries certificates (`cosign bundle inspect` reads
    /// timestamps so). No chain is built.
    pub fn verify_embedded_signer(&self) -> Result<(), TrustError> {
        let signer = self
            .certificates
            .iter()
            .find(|c| self.names(c))
            .ok_or_else(|| err("no certificate for the signer in the token"))?;
        if let Some(time) = signing_time(&self.signed_attrs) {
            if time < signer.not_before() || time > signer.not_after() {
                return Err(err(
                    "the signing time is outside the signer certificate's validity",
                ));
            }
        }
        let alg = AlgorithmIdentifierRef::from_der(&self.signature_alg).map_err(err)?;
        let spki = signer.spki_der()?;
        verify_signature(
            &spki,
            &alg,
            Some(self.digest_alg),
            &self.signed_attrs,
            &self.signature,
        )
        .map_err(|e| err(format!("CMS signature: {e}")))
    }

    /// Verifies the token over `signed` (the artifact signature's bytes) against the timestamp
    /// authorities of `trusted_root`. Returns the verified time and authority.
    pub fn verify(
        &self,
        signed: &[u8],
        trusted_root: &TrustedRoot,
    ) -> Result<VerifiedTimestamp, TrustError> {
        if !self.covers(signed) {
            return Err(err(
                "the message imprint is not the hash of the signature (timestamp over other data)",
            ));
        }
        let mut reasons = Vec::new();
        for authority in &trusted_root.timestamp_authorities {
            match self.verify_with(authority) {
                Ok(chain) => {
                    return Ok(VerifiedTimestamp {
                        time: self.gen_time,
                        authority_uri: authority.uri.clone(),
                        chain,
                    });
                }
                Err(e) => reasons.push(format!("{}: {e}", authority.uri)),
            }
        }
        if reasons.is_empty() {
            reasons.push("the trusted root has no timestamp authority".into());
        }
        Err(err(format!(
            "no trusted timestamp authority vouches for it: {}",
            reasons.join("; ")
        )))
    }

    fn verify_with(&self, authority: &CertificateAuthority) -> Result<Vec<Certificate>, String> {
        let tsa_leaf = authority.tsa_leaf();
        let signer = self
            .certificates
            .iter()
            .chain(tsa_leaf)
            .find(|c| self.names(c))
            .ok_or("the signer's certificate is neither in the token nor the authority's leaf")?;
        if let Some(leaf) = tsa_leaf {
            if leaf.issuer_der() != signer.issuer_der()
                || leaf.serial_number() != signer.serial_number()
            {
                return Err("the signer is not the authority's TSA certificate".into());
            }
        }
        let alg =
            AlgorithmIdentifierRef::from_der(&self.signature_alg).map_err(|e| e.to_string())?;
        let spki = signer.spki_der().map_err(|e| e.to_string())?;
        verify_signature(
            &spki,
            &alg,
            Some(self.digest_alg),
            &self.signed_attrs,
            &self.signature,
        )
        .map_err(|e| format!("CMS signature: {e}"))?;
        let extra: Vec<Certificate> = self
            .certificates
            .iter()
            .filter(|c| *c != signer)
            .cloned()
            .collect();
        verify_with_authority(
            signer,
            &extra,
            authority,
            self.gen_time,
            Purpose::TimeStamping,
        )
    }
}

/// Checks the signed attributes: content type TSTInfo, message digest of the TSTInfo.
fn check_attributes(attrs: &[u8], digest_alg: SigHash, tst_info: &[u8]) -> Result<(), TrustError> {
    let (mut content_type, mut digest) = (None, None);
    for attr in split(attrs, "signed attributes")? {
        let parts = split(
            expect(Some(&attr), SEQUENCE, "attribute")?.value,
            "attribute",
        )?;
        let id = oid(&expect(parts.first(), OID, "attribute type")?)?;
        let values = split(
            expect(parts.get(1), SET, "attribute values")?.value,
            "values",
        )?;
        let [value] = values.as_slice() else {
            return Err(err(format!("attribute {id} has {} values", values.len())));
        };
        let slot = match id {
            ID_CONTENT_TYPE => &mut content_type,
            ID_MESSAGE_DIGEST => &mut digest,
            _ => continue,
        };
        if slot.replace(*value).is_some() {
            return Err(err(format!("attribute {id} appears twice")));
        }
    }
    let ct = content_type.ok_or_else(|| err("no content-type signed attribute"))?;
    if ct.tag != OID || oid(&ct)? != ID_CT_TST_INFO {
        return Err(err("the content-type attribute is not id-ct-TSTInfo"));
    }
    let md = digest.ok_or_else(|| err("no message-digest signed attribute"))?;
    if md.tag != OCTET_STRING || md.value != digest_alg.digest(tst_info).as_slice() {
        return Err(err(
            "the message-digest attribute is not the digest of the TSTInfo",
        ));
    }
    Ok(())
}

/// The signing-time attribute (1.2.840.113549.1.9.5) of SET-wrapped signed attributes, when
/// present and a `UTCTime` or `GeneralizedTime` (Unix seconds).
fn signing_time(signed_attrs: &[u8]) -> Option<i64> {
    const ID_SIGNING_TIME: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.5");
    const UTC_TIME: u8 = 0x17;
    let set = tlv::single(signed_attrs).ok()?;
    for attr in tlv::elements(set.value).ok()? {
        let parts = tlv::elements(attr.value).ok()?;
        let id = parts
            .first()
            .filter(|t| t.tag == OID)
            .and_then(|t| oid(t).ok())?;
        if id != ID_SIGNING_TIME {
            continue;
        }
        let values = tlv::elements(parts.get(1)?.value).ok()?;
        let value = values.first()?;
        return match value.tag {
            GENERALIZED_TIME => parse_generalized_time(value.value).ok(),
            UTC_TIME => {
                // YYMMDDhhmm[ss]Z, years 1950..2049.
                let text = std::str::from_utf8(value.value).ok()?.strip_suffix('Z')?;
                let text = if text.len() == 10 {
                    format!("{text}00")
                } else {
                    text.to_owned()
                };
                let yy: i64 = text.get(..2)?.parse().ok()?;
                let century = if yy >= 50 { "19" } else { "20" };
                parse_generalized_time(format!("{century}{text}Z").as_bytes()).ok()
            }
            _ => None,
        };
    }
    None
}

/// Reads the message imprint and `genTime` of a TSTInfo.
fn parse_tst_info(der: &[u8]) -> Result<(SigHash, Vec<u8>, i64), TrustError> {
    let info = tlv::single(der).map_err(err)?;
    let parts = split(expect(Some(&info), SEQUENCE, "TSTInfo")?.value, "TSTInfo")?;
    expect(parts.first(), INTEGER, "TSTInfo version")?;
    expect(parts.get(1), OID, "TSTInfo policy")?;
    let imprint = split(
        expect(parts.get(2), SEQUENCE, "messageImprint")?.value,
        "messageImprint",
    )?;
    let alg = alg_hash(
        &expect(imprint.first(), SEQUENCE, "imprint algorithm")?,
        "imprint algorithm",
    )?;
    let hashed = expect(imprint.get(1), OCTET_STRING, "hashedMessage")?
        .value
        .to_vec();
    expect(parts.get(3), INTEGER, "TSTInfo serialNumber")?;
    let time = expect(parts.get(4), GENERALIZED_TIME, "genTime")?;
    Ok((alg, hashed, parse_generalized_time(time.value)?))
}

/// `YYYYMMDDHHMMSS[.f+]Z` to Unix seconds (fractions dropped).
fn parse_generalized_time(value: &[u8]) -> Result<i64, TrustError> {
    let bad = || err(format!("bad genTime {:?}", String::from_utf8_lossy(value)));
    let text = std::str::from_utf8(value).map_err(|_| bad())?;
    let body = text.strip_suffix('Z').ok_or_else(bad)?;
    let (main, fraction) = body.split_once('.').unwrap_or((body, ""));
    if main.len() != 14
        || !main.bytes().all(|b| b.is_ascii_digit())
        || !fraction.bytes().all(|b| b.is_ascii_digit())
        || (body.contains('.') && fraction.is_empty())
    {
        return Err(bad());
    }
    let num = |r: std::ops::Range<usize>| main.get(r).and_then(|s| s.parse::<i64>().ok());
    let (Some(y), Some(mo), Some(d), Some(h), Some(mi), Some(s)) = (
        num(0..4),
        num(4..6),
        num(6..8),
        num(8..10),
        num(10..12),
        num(12..14),
    ) else {
        return Err(bad());
    };
    if !(1..=12).contains(&mo) || !(1..=31).contains(&d) || h > 23 || mi > 59 || s > 60 {
        return Err(bad());
    }
    let days = cosign_types::time::days_from_civil(y, mo, d);
    Ok(days * 86_400 + h * 3_600 + mi * 60 + s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signing_time_attribute() {
        // SET { SEQUENCE { signingTime, SET { UTCTime } } }
        let attrs = |time: &[u8]| {
            let mut value = vec![0x31, time.len() as u8];
            value.extend_from_slice(time);
            let mut attr = vec![
                0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x09, 0x05,
            ];
            attr.extend_from_slice(&value);
            let mut seq = vec![0x30, attr.len() as u8];
            seq.extend_from_slice(&attr);
            let mut set = vec![0x31, seq.len() as u8];
            set.extend_from_slice(&seq);
            set
        };
        assert_eq!(
            signing_time(&attrs(b"\x17\x0d250612120220Z")),
            Some(1_749_729_740)
        );
        assert_eq!(
            signing_time(&attrs(b"\x18\x0f20250612120220Z")),
            Some(1_749_729_740)
        );
        assert_eq!(signing_time(&attrs(b"\x04\x00")), None);
    }

    #[test]
    fn generalized_time() {
        assert_eq!(
            parse_generalized_time(b"20250612120220Z").ok(),
            Some(1_749_729_740)
        );
        assert_eq!(
            parse_generalized_time(b"20250612120220.123Z").ok(),
            Some(1_749_729_740)
        );
        for bad in [
            &b"20250612120220"[..],
            b"2025061212022Z",
            b"20251312120220Z",
            b"20250612120220.Z",
        ] {
            assert!(parse_generalized_time(bad).is_err());
        }
    }

    #[test]
    fn junk_is_refused() {
        assert!(TimestampToken::from_der(b"").is_err());
        assert!(TimestampToken::from_der(&[0x30, 0x03, 0x02, 0x01, 0x05]).is_err());
        assert!(TimestampToken::from_der(&[0x30, 0x80]).is_err());
    }
}
