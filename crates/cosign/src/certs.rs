//! Certificates given on the command line (`--certificate`): PEM, or base64 of PEM as cosign's
//! `--b64` outputs write them.

use std::path::Path;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use cosign_crypto::PublicKey;

use crate::Error;
use crate::fsutil::read_small_file;

/// A leaf certificate and its public key.
#[derive(Clone, Debug)]
pub struct Certificate {
    /// The certificate as PEM text.
    pub pem: String,
    /// The DER bytes.
    pub der: Vec<u8>,
    /// Its subject public key.
    pub public_key: PublicKey,
}

/// PEM blocks in `text`: (label, decoded bytes). Whitespace inside the base64 is ignored.
pub fn pem_blocks(text: &str) -> Result<Vec<(String, Vec<u8>)>, String> {
    let mut blocks = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find("-----BEGIN ") {
        let after = &rest[start + "-----BEGIN ".len()..];
        let label_end = after.find("-----").ok_or("unterminated PEM header")?;
        let label = &after[..label_end];
        let body_start = &after[label_end + 5..];
        let end_marker = format!("-----END {label}-----");
        let body_end = body_start
            .find(&end_marker)
            .ok_or_else(|| format!("missing {end_marker}"))?;
        let body: String = body_start[..body_end]
            .chars()
            .filter(|c| !c.is_ascii_whitespace())
            .collect();
        let der = STANDARD
            .decode(body.as_bytes())
            .map_err(|e| format!("bad base64 in {label} block: {e}"))?;
        blocks.push((label.to_owned(), der));
        rest = &body_start[body_end + end_marker.len()..];
    }
    Ok(blocks)
}

/// Decodes a certificate file's content: PEM, or base64 of PEM.
pub fn parse_certificate(data: &[u8], source: &str) -> Result<Certificate, Error> {
    let ctx = || format!("loading certificate {source}");
    let text = std::str::from_utf8(data).map_err(|_| Error::format(ctx(), "not PEM text"))?;
    let pem_text = if text.contains("-----BEGIN ") {
        text.to_owned()
    } else {
        let compact: String = text.chars().filter(|c| !c.is_ascii_whitespace()).collect();
        let decoded = STANDARD
            .decode(compact.as_bytes())
            .map_err(|_| Error::format(ctx(), "neither PEM nor base64-encoded PEM"))?;
        String::from_utf8(decoded)
            .map_err(|_| Error::format(ctx(), "base64 does not hold PEM text"))?
    };
    let blocks = pem_blocks(&pem_text).map_err(|e| Error::format(ctx(), e))?;
    let (_, der) = blocks
        .into_iter()
        .find(|(label, _)| label == "CERTIFICATE")
        .ok_or_else(|| Error::format(ctx(), "no CERTIFICATE PEM block"))?;
    let public_key = PublicKey::from_certificate_der(&der).map_err(|e| Error::crypto(ctx(), e))?;
    Ok(Certificate {
        pem: pem_text,
        der,
        public_key,
    })
}

/// Reads and decodes a certificate file.
pub fn load_certificate(path: &Path) -> Result<Certificate, Error> {
    let data = read_small_file(path, "certificate file", 1 << 20)?;
    parse_certificate(&data, &path.display().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pem_blocks_decode_and_reject() {
        let text = "junk\n-----BEGIN A-----\nAAEC\nAw==\n-----END A-----\n-----BEGIN B-----\n-----END B-----\n";
        let blocks = pem_blocks(text).unwrap();
        assert_eq!(blocks[0], ("A".to_owned(), vec![0, 1, 2, 3]));
        assert_eq!(blocks[1], ("B".to_owned(), vec![]));
        assert!(pem_blocks("-----BEGIN A-----\nAAEC\n").is_err());
        assert!(pem_blocks("-----BEGIN A-----\n!!!\n-----END A-----").is_err());
    }

    #[test]
    fn rejects_non_certificates() {
        assert!(parse_certificate(b"hello", "x").is_err());
        assert!(parse_certificate(&[0xff], "x").is_err());
        assert!(
            parse_certificate(
                b"-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n",
                "x"
            )
            .is_err()
        );
    }
}
