//! Key types and the signature schemes cosign uses with them.

use std::fmt;

use cosign_types::HashAlgorithm;

/// The type of a key pair, as far as cosign cares.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum KeyType {
    /// ECDSA on NIST P-256.
    EcdsaP256,
    /// ECDSA on NIST P-384.
    EcdsaP384,
    /// ECDSA on NIST P-521.
    EcdsaP521,
    /// RSA with a modulus of `bits` bits.
    Rsa {
        /// Bit length of the modulus.
        bits: usize,
    },
    /// Ed25519.
    Ed25519,
}

impl KeyType {
    /// cosign's default scheme for this key: ECDSA with the curve's hash (P-256/SHA-256,
    /// P-384/SHA-384, P-521/SHA-512), RSA PKCS#1 v1.5 SHA-256, Ed25519 -> Ed25519ph if
    /// `ed25519_prehash` else pure Ed25519.
    pub fn default_scheme(self, ed25519_prehash: bool) -> SignatureScheme {
        match self {
            Self::EcdsaP256 => SignatureScheme::EcdsaP256Sha256,
            Self::EcdsaP384 => SignatureScheme::EcdsaP384Sha384,
            Self::EcdsaP521 => SignatureScheme::EcdsaP521Sha512,
            Self::Rsa { .. } => SignatureScheme::RsaPkcs1Sha256,
            Self::Ed25519 if ed25519_prehash => SignatureScheme::Ed25519ph,
            Self::Ed25519 => SignatureScheme::Ed25519,
        }
    }
}

impl fmt::Display for KeyType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::EcdsaP256 => f.write_str("ECDSA P-256"),
            Self::EcdsaP384 => f.write_str("ECDSA P-384"),
            Self::EcdsaP521 => f.write_str("ECDSA P-521"),
            Self::Rsa { bits } => write!(f, "RSA {bits}"),
            Self::Ed25519 => f.write_str("Ed25519"),
        }
    }
}

/// A signature algorithm together with the hash it signs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SignatureScheme {
    /// ECDSA P-256 over SHA-256, ASN.1 DER signature.
    EcdsaP256Sha256,
    /// ECDSA P-384 over SHA-384, ASN.1 DER signature.
    EcdsaP384Sha384,
    /// ECDSA P-521 over SHA-512, ASN.1 DER signature.
    EcdsaP521Sha512,
    /// RSA PKCS#1 v1.5 over SHA-256.
    RsaPkcs1Sha256,
    /// Pure Ed25519 (RFC 8032): signs the whole message.
    Ed25519,
    /// Ed25519ph (RFC 8032, SHA-512 prehash, empty context), as Go's `crypto/ed25519` with
    /// `Options{Hash: crypto.SHA512}`.
    Ed25519ph,
}

impl SignatureScheme {
    /// The digest the scheme signs; `None` for pure Ed25519 (signs the whole message).
    /// Ed25519ph -> SHA-512.
    pub fn prehash(self) -> Option<HashAlgorithm> {
        match self {
            Self::EcdsaP256Sha256 | Self::RsaPkcs1Sha256 => Some(HashAlgorithm::Sha256),
            Self::EcdsaP384Sha384 => Some(HashAlgorithm::Sha384),
            Self::EcdsaP521Sha512 | Self::Ed25519ph => Some(HashAlgorithm::Sha512),
            Self::Ed25519 => None,
        }
    }

    /// Whether this scheme can be used with a key of this type.
    pub fn fits(self, key: KeyType) -> bool {
        matches!(
            (self, key),
            (Self::EcdsaP256Sha256, KeyType::EcdsaP256)
                | (Self::EcdsaP384Sha384, KeyType::EcdsaP384)
                | (Self::EcdsaP521Sha512, KeyType::EcdsaP521)
                | (Self::RsaPkcs1Sha256, KeyType::Rsa { .. })
                | (Self::Ed25519 | Self::Ed25519ph, KeyType::Ed25519)
        )
    }
}

impl fmt::Display for SignatureScheme {
    /// Sigstore's algorithm-registry style names (`ecdsa-sha2-256-nistp256`, `ed25519-ph` ...).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::EcdsaP256Sha256 => "ecdsa-sha2-256-nistp256",
            Self::EcdsaP384Sha384 => "ecdsa-sha2-384-nistp384",
            Self::EcdsaP521Sha512 => "ecdsa-sha2-512-nistp521",
            Self::RsaPkcs1Sha256 => "rsa-sign-pkcs1-sha256",
            Self::Ed25519 => "ed25519",
            Self::Ed25519ph => "ed25519-ph",
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ALL_KEYS: [KeyType; 5] = [
        KeyType::EcdsaP256,
        KeyType::EcdsaP384,
        KeyType::EcdsaP521,
        KeyType::Rsa { bits: 2048 },
        KeyType::Ed25519,
    ];

    #[test]
    fn default_scheme_fits_its_key() {
        for key in ALL_KEYS {
            for ph in [false, true] {
                assert!(key.default_scheme(ph).fits(key), "{key}");
            }
        }
        assert_eq!(
            KeyType::Ed25519.default_scheme(true),
            SignatureScheme::Ed25519ph
        );
        assert_eq!(
            KeyType::Ed25519.default_scheme(false),
            SignatureScheme::Ed25519
        );
        assert_eq!(
            KeyType::EcdsaP521.default_scheme(true).prehash(),
            Some(HashAlgorithm::Sha512)
        );
    }

    #[test]
    fn schemes_do_not_cross_keys() {
        assert!(!SignatureScheme::EcdsaP256Sha256.fits(KeyType::EcdsaP384));
        assert!(!SignatureScheme::RsaPkcs1Sha256.fits(KeyType::Ed25519));
        assert!(!SignatureScheme::Ed25519ph.fits(KeyType::Rsa { bits: 4096 }));
        assert!(SignatureScheme::RsaPkcs1Sha256.fits(KeyType::Rsa { bits: 3072 }));
    }

    #[test]
    fn display_names() {
        assert_eq!(KeyType::EcdsaP256.to_string(), "ECDSA P-256");
        assert_eq!(KeyType::Rsa { bits: 2048 }.to_string(), "RSA 2048");
        assert_eq!(KeyType::Ed25519.to_string(), "Ed25519");
        assert_eq!(SignatureScheme::Ed25519ph.to_string(), "ed25519-ph");
    }
}
