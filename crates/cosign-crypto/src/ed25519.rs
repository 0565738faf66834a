//! Ed25519 and Ed25519ph on ed25519-dalek.
//!
//! - Ed25519ph is RFC 8032's prehash variant with an empty context, which is what Go's
//!   `crypto/ed25519` does with `Options{Hash: crypto.SHA512}`; it is computed from a digest
//!   that was hashed elsewhere.
//! - Verification is strict (no small-order `R` or public key, canonical `S`) and the same
//!   whether the message is in memory or streamed.
//! - Streaming pure Ed25519 signing reads the message twice; if the two passes differ the
//!   signature is discarded, because a signature over two different messages with one nonce
//!   would reveal the private key.

use std::cell::{Cell, RefCell};

use ed25519_dalek::hazmat::{self, ExpandedSecretKey};
use ed25519_dalek::{Signature, SignatureError, Signer as _, SigningKey, VerifyingKey};
use sha2::Sha512;
use sha2::digest::typenum::U64;
use sha2::digest::{Digest as _, FixedOutput, HashMarker, Output, OutputSizeUser, Update};
use zeroize::Zeroizing;

use crate::{CryptoError, MessageSource};

/// A SHA-512 digest computed elsewhere, presented to ed25519-dalek as a finished hasher.
///
/// ed25519-dalek's prehash API takes the hasher state and only ever calls `finalize` on it.
#[derive(Clone)]
struct Prehashed([u8; 64]);

impl Default for Prehashed {
    fn default() -> Self {
        Self([0; 64])
    }
}

impl OutputSizeUser for Prehashed {
    type OutputSize = U64;
}

impl Update for Prehashed {
    fn update(&mut self, _data: &[u8]) {
        // Never fed: the digest is already complete.
    }
}

impl FixedOutput for Prehashed {
    fn finalize_into(self, out: &mut Output<Self>) {
        out.copy_from_slice(&self.0);
    }
}

impl HashMarker for Prehashed {}

fn prehashed(digest: &[u8]) -> Result<Prehashed, CryptoError> {
    <[u8; 64]>::try_from(digest)
        .map(Prehashed)
        .map_err(|_| CryptoError::Internal("Ed25519ph needs a 64-byte SHA-512 digest".to_owned()))
}

fn parse_signature(sig: &[u8]) -> Result<Signature, CryptoError> {
    Signature::from_slice(sig).map_err(|_| CryptoError::InvalidSignature)
}

/// The checks `verify_strict` adds to plain verification: neither the public key nor the
/// signature's `R` may be a small-order point (nor may `R` fail to decode).
fn strict_precheck(key: &VerifyingKey, sig: &Signature) -> Result<(), CryptoError> {
    let r = VerifyingKey::from_bytes(sig.r_bytes()).map_err(|_| CryptoError::InvalidSignature)?;
    if key.is_weak() || r.is_weak() {
        return Err(CryptoError::InvalidSignature);
    }
    Ok(())
}

/// Ed25519ph signature over a precomputed SHA-512 digest.
pub(crate) fn sign_ph(key: &SigningKey, digest: &[u8]) -> Result<Vec<u8>, CryptoError> {
    key.sign_prehashed(prehashed(digest)?, None)
        .map(|sig| sig.to_bytes().to_vec())
        .map_err(|e| CryptoError::Internal(format!("Ed25519ph signing: {e}")))
}

/// Strict Ed25519ph verification over a precomputed SHA-512 digest.
pub(crate) fn verify_ph(key: &VerifyingKey, digest: &[u8], sig: &[u8]) -> Result<(), CryptoError> {
    let sig = parse_signature(sig)?;
    key.verify_prehashed_strict(prehashed(digest)?, None, &sig)
        .map_err(|_| CryptoError::InvalidSignature)
}

/// Pure Ed25519 signature over an in-memory message.
pub(crate) fn sign(key: &SigningKey, message: &[u8]) -> Vec<u8> {
    key.sign(message).to_bytes().to_vec()
}

/// Strict pure Ed25519 verification over an in-memory message.
pub(crate) fn verify(key: &VerifyingKey, message: &[u8], sig: &[u8]) -> Result<(), CryptoError> {
    let sig = parse_signature(sig)?;
    key.verify_strict(message, &sig)
        .map_err(|_| CryptoError::InvalidSignature)
}

/// A strict pure Ed25519 verifier for a streamed message.
pub(crate) fn stream_verifier(
    key: &VerifyingKey,
    sig: &[u8],
) -> Result<ed25519_dalek::StreamVerifier, CryptoError> {
    let sig = parse_signature(sig)?;
    strict_precheck(key, &sig)?;
    key.verify_stream(&sig)
        .map_err(|_| CryptoError::InvalidSignature)
}

