//! Signed certificate timestamps (RFC 6962) against the CT logs of the trusted root.
//!
//! - Embedded: the precertificate SCT list extension (1.3.6.1.4.1.11129.2.4.2) of a Fulcio
//!   leaf. Each SCT signs a `precert_entry`: the SHA-256 of the issuer's public key and the
//!   leaf's TBSCertificate without the SCT list extension (RFC 6962 §3.2). As sigstore-go's
//!   `VerifySignedCertificateTimestamp`: SCTs from logs the trusted root does not know, or
//!   outside the log's validity window, are skipped; each log counts once; at least `threshold`
//!   must verify.
//! - Detached: the `--sct` file (a CT `add-chain` response, JSON
//!   `{"sct_version":0,"id":..,"timestamp":..,"extensions":..,"signature":..}`), which signs an
//!   `x509_entry`: the final certificate itself.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use const_oid::ObjectIdentifier;
use const_oid::db::rfc5912;
use spki::AlgorithmIdentifierRef;

use crate::TrustError;
use crate::trusted_root::{LogInstance, TrustedRoot};
use crate::x509::Certificate;
use crate::x509::signature::verify_signature;
use crate::x509::tlv;

/// The precertificate SCT list extension.
pub const OID_SCT_LIST: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.4.1.11129.2.4.2");

/// Most SCTs read from one certificate.
const MAX_SCTS: usize = 32;
/// Largest detached SCT file (bytes).
pub const MAX_DETACHED_SCT_LEN: usize = 64 * 1024;

fn err(reason: impl std::fmt::Display) -> TrustError {
    TrustError::Sct {
        reason: reason.to_string(),
    }
}

/// One SCT (version 1 of RFC 6962, the only one).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Sct {
    /// The log's ID (SHA-256 of its public key).
    pub log_id: [u8; 32],
    /// Milliseconds since the Unix epoch.
    pub timestamp_ms: u64,
    /// CT extensions (opaque; signed).
    pub extensions: Vec<u8>,
    /// TLS `HashAlgorithm` (4 = SHA-256).
    pub hash_algorithm: u8,
    /// TLS `SignatureAlgorithm` (1 = RSA, 3 = ECDSA).
    pub signature_algorithm: u8,
    /// The signature.
    pub signature: Vec<u8>,
}

/// A reader over TLS-encoded bytes.
struct Tls<'a>(&'a [u8]);

impl<'a> Tls<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], TrustError> {
        if self.0.len() < n {
            return Err(err("truncated SCT"));
        }
        let (head, rest) = self.0.split_at(n);
        self.0 = rest;
        Ok(head)
    }

    fn uint(&mut self, n: usize) -> Result<u64, TrustError> {
        Ok(self
            .take(n)?
            .iter()
            .fold(0u64, |acc, &b| (acc << 8) | u64::from(b)))
    }

    fn vec16(&mut self) -> Result<&'a [u8], TrustError> {
        let n = usize::try_from(self.uint(2)?).map_err(err)?;
        self.take(n)
    }
}

impl Sct {
    /// Parses one TLS-encoded SCT.
    pub fn from_tls(bytes: &[u8]) -> Result<Self, TrustError> {
        let mut r = Tls(bytes);
        let version = r.uint(1)?;
        if version != 0 {
            return Err(err(format!("unsupported SCT version {version}")));
        }
        let mut log_id = [0u8; 32];
        log_id.copy_from_slice(r.take(32)?);
        let timestamp_ms = r.uint(8)?;
        let extensions = r.vec16()?.to_vec();
        let (hash_algorithm, signature_algorithm) = (r.uint(1)? as u8, r.uint(1)? as u8);
        let signature = r.vec16()?.to_vec();
        if !r.0.is_empty() {
            return Err(err("trailing data after SCT"));
        }
        Ok(Self {
            log_id,
            timestamp_ms,
            extensions,
            hash_algorithm,
            signature_algorithm,
            signature,
        })
    }

