//! Keys and signatures for cosign, with no I/O.
//!
//! - [`PrivateKey`] and [`PublicKey`]: ECDSA P-256/P-384/P-521, RSA (2048 to 8192 bits) and
//!   Ed25519, read from and written to the PEM/DER forms cosign and Go use (PKCS#8, SEC1,
//!   PKCS#1, PKIX, certificates).
//! - [`SignatureScheme`]: how a key signs (the hash, Ed25519 pure or prehashed); signing and
//!   verification of digests, in-memory messages and streams in constant memory.
//! - [`encrypt_private_key`] / [`decrypt_private_key`]: the encrypted cosign key file
//!   (scrypt + NaCl secretbox), with the KDF parameters bounded before scrypt runs.
//!
//! Key material is zeroized on drop and never appears in `Debug` output or errors.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod asn1;
mod ed25519;
mod encrypted;
mod error;
mod hash;
mod keys;
mod pem;
mod public;
mod scheme;

pub use cosign_types::{Digest, HashAlgorithm};
pub use encrypted::{decrypt_private_key, encrypt_private_key};
pub use error::CryptoError;
pub use hash::{Hasher, hash};
pub use keys::{MessageSource, PrivateKey};
pub use public::{PublicKey, StreamVerifier};
pub use scheme::{KeyType, SignatureScheme};

#[cfg(test)]
mod tests {
    use super::*;

    fn send_sync<T: Send + Sync>() {}

    #[test]
    fn public_types_are_send_and_sync() {
        send_sync::<PrivateKey>();
        send_sync::<PublicKey>();
        send_sync::<StreamVerifier>();
        send_sync::<Hasher>();
        send_sync::<CryptoError>();
    }
}
