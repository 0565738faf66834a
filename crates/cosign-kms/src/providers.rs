//! Dispatch from a KMS URI to its provider.

use cosign_crypto::PublicKey;

use crate::config::KmsConfig;
use crate::rest::Remote;
use crate::{KmsError, KmsProvider, RemoteSigner, aws, azure, gcp, vault};

/// A key made (or found) by `generate-key-pair --kms`.
#[derive(Debug, Clone)]
pub struct CreatedKey {
    /// Its public key.
    pub public_key: PublicKey,
    /// The URI to use it by (differs from the one given when the provider chose the name).
    pub reference: String,
    /// Whether a key was created (false: an existing key of that name was used).
    pub created: bool,
}

/// Checks a KMS URI's syntax without any I/O.
pub fn check_uri(provider: KmsProvider, uri: &str) -> Result<(), KmsError> {
    match provider {
        KmsProvider::Aws => aws::parse_uri(uri).map(drop),
        KmsProvider::Vault => vault::parse_uri(uri).map(drop),
        KmsProvider::Gcp => gcp::parse_uri(uri).map(drop),
        KmsProvider::Azure => azure::parse_uri(uri).map(drop),
    }
}

/// Opens a KMS key for signing: one key lookup and one public-key fetch. The signer signs
/// digests only; the private key never leaves the KMS.
pub async fn open_signer(
    provider: KmsProvider,
    uri: &str,
    cfg: &KmsConfig,
) -> Result<Box<dyn RemoteSigner>, KmsError> {
    Ok(match provider {
        KmsProvider::Aws => Box::new(Remote(aws::open(uri, cfg).await?)),
        KmsProvider::Vault => Box::new(Remote(vault::open(uri, cfg).await?)),
        KmsProvider::Gcp => Box::new(Remote(gcp::open(uri, cfg).await?)),
        KmsProvider::Azure => Box::new(Remote(azure::open(uri, cfg).await?)),
    })
}

/// The public key of a KMS key (for verification and `public-key`).
pub async fn public_key(
    provider: KmsProvider,
    uri: &str,
    cfg: &KmsConfig,
) -> Result<PublicKey, KmsError> {
    Ok(open_signer(provider, uri, cfg).await?.public_key().clone())
}

/// Creates a signing key in the KMS with the provider's default algorithm (ECDSA P-256), or
/// returns the existing key of that name, as sigstore does.
pub async fn create_key(
    provider: KmsProvider,
    uri: &str,
    cfg: &KmsConfig,
) -> Result<CreatedKey, KmsError> {
    match provider {
        KmsProvider::Aws => aws::create(uri, cfg).await,
        KmsProvider::Vault => vault::create(uri, cfg).await,
        KmsProvider::Gcp => gcp::create(uri, cfg).await,
        KmsProvider::Azure => azure::create(uri, cfg).await,
    }
}
