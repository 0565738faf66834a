//! Keys that never leave their home (a KMS or a hardware token): a signer that holds only the
//! public key and asks its provider to sign digests.

use std::future::Future;
use std::pin::Pin;

use cosign_crypto::{PublicKey, SignatureScheme};
use cosign_types::Digest;

/// A boxed future, as trait objects need.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Why a remote signer failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum KmsError {
    /// The provider refused or failed the request.
    #[error("{provider} ({key}): {message}")]
    Provider {
        /// Provider name (`AWS KMS` ...).
        provider: String,
        /// The key reference.
        key: String,
        /// What went wrong.
        message: String,
    },
    /// The scheme cannot be used with this key or provider.
    #[error("{0}")]
    Unsupported(String),
    /// A PKCS#11 token failed.
    #[error(transparent)]
    Pkcs11(#[from] crate::Pkcs11Error),
}

/// A signing key held by a provider. Only digests leave this process.
pub trait RemoteSigner: Send + Sync {
    /// The key's public key (fetched once when the signer was opened).
    fn public_key(&self) -> &PublicKey;
    /// The key reference, for messages.
    fn reference(&self) -> String;
    /// Signs `digest` with `scheme` (always a prehash scheme). The signature must verify with
    /// [`RemoteSigner::public_key`]; callers check it.
    fn sign_digest<'a>(
        &'a self,
        scheme: SignatureScheme,
        digest: &'a Digest,
    ) -> BoxFuture<'a, Result<Vec<u8>, KmsError>>;
    /// A certificate stored beside the key (PKCS#11 tokens), as PEM.
    fn certificate_pem(&self) -> Option<String> {
        None
    }
}
