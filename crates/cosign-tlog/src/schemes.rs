//! Which signature scheme checks what, for each key type.
//!
//! The log signs its checkpoints and signed entry timestamps over SHA-256 of the message with
//! ECDSA P-256 (Rekor's public instance), RSA PKCS#1 v1.5, or pure Ed25519. ECDSA P-384/P-521
//! log keys are used with their curve's hash here (Rekor would use SHA-256 with them; such log
//! keys are not used in practice).

use cosign_crypto::{KeyType, PublicKey, SignatureScheme};
use cosign_types::HashAlgorithm;

/// The scheme a log key signs messages (notes, SETs) with.
pub(crate) fn log_scheme(key: KeyType) -> SignatureScheme {
    key.default_scheme(false)
}

/// The schemes tried for a message signature by an artifact key (DSSE PAE): Rekor uses
/// SHA-256 for ECDSA P-256 and RSA and pure Ed25519; Ed25519ph is also accepted.
pub(crate) fn message_schemes(key: &PublicKey) -> Vec<SignatureScheme> {
    match key.key_type() {
        KeyType::Ed25519 => vec![SignatureScheme::Ed25519, SignatureScheme::Ed25519ph],
        other => vec![other.default_scheme(false)],
    }
}

/// The scheme that verifies a signature over a precomputed `alg` digest with `key`
/// (hashedrekord), if there is one.
pub(crate) fn digest_scheme(key: &PublicKey, alg: HashAlgorithm) -> Option<SignatureScheme> {
    let scheme = match (key.key_type(), alg) {
        (KeyType::EcdsaP256, HashAlgorithm::Sha256) => SignatureScheme::EcdsaP256Sha256,
        (KeyType::EcdsaP384, HashAlgorithm::Sha384) => SignatureScheme::EcdsaP384Sha384,
        (KeyType::EcdsaP521, HashAlgorithm::Sha512) => SignatureScheme::EcdsaP521Sha512,
        (KeyType::Rsa { .. }, HashAlgorithm::Sha256) => SignatureScheme::RsaPkcs1Sha256,
        (KeyType::Ed25519, HashAlgorithm::Sha512) => SignatureScheme::Ed25519ph,
        _ => return None,
    };
    Some(scheme)
}
