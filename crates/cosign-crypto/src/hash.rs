//! Streaming SHA-2 hashing into [`Digest`] values.

use std::fmt;

use cosign_types::{Digest, HashAlgorithm};
use sha2::Digest as _;

use crate::CryptoError;

/// Streaming hasher (sha2 underneath, which uses SHA-NI/AVX2 when the CPU has them).
///
/// Feed it chunks of any size with [`Hasher::update`] (or as an [`std::io::Write`]), then take
/// the [`Digest`] with [`Hasher::finish`].
#[derive(Clone)]
pub struct Hasher(Inner);

#[derive(Clone)]
enum Inner {
    Sha256(sha2::Sha256),
    Sha384(sha2::Sha384),
    Sha512(sha2::Sha512),
}

impl Hasher {
    /// A hasher for `alg`.
    pub fn new(alg: HashAlgorithm) -> Self {
        Self(match alg {
            HashAlgorithm::Sha256 => Inner::Sha256(sha2::Sha256::new()),
            HashAlgorithm::Sha384 => Inner::Sha384(sha2::Sha384::new()),
            HashAlgorithm::Sha512 => Inner::Sha512(sha2::Sha512::new()),
        })
    }

    /// The algorithm this hasher computes.
    pub fn algorithm(&self) -> HashAlgorithm {
        match self.0 {
            Inner::Sha256(_) => HashAlgorithm::Sha256,
            Inner::Sha384(_) => HashAlgorithm::Sha384,
            Inner::Sha512(_) => HashAlgorithm::Sha512,
        }
    }

    /// Feeds more data.
    pub fn update(&mut self, data: &[u8]) {
        match &mut self.0 {
            Inner::Sha256(h) => h.update(data),
            Inner::Sha384(h) => h.update(data),
            Inner::Sha512(h) => h.update(data),
        }
    }

    /// The digest of everything fed so far.
    pub fn finish(self) -> Digest {
        let alg = self.algorithm();
        let bytes = match self.0 {
            Inner::Sha256(h) => h.finalize().to_vec(),
            Inner::Sha384(h) => h.finalize().to_vec(),
            Inner::Sha512(h) => h.finalize().to_vec(),
        };
        digest_from_output(alg, bytes)
    }
}

impl fmt::Debug for Hasher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Hasher({})", self.algorithm())
    }
}

impl std::io::Write for Hasher {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.update(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// The digest of `data` with `alg`.
pub fn hash(alg: HashAlgorithm, data: &[u8]) -> Digest {
    let mut hasher = Hasher::new(alg);
    hasher.update(data);
    hasher.finish()
}

/// Wraps the output of a sha2 hasher for `alg`.
///
/// The sha2 output types have exactly the algorithm's length, so `Digest::new` cannot refuse
/// them; this is the one place that relies on it.
pub(crate) fn digest_from_output(alg: HashAlgorithm, bytes: Vec<u8>) -> Digest {
    match Digest::new(alg, bytes) {
        Some(digest) => digest,
        None => unreachable!("sha2 output length always matches the hash algorithm"),
    }
}

/// The same digest as aws-lc-rs wants it for `sign_digest`/`verify_digest`.
pub(crate) fn to_aws_lc(digest: &Digest) -> Result<aws_lc_rs::digest::Digest, CryptoError> {
    let alg = match digest.algorithm() {
        HashAlgorithm::Sha256 => &aws_lc_rs::digest::SHA256,
        HashAlgorithm::Sha384 => &aws_lc_rs::digest::SHA384,
        HashAlgorithm::Sha512 => &aws_lc_rs::digest::SHA512,
    };
    aws_lc_rs::digest::Digest::import_less_safe(digest.as_bytes(), alg)
        .map_err(|_| CryptoError::Internal(format!("importing a {} digest", digest.algorithm())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_answers() {
        assert_eq!(
            hash(HashAlgorithm::Sha256, b"abc").hex(),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(
            hash(HashAlgorithm::Sha384, b"abc").hex(),
            "cb00753f45a35e8bb5a03d699ac65007272c32ab0eded1631a8b605a43ff5bed\
             8086072ba1e7cc2358baeca134c825a7"
        );
        assert_eq!(
            hash(HashAlgorithm::Sha512, b"abc").hex(),
            "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a\
             2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f"
        );
    }

    #[test]
    fn chunked_equals_whole() {
        let data: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8).collect();
        for alg in [
            HashAlgorithm::Sha256,
            HashAlgorithm::Sha384,
            HashAlgorithm::Sha512,
        ] {
            let mut hasher = Hasher::new(alg);
            for chunk in data.chunks(65_536) {
                hasher.update(chunk);
            }
            assert_eq!(hasher.finish(), hash(alg, &data));
        }
    }

    #[test]
    fn converts_for_aws_lc() {
        let digest = hash(HashAlgorithm::Sha384, b"x");
        let converted = to_aws_lc(&digest).unwrap();
        assert_eq!(converted.as_ref(), digest.as_bytes());
    }
}
