//! The crate's one error type.
//!
//! Messages say what was being done and reuse cosign's wording where cosign has one. No variant
//! ever carries key bytes or passwords.

use cosign_types::HashAlgorithm;

use crate::scheme::{KeyType, SignatureScheme};

/// Why a key could not be read, written or used, or why a signature was refused.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CryptoError {
    /// The PEM block has a type this operation does not read.
    #[error("unsupported pem type: {0}")]
    UnsupportedPemType(String),
    /// The input holds no `-----BEGIN ...-----` block at all.
    #[error("no PEM block found")]
    NoPem,
    /// A PEM block was found but it is broken (no END line, bad base64 ...).
    #[error("malformed PEM block: {0}")]
    MalformedPem(String),
    /// A DER structure could not be parsed.
    #[error("{what}: {reason}")]
    MalformedKey {
        /// What was being parsed, e.g. "parsing PKCS#8 private key".
        what: &'static str,
        /// Why it failed.
        reason: String,
    },
    /// The key is not RSA, ECDSA or Ed25519 (an OID or a name).
    #[error("unsupported key algorithm: {0}")]
    UnsupportedKeyAlgorithm(String),
    /// An ECDSA key on a curve other than NIST P-256, P-384 or P-521.
    #[error("unsupported ec curve {0}, expected NIST P-256, P-384, or P-521")]
    UnsupportedCurve(String),
    /// The key is too weak to be accepted (e.g. RSA below 2048 bits).
    #[error("{0}")]
    KeyTooWeak(String),
    /// The encrypted key file names a key derivation function other than scrypt.
    #[error("decrypt: encrypted: unknown kdf name {0:?}")]
    UnsupportedKdf(String),
    /// The scrypt parameters are not one of the three sets cosign accepts.
    #[error("decrypt: encrypted: unsupported scrypt parameters: N={n}, r={r}, p={p}")]
    UnsupportedKdfParams {
        /// scrypt `N`.
        n: u64,
        /// scrypt `r`.
        r: u64,
        /// scrypt `p`.
        p: u64,
    },
    /// The encrypted key file names a cipher other than `nacl/secretbox`.
    #[error("decrypt: encrypted: unknown cipher name {0:?}")]
    UnsupportedCipher(String),
    /// The encrypted key file is not what cosign writes (not JSON, bad base64, wrong sizes ...).
    #[error("malformed encrypted key file: {0}")]
    MalformedKeyFile(String),
    /// Wrong password (or a corrupted file): the secretbox did not open.
    #[error("decrypt: encrypted: decryption failed")]
    DecryptionFailed,
    /// The signature scheme cannot be used with this key type.
    #[error("signature scheme {scheme} cannot be used with key type {key}")]
    SchemeMismatch {
        /// The scheme asked for.
        scheme: SignatureScheme,
        /// The key's type.
        key: KeyType,
    },
    /// The digest handed to a digest-signing or digest-verifying call is not the one the
    /// scheme signs (pure Ed25519 signs no digest at all).
    #[error("signature scheme {scheme} does not sign a {digest} digest")]
    DigestMismatch {
        /// The scheme asked for.
        scheme: SignatureScheme,
        /// The algorithm of the digest given.
        digest: HashAlgorithm,
    },
    /// The signature does not verify (or is malformed).
    #[error("signature verification failed")]
    InvalidSignature,
    /// Reading the message from a [`crate::MessageSource`] failed.
    #[error("reading the message")]
    Io(#[from] std::io::Error),
    /// The message source returned different content on the two passes of pure Ed25519
    /// signing; the signature was discarded (releasing it could leak the private key).
    #[error("the message changed between the two passes of Ed25519 signing")]
    MessageChanged,
    /// The cryptographic library failed in a way that no input explains.
    #[error("internal cryptography error: {0}")]
    Internal(String),
}

impl CryptoError {
    pub(crate) fn malformed(what: &'static str, reason: impl std::fmt::Display) -> Self {
        Self::MalformedKey {
            what,
            reason: reason.to_string(),
        }
    }
}
