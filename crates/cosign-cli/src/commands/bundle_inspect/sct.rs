//! The embedded SCT list (RFC 6962 §3.3) as certificate-transparency-go's
//! `x509util.ParseSCTsFromCertificate` reads it from the extension: a DER OCTET STRING (nothing
//! after it) holding a TLS `SignedCertificateTimestampList`, each SCT with its version as
//! written. `cosign_trust::sct`, which verification uses, refuses versions other than v1.

use super::der::{Der, OCTET_STRING};

/// What `bundle inspect` prints of one SCT.
#[derive(Debug, PartialEq, Eq)]
pub struct Sct {
    pub version: u8,
    pub log_id: [u8; 32],
    pub timestamp_ms: u64,
    pub extensions_len: usize,
    pub signature_len: usize,
}

/// A TLS reader.
struct Tls<'a>(&'a [u8]);

impl<'a> Tls<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let head = self.0.get(..n)?;
        self.0 = self.0.get(n..)?;
        Some(head)
    }

    fn uint(&mut self, n: usize) -> Option<u64> {
        Some(
            self.take(n)?
                .iter()
                .fold(0u64, |acc, &b| (acc << 8) | u64::from(b)),
        )
    }

    /// An opaque vector with a 2-byte length of at least `min`.
    fn vec16(&mut self, min: usize) -> Option<&'a [u8]> {
        let n = usize::try_from(self.uint(2)?).ok()?;
        if n < min {
            return None;
        }
        self.take(n)
    }
}

/// The SCTs of the extension value; None where Go's parser fails.
pub fn parse_list(extension_value: &[u8]) -> Option<Vec<Sct>> {
    let mut outer = Der(extension_value);
    let list = outer.read(OCTET_STRING)?;
    if !outer.is_empty() {
        return None;
    }
    let mut list = Tls(list);
    let mut entries = Tls(list.vec16(1)?);
    if !list.0.is_empty() {
        return None;
    }
    let mut out = Vec::new();
    while !entries.0.is_empty() {
        let mut sct = Tls(entries.vec16(1)?);
        let version = u8::try_from(sct.uint(1)?).ok()?;
        let log_id: [u8; 32] = sct.take(32)?.try_into().ok()?;
        let timestamp_ms = sct.uint(8)?;
        let extensions_len = sct.vec16(0)?.len();
        sct.take(2)?; // hash and signature algorithms
        let signature_len = sct.vec16(0)?.len();
        if !sct.0.is_empty() {
            return None;
        }
        out.push(Sct {
            version,
            log_id,
            timestamp_ms,
            extensions_len,
            signature_len,
        });
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_as_ct_go_reads_them() {
        let mut sct = vec![1u8];
        sct.extend_from_slice(&[7; 32]);
        sct.extend_from_slice(&1000u64.to_be_bytes());
        sct.extend_from_slice(&[0, 2, 9, 9, 4, 3, 0, 1, 5]);
        let mut entries = (sct.len() as u16).to_be_bytes().to_vec();
        entries.extend_from_slice(&sct);
        let mut list = (entries.len() as u16).to_be_bytes().to_vec();
        list.extend_from_slice(&entries);
        let mut value = vec![0x04, list.len() as u8];
        value.extend_from_slice(&list);
        assert_eq!(
            parse_list(&value),
            Some(vec![Sct {
                version: 1,
                log_id: [7; 32],
                timestamp_ms: 1000,
                extensions_len: 2,
                signature_len: 1,
            }])
        );
        value.push(0);
        assert_eq!(parse_list(&value), None);
        assert_eq!(parse_list(&[0x04, 0x02, 0x00, 0x00]), None);
    }
}
