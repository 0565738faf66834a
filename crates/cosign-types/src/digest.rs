//! Content digests (`sha256:<hex>`) and the hash algorithms cosign names.

use std::fmt;
use std::str::FromStr;

/// A hash algorithm that cosign uses for artifacts and signatures.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum HashAlgorithm {
    /// SHA-256 (the default everywhere).
    Sha256,
    /// SHA-384 (ECDSA P-384 keys).
    Sha384,
    /// SHA-512 (ECDSA P-521 keys, Ed25519ph).
    Sha512,
}

impl HashAlgorithm {
    /// The lowercase name used in OCI digests and Rekor entries (`sha256`).
    pub fn name(self) -> &'static str {
        match self {
            Self::Sha256 => "sha256",
            Self::Sha384 => "sha384",
            Self::Sha512 => "sha512",
        }
    }

    /// The protobuf enum name used in Sigstore bundles (`SHA2_256`).
    pub fn proto_name(self) -> &'static str {
        match self {
            Self::Sha256 => "SHA2_256",
            Self::Sha384 => "SHA2_384",
            Self::Sha512 => "SHA2_512",
        }
    }

    /// Parses a protobuf enum name (`SHA2_256`).
    pub fn from_proto_name(name: &str) -> Option<Self> {
        match name {
            "SHA2_256" => Some(Self::Sha256),
            "SHA2_384" => Some(Self::Sha384),
            "SHA2_512" => Some(Self::Sha512),
            _ => None,
        }
    }

    /// Length of a digest in bytes.
    pub fn output_len(self) -> usize {
        match self {
            Self::Sha256 => 32,
            Self::Sha384 => 48,
            Self::Sha512 => 64,
        }
    }
}

impl fmt::Display for HashAlgorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for HashAlgorithm {
    type Err = DigestError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "sha256" => Ok(Self::Sha256),
            "sha384" => Ok(Self::Sha384),
            "sha512" => Ok(Self::Sha512),
            other => Err(DigestError::UnsupportedAlgorithm(other.to_owned())),
        }
    }
}

/// Why a digest string was refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum DigestError {
    /// The text has no `algorithm:` prefix.
    #[error("digest {0:?} is not of the form <algorithm>:<hex>")]
    MissingAlgorithm(String),
    /// The algorithm is not one cosign supports.
    #[error("unsupported digest algorithm {0:?} (expected sha256, sha384 or sha512)")]
    UnsupportedAlgorithm(String),
    /// The hex part is not lowercase hex of the algorithm's length.
    #[error("digest {text:?}: expected {expected} lowercase hex characters")]
    BadHex {
        /// The digest as given.
        text: String,
        /// Number of hex characters the algorithm needs.
        expected: usize,
    },
}

/// A digest: an algorithm and the raw digest bytes, of the algorithm's exact length.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Digest {
    algorithm: HashAlgorithm,
    bytes: Vec<u8>,
}

impl Digest {
    /// Builds a digest from raw bytes; `None` if the length does not fit the algorithm.
    pub fn new(algorithm: HashAlgorithm, bytes: Vec<u8>) -> Option<Self> {
        (bytes.len() == algorithm.output_len()).then_some(Self { algorithm, bytes })
    }

    /// Parses lowercase hex for the given algorithm.
    pub fn from_hex(algorithm: HashAlgorithm, hex_text: &str) -> Result<Self, DigestError> {
        let bad = || DigestError::BadHex {
            text: format!("{}:{hex_text}", algorithm.name()),
            expected: algorithm.output_len() * 2,
        };
        if hex_text.len() != algorithm.output_len() * 2
            || !hex_text
                .bytes()
                .all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
        {
            return Err(bad());
        }
        let bytes = hex::decode(hex_text).map_err(|_| bad())?;
        Ok(Self { algorithm, bytes })
    }

    /// The algorithm.
    pub fn algorithm(&self) -> HashAlgorithm {
        self.algorithm
    }

    /// The raw digest bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// Lowercase hex of the digest bytes, without the algorithm.
    pub fn hex(&self) -> String {
        hex::encode(&self.bytes)
    }

    /// The legacy tag form `sha256-<hex>` used for cosign's signature tags.
    pub fn tag_form(&self) -> String {
        format!("{}-{}", self.algorithm.name(), self.hex())
    }
}

impl fmt::Display for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.algorithm.name(), self.hex())
    }
}

impl fmt::Debug for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Digest({self})")
    }
}

impl FromStr for Digest {
    type Err = DigestError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (alg, hex_text) = s
            .split_once(':')
            .ok_or_else(|| DigestError::MissingAlgorithm(s.to_owned()))?;
        let algorithm: HashAlgorithm = alg.parse()?;
        Self::from_hex(algorithm, hex_text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_prints_sha256() {
        let text = "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a";
        let d: Digest = text.parse().unwrap();
        assert_eq!(d.algorithm(), HashAlgorithm::Sha256);
        assert_eq!(d.to_string(), text);
        assert_eq!(
            d.tag_form(),
            "sha256-44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"
        );
    }

    #[test]
    fn refuses_bad_digests() {
        assert!(matches!(
            "abc".parse::<Digest>(),
            Err(DigestError::MissingAlgorithm(_))
        ));
        assert!(matches!(
            "md5:abcd".parse::<Digest>(),
            Err(DigestError::UnsupportedAlgorithm(_))
        ));
        assert!(matches!(
            "sha256:ABCD".parse::<Digest>(),
            Err(DigestError::BadHex { .. })
        ));
        let upper = format!("sha256:{}", "A".repeat(64));
        assert!(upper.parse::<Digest>().is_err());
    }

    #[test]
    fn new_checks_length() {
        assert!(Digest::new(HashAlgorithm::Sha384, vec![0; 48]).is_some());
        assert!(Digest::new(HashAlgorithm::Sha384, vec![0; 32]).is_none());
    }
}