    /// Parses a detached SCT (`--sct`): a CT `add-chain` response.
    pub fn from_json(json: &[u8]) -> Result<Self, TrustError> {
        #[derive(serde::Deserialize)]
        struct AddChainResponse {
            sct_version: u8,
            id: String,
            timestamp: u64,
            #[serde(default)]
            extensions: String,
            signature: String,
        }
        if json.len() > MAX_DETACHED_SCT_LEN {
            return Err(err(format!("more than {MAX_DETACHED_SCT_LEN} bytes")));
        }
        let r: AddChainResponse = serde_json::from_slice(json).map_err(err)?;
        if r.sct_version != 0 {
            return Err(err(format!("unsupported SCT version {}", r.sct_version)));
        }
        let b64 = |what: &str, s: &str| {
            STANDARD
                .decode(s)
                .map_err(|e| err(format!("{what} is not base64: {e}")))
        };
        let log_id: [u8; 32] = b64("id", &r.id)?
            .try_into()
            .map_err(|_| err("id is not 32 bytes"))?;
        let sig = b64("signature", &r.signature)?;
        let mut s = Tls(&sig);
        let (hash_algorithm, signature_algorithm) = (s.uint(1)? as u8, s.uint(1)? as u8);
        let signature = s.vec16()?.to_vec();
        if !s.0.is_empty() {
            return Err(err("trailing data after the SCT signature"));
        }
        Ok(Self {
            log_id,
            timestamp_ms: r.timestamp,
            extensions: b64("extensions", &r.extensions)?,
            hash_algorithm,
            signature_algorithm,
            signature,
        })
    }

    /// The SCT's time in Unix seconds (rounded down).
    pub fn time(&self) -> i64 {
        i64::try_from(self.timestamp_ms / 1000).unwrap_or(i64::MAX)
    }

    /// The TLS `digitally-signed` input for an entry of `entry_type` with `entry` (already
    /// length-prefixed).
    fn signed_data(&self, entry_type: u16, entry: &[u8]) -> Result<Vec<u8>, TrustError> {
        let mut out = vec![0u8, 0u8]; // v1, certificate_timestamp
        out.extend_from_slice(&self.timestamp_ms.to_be_bytes());
        out.extend_from_slice(&entry_type.to_be_bytes());
        out.extend_from_slice(entry);
        let len = u16::try_from(self.extensions.len()).map_err(err)?;
        out.extend_from_slice(&len.to_be_bytes());
        out.extend_from_slice(&self.extensions);
        Ok(out)
    }

    /// Verifies the signature over `signed` with `log`'s key.
    fn verify_with(&self, log: &LogInstance, signed: &[u8]) -> Result<(), String> {
        let oid = match (self.hash_algorithm, self.signature_algorithm) {
            (4, 3) => rfc5912::ECDSA_WITH_SHA_256,
            (4, 1) => rfc5912::SHA_256_WITH_RSA_ENCRYPTION,
            (h, s) => return Err(format!("unsupported SCT signature algorithm ({h}, {s})")),
        };
        let alg = AlgorithmIdentifierRef {
            oid,
            parameters: None,
        };
        verify_signature(
            &log.public_key.to_spki_der(),
            &alg,
            None,
            signed,
            &self.signature,
        )
    }

    /// The CT log of `trusted_root` that issued this SCT and was valid at its time.
    fn log<'a>(&self, trusted_root: &'a TrustedRoot) -> Result<&'a LogInstance, String> {
        let log = trusted_root
            .ctlog(&self.log_id)
            .ok_or_else(|| format!("no CT log with ID {}", hex::encode(self.log_id)))?;
        if !log.valid_for.contains(self.time()) {
            return Err(format!(
                "CT log {} is not valid at the SCT time {}",
                log.base_url,
                cosign_types::time::rfc3339(self.time())
            ));
        }
        Ok(log)
    }

    /// Verifies a detached SCT over the final certificate `cert` against the CT logs of
    /// `trusted_root`.
    pub fn verify_detached(
        &self,
        cert: &Certificate,
        trusted_root: &TrustedRoot,
    ) -> Result<(), TrustError> {
        let log = self.log(trusted_root).map_err(err)?;
        let signed = self.signed_data(0, &u24_prefixed(cert.der())?)?;
        self.verify_with(log, &signed).map_err(err)
    }

    /// Verifies this SCT as embedded in `leaf`, issued by `issuer`, against the CT logs of
    /// `trusted_root`.
    pub fn verify_embedded(
        &self,
        leaf: &Certificate,
        issuer: &Certificate,
        trusted_root: &TrustedRoot,
    ) -> Result<(), TrustError> {
        let log = self.log(trusted_root).map_err(err)?;
        self.verify_with(log, &self.precert_signed_data(leaf, issuer)?)
            .map_err(err)
    }

    fn precert_signed_data(
        &self,
        leaf: &Certificate,
        issuer: &Certificate,
    ) -> Result<Vec<u8>, TrustError> {
        use sha2::Digest as _;
        let mut entry = sha2::Sha256::digest(issuer.spki_der()?).to_vec();
        entry.extend_from_slice(&u24_prefixed(&tbs_without_scts(leaf)?)?);
        self.signed_data(1, &entry)
    }
}

fn u24_prefixed(data: &[u8]) -> Result<Vec<u8>, TrustError> {
    let len = u32::try_from(data.len())
        .ok()
        .filter(|&n| n < 1 << 24)
        .ok_or_else(|| err("certificate too large for an SCT"))?;
    let mut out = len.to_be_bytes()[1..].to_vec();
    out.extend_from_slice(data);
    Ok(out)
}