/// Pure Ed25519 signature over a message fed twice by `source`.
pub(crate) fn sign_stream(
    key: &SigningKey,
    source: &mut dyn MessageSource,
) -> Result<Vec<u8>, CryptoError> {
    let esk = ExpandedSecretKey::from(key.as_bytes());
    let verifying_key = key.verifying_key();
    let source = RefCell::new(source);
    let io_error = RefCell::new(None);
    let pass = Cell::new(0u32);
    // SHA-512(prefix || M) from the first pass: the nonce seed, so secret.
    let first = RefCell::new(Zeroizing::new([0u8; 64]));
    let changed = Cell::new(false);

    let result = hazmat::raw_sign_byupdate::<Sha512, _>(
        &esk,
        |h: &mut Sha512| {
            let this_pass = pass.get();
            pass.set(this_pass + 1);
            let mut source = source.try_borrow_mut().map_err(|_| SignatureError::new())?;
            let fed = if this_pass == 0 {
                // h = SHA-512(prefix) so far; after the message it is the nonce hash.
                let fed = source.feed(&mut |chunk| Update::update(h, chunk));
                let mut first = first.try_borrow_mut().map_err(|_| SignatureError::new())?;
                first.copy_from_slice(&h.clone().finalize());
                fed
            } else {
                // h = SHA-512(R || A) so far; recompute SHA-512(prefix || M) alongside.
                let mut check = Sha512::new();
                Update::update(&mut check, &esk.hash_prefix);
                let fed = source.feed(&mut |chunk| {
                    Update::update(h, chunk);
                    Update::update(&mut check, chunk);
                });
                let again = Zeroizing::new(<[u8; 64]>::from(check.finalize()));
                let first = first.try_borrow().map_err(|_| SignatureError::new())?;
                if **first != *again {
                    changed.set(true);
                }
                fed
            };
            fed.map_err(|e| {
                if let Ok(mut slot) = io_error.try_borrow_mut() {
                    *slot = Some(e);
                }
                SignatureError::new()
            })
        },
        &verifying_key,
    );

    if let Some(e) = io_error.into_inner() {
        return Err(CryptoError::Io(e));
    }
    let sig = result.map_err(|e| CryptoError::Internal(format!("Ed25519 signing: {e}")))?;
    if changed.get() || pass.get() != 2 {
        return Err(CryptoError::MessageChanged);
    }
    Ok(sig.to_bytes().to_vec())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unhex(s: &str) -> Vec<u8> {
        hex::decode(s.split_whitespace().collect::<String>()).unwrap()
    }

    /// RFC 8032 section 7.3, "TEST abc" (Ed25519ph).
    #[test]
    fn rfc8032_ed25519ph_test_abc() {
        let seed: [u8; 32] =
            unhex("833fe62409237b9d62ec77587520911e9a759cec1d19755b7da901b96dca3d42")
                .try_into()
                .unwrap();
        let key = SigningKey::from_bytes(&seed);
        assert_eq!(
            key.verifying_key().as_bytes().to_vec(),
            unhex("ec172b93ad5e563bf4932c70e1245034c35467ef2efd4d64ebf819683467e2bf")
        );
        let expected = unhex(
            "98a70222f0b8121aa9d30f813d683f809e462b469c7ff87639499bb94e6dae41
             31f85042463c2a355a2003d062adf5aaa10b8c61e636062aaad11c2a26083406",
        );
        let digest = crate::hash(cosign_types::HashAlgorithm::Sha512, b"abc");
        let sig = sign_ph(&key, digest.as_bytes()).unwrap();
        assert_eq!(sig, expected);
        verify_ph(&key.verifying_key(), digest.as_bytes(), &sig).unwrap();
        assert!(verify_ph(&key.verifying_key(), digest.as_bytes(), &sig[..63]).is_err());
    }

    struct Chunks(Vec<Vec<u8>>);

    impl MessageSource for Chunks {
        fn feed(&mut self, sink: &mut dyn FnMut(&[u8])) -> std::io::Result<()> {
            for c in &self.0 {
                sink(c);
            }
            Ok(())
        }
    }

    /// A source whose content changes on the second pass.
    struct Changing(u32);

    impl MessageSource for Changing {
        fn feed(&mut self, sink: &mut dyn FnMut(&[u8])) -> std::io::Result<()> {
            self.0 += 1;
            sink(if self.0 == 1 { b"first" } else { b"other" });
            Ok(())
        }
    }

    #[test]
    fn streamed_pure_signature_equals_in_memory() {
        let key = SigningKey::from_bytes(&[7u8; 32]);
        let message: Vec<u8> = (0..100_000u32).map(|i| (i % 253) as u8).collect();
        let mut source = Chunks(message.chunks(4096).map(<[u8]>::to_vec).collect());
        let streamed = sign_stream(&key, &mut source).unwrap();
        assert_eq!(streamed, sign(&key, &message));
        verify(&key.verifying_key(), &message, &streamed).unwrap();
    }

    #[test]
    fn changed_message_releases_no_signature() {
        let key = SigningKey::from_bytes(&[9u8; 32]);
        assert!(matches!(
            sign_stream(&key, &mut Changing(0)),
            Err(CryptoError::MessageChanged)
        ));
    }

    #[test]
    fn small_order_public_key_is_refused() {
        // The identity point: every signature with R = identity and S = 0 "verifies"
        // non-strictly for it.
        let mut identity = [0u8; 32];
        identity[0] = 1;
        let weak = VerifyingKey::from_bytes(&identity).unwrap();
        let mut sig = [0u8; 64];
        sig[0] = 1;
        assert!(verify(&weak, b"anything", &sig).is_err());
        assert!(stream_verifier(&weak, &sig).is_err());
    }
}
