//! PEM as Rekor reads and writes it, and the "canonical value" of a verifier (Rekor's x509 PKI):
//! a `PUBLIC KEY` block is re-encoded from its parsed key, `CERTIFICATE` blocks (a leaf or a
//! chain of up to 10) are re-encoded as they are, and the first certificate's key verifies.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use cosign_crypto::PublicKey;

use crate::TlogError;

/// Most certificates Rekor reads from one verifier.
const MAX_CERTS: usize = 10;

/// One PEM block.
pub(crate) struct Block {
    pub label: String,
    pub der: Vec<u8>,
}

/// Reads PEM blocks like Go's `pem.Decode` in a loop: text before, between and after blocks is
/// skipped, headers inside a block are not supported (Rekor's keys and certificates have none).
pub(crate) fn decode_all(text: &[u8], max: usize) -> Result<Vec<Block>, TlogError> {
    const WHAT: &str = "PEM";
    let text = std::str::from_utf8(text).map_err(|_| TlogError::malformed(WHAT, "not UTF-8"))?;
    let mut blocks = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find("-----BEGIN ") {
        let after = &rest[start + "-----BEGIN ".len()..];
        let Some(label_end) = after.find("-----") else {
            break;
        };
        let label = &after[..label_end];
        let body = &after[label_end + 5..];
        let end_marker = format!("-----END {label}-----");
        let Some(end) = body.find(&end_marker) else {
            return Err(TlogError::malformed(
                WHAT,
                format!("no END line for {label}"),
            ));
        };
        let b64: String = body[..end]
            .chars()
            .filter(|c| !c.is_ascii_whitespace())
            .collect();
        let der = STANDARD
            .decode(b64.as_bytes())
            .map_err(|e| TlogError::malformed(WHAT, format!("{label} block: {e}")))?;
        blocks.push(Block {
            label: label.to_owned(),
            der,
        });
        if blocks.len() > max {
            return Err(TlogError::malformed(
                WHAT,
                format!("more than {max} blocks"),
            ));
        }
        rest = &body[end + end_marker.len()..];
    }
    if blocks.is_empty() {
        return Err(TlogError::malformed(WHAT, "no PEM block found"));
    }
    Ok(blocks)
}

/// Go's `pem.Encode`: 64-character lines, trailing newline.
pub(crate) fn encode(label: &str, der: &[u8]) -> String {
    let b64 = STANDARD.encode(der);
    let mut out = format!("-----BEGIN {label}-----\n");
    for chunk in b64.as_bytes().chunks(64) {
        out.push_str(&String::from_utf8_lossy(chunk));
        out.push('\n');
    }
    out.push_str(&format!("-----END {label}-----\n"));
    out
}

/// A verifier as found in an entry: the key that verifies, and the certificate(s) if any.
#[derive(Clone, Debug)]
pub(crate) struct Verifier {
    /// The key that verifies (the first certificate's key for certificates).
    pub key: PublicKey,
    /// DER of the certificates, leaf first (empty for a bare public key).
    pub certs: Vec<Vec<u8>>,
}

impl Verifier {
    /// Rekor's `CanonicalValue()`: PEM of the key, or of the certificate(s).
    pub fn canonical_pem(&self) -> String {
        if self.certs.is_empty() {
            self.key.to_pem()
        } else {
            self.certs
                .iter()
                .map(|c| encode("CERTIFICATE", c))
                .collect()
        }
    }
}

/// Parses a verifier the way Rekor's x509 PKI does: one `PUBLIC KEY` block, or `CERTIFICATE`
/// blocks (up to 10).
pub(crate) fn parse_verifier(pem: &[u8]) -> Result<Verifier, TlogError> {
    let blocks = decode_all(pem, MAX_CERTS)?;
    let crypto = |source| TlogError::Crypto {
        what: "reading the verifier key or certificate",
        source,
    };
    if blocks.len() == 1 && blocks[0].label == "PUBLIC KEY" {
        let key = PublicKey::from_spki_der(&blocks[0].der).map_err(crypto)?;
        return Ok(Verifier {
            key,
            certs: Vec::new(),
        });
    }
    if blocks.iter().all(|b| b.label == "CERTIFICATE") {
        let key = PublicKey::from_certificate_der(&blocks[0].der).map_err(crypto)?;
        return Ok(Verifier {
            key,
            certs: blocks.into_iter().map(|b| b.der).collect(),
        });
    }
    Err(TlogError::malformed(
        "verifier",
        format!(
            "expected one PUBLIC KEY block or CERTIFICATE blocks, found {}",
            blocks
                .iter()
                .map(|b| b.label.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lax_decoding_and_go_encoding() {
        let key = cosign_crypto::PrivateKey::generate_ecdsa_p256()
            .unwrap()
            .public_key();
        let pem = key.to_pem();
        let noisy = format!("some text\n{}\ntrailer", pem.replace('\n', "\r\n"));
        let v = parse_verifier(noisy.as_bytes()).unwrap();
        assert_eq!(v.key, key);
        assert_eq!(v.canonical_pem(), pem);
        assert_eq!(encode("PUBLIC KEY", &key.to_spki_der()), pem);
        assert!(parse_verifier(b"nothing").is_err());
        assert!(parse_verifier(b"-----BEGIN PUBLIC KEY-----\nAAAA").is_err());
        let two = format!("{pem}{pem}");
        assert!(parse_verifier(two.as_bytes()).is_err());
        let many = "-----BEGIN X-----\nAA==\n-----END X-----\n".repeat(12);
        assert!(decode_all(many.as_bytes(), 10).is_err());
    }
}