/// The leaf's TBSCertificate with the SCT list extension removed (RFC 6962 §3.2).
pub fn tbs_without_scts(leaf: &Certificate) -> Result<Vec<u8>, TrustError> {
    let tbs = tlv::single(leaf.tbs_der()?).map_err(err)?;
    let mut body = Vec::new();
    let mut removed = false;
    for part in tlv::elements(tbs.value).map_err(err)? {
        if part.tag != 0xa3 {
            body.extend_from_slice(part.raw);
            continue;
        }
        let exts = tlv::single(part.value).map_err(err)?;
        let mut kept = Vec::new();
        for ext in tlv::elements(exts.value).map_err(err)? {
            let id = tlv::elements(ext.value)
                .map_err(err)?
                .first()
                .map(|t| t.raw)
                .and_then(|raw| <ObjectIdentifier as der::Decode>::from_der(raw).ok());
            if id == Some(OID_SCT_LIST) {
                removed = true;
            } else {
                kept.extend_from_slice(ext.raw);
            }
        }
        // An emptied extension list is dropped with its [3] wrapper.
        if !kept.is_empty() {
            let mut seq = tlv::header(0x30, kept.len());
            seq.extend_from_slice(&kept);
            body.extend_from_slice(&tlv::header(0xa3, seq.len()));
            body.extend_from_slice(&seq);
        }
    }
    if !removed {
        return Err(err("the certificate has no embedded SCT"));
    }
    let mut out = tlv::header(0x30, body.len());
    out.extend_from_slice(&body);
    Ok(out)
}

/// The SCTs embedded in `cert` (none when it has no SCT list extension).
pub fn embedded_scts(cert: &Certificate) -> Result<Vec<Sct>, TrustError> {
    let Some((_, value)) = cert.extension(&OID_SCT_LIST)? else {
        return Ok(Vec::new());
    };
    // The extension value is an OCTET STRING holding the TLS SignedCertificateTimestampList.
    let inner = tlv::single(value).map_err(err)?;
    if inner.tag != 0x04 {
        return Err(err("the SCT list is not an OCTET STRING"));
    }
    let mut list = Tls(inner.value);
    let mut all = Tls(list.vec16()?);
    if !list.0.is_empty() {
        return Err(err("trailing data after the SCT list"));
    }
    let mut out = Vec::new();
    while !all.0.is_empty() {
        if out.len() == MAX_SCTS {
            return Err(err(format!("more than {MAX_SCTS} SCTs")));
        }
        out.push(Sct::from_tls(all.vec16()?)?);
    }
    Ok(out)
}

/// Verifies the embedded SCTs of `chain[0]` (issued by `chain[1]`) as sigstore-go does; returns
/// how many distinct logs verified. Fails when fewer than `threshold` did.
pub fn verify_embedded_scts(
    chain: &[Certificate],
    trusted_root: &TrustedRoot,
    threshold: usize,
) -> Result<usize, TrustError> {
    let (Some(leaf), Some(issuer)) = (chain.first(), chain.get(1)) else {
        return Err(err("a chain of at least the leaf and its issuer is needed"));
    };
    let mut verified: Vec<[u8; 32]> = Vec::new();
    let mut reasons = Vec::new();
    for sct in embedded_scts(leaf)? {
        if verified.contains(&sct.log_id) {
            continue;
        }
        match sct.verify_embedded(leaf, issuer, trusted_root) {
            Ok(()) => verified.push(sct.log_id),
            Err(e) => reasons.push(e.to_string()),
        }
    }
    if verified.len() < threshold {
        let detail = if reasons.is_empty() {
            String::new()
        } else {
            format!(" ({})", reasons.join("; "))
        };
        return Err(err(format!(
            "only able to verify {} SCT entries; unable to meet threshold of {threshold}{detail}",
            verified.len()
        )));
    }
    Ok(verified.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tls_parsing_refuses_junk() {
        assert!(Sct::from_tls(&[]).is_err());
        assert!(Sct::from_tls(&[1; 60]).is_err());
        let mut good = vec![0u8];
        good.extend_from_slice(&[7; 32]);
        good.extend_from_slice(&5u64.to_be_bytes());
        good.extend_from_slice(&[0, 0, 4, 3, 0, 2, 0xaa, 0xbb]);
        let sct = Sct::from_tls(&good).unwrap_or_else(|e| unreachable!("{e}"));
        assert_eq!((sct.timestamp_ms, sct.signature.len()), (5, 2));
        good.push(0);
        assert!(Sct::from_tls(&good).is_err());
        assert!(Sct::from_json(b"{}").is_err());
    }
}
