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
    /// The provider refused or failed the request. When the cause is known (an [`ApiError`]
    /// answer, or the transport's, the file system's or a decoder's error) it is the
    /// [`std::error::Error::source`], and, flattened, the end of the message, so printing only
    /// this error loses nothing.
    #[error("{provider} ({key}): {message}{}", cause_suffix(source.as_deref()))]
    Provider {
        /// Provider name (`AWS KMS` ...).
        provider: String,
        /// The key reference.
        key: String,
        /// What was being done, and what went wrong as far as this crate can tell.
        message: String,
        /// The cause, when known.
        #[source]
        source: Option<Box<dyn std::error::Error + Send + Sync + 'static>>,
    },
    /// The scheme cannot be used with this key or provider.
    #[error("{0}")]
    Unsupported(String),
    /// A PKCS#11 token failed.
    #[error(transparent)]
    Pkcs11(#[from] crate::Pkcs11Error),
}

/// `: <cause chain>` for a known cause, nothing otherwise.
fn cause_suffix(source: Option<&(dyn std::error::Error + Send + Sync + 'static)>) -> String {
    source.map_or_else(String::new, |s| format!(": {}", crate::http::chain(s)))
}

impl KmsError {
    /// A [`KmsError::Provider`] failure (no underlying cause).
    pub fn provider(
        provider: impl Into<String>,
        key: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        Self::Provider {
            provider: provider.into(),
            key: key.into(),
            message: message.into(),
            source: None,
        }
    }

    /// The provider's API answer, when the provider refused the request with one.
    pub fn api_error(&self) -> Option<&ApiError> {
        match self {
            Self::Provider {
                source: Some(source),
                ..
            } => source.downcast_ref::<ApiError>(),
            _ => None,
        }
    }
}

/// An error answer of a provider's API: the HTTP status and the provider's own error code and
/// message (AWS `__type`, Google `status`, Azure `code`, Vault `errors`), as far as the answer
/// had them.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}", self.text())]
pub struct ApiError {
    /// The HTTP status.
    pub status: u16,
    /// The provider's error code (`NotFoundException`, `NOT_FOUND`, `KeyNotFound` ...); empty
    /// when the answer had none.
    pub code: String,
    /// The provider's message, or the start of the answer when it was not the provider's
    /// error format.
    pub message: String,
}

impl ApiError {
    fn text(&self) -> String {
        match (self.code.is_empty(), self.message.is_empty()) {
            (true, _) => format!("HTTP {}: {}", self.status, self.message),
            (false, true) => format!("HTTP {}: {}", self.status, self.code),
            (false, false) => format!("HTTP {}: {}: {}", self.status, self.code, self.message),
        }
    }
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
