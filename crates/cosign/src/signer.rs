//! A signing key for the flows: a decrypted local key, or a key held by a KMS or a hardware
//! token (which signs digests only).

use cosign_crypto::{KeyType, PrivateKey, PublicKey, SignatureScheme};
use cosign_kms::RemoteSigner;
use cosign_types::Digest;

use crate::Error;

/// Where signatures come from.
pub enum Signer {
    /// A key decrypted into this process (cosign key file, `env://`).
    Local(Box<PrivateKey>),
    /// A key held elsewhere (KMS, PKCS#11).
    Remote(Box<dyn RemoteSigner>),
}

impl std::fmt::Debug for Signer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Local(k) => write!(f, "Signer::Local({:?})", k.key_type()),
            Self::Remote(r) => write!(f, "Signer::Remote({})", r.reference()),
        }
    }
}

impl Signer {
    /// The public key.
    pub fn public_key(&self) -> PublicKey {
        match self {
            Self::Local(k) => k.public_key(),
            Self::Remote(r) => r.public_key().clone(),
        }
    }

    /// The key type.
    pub fn key_type(&self) -> KeyType {
        self.public_key().key_type()
    }

    /// The scheme cosign uses with this key: the key type's default, with Ed25519ph when a
    /// transparency log records a digest or when the key is remote (only digests leave).
    pub fn scheme(&self, tlog: bool) -> SignatureScheme {
        match self {
            Self::Local(k) => k.key_type().default_scheme(tlog),
            Self::Remote(r) => r.public_key().key_type().default_scheme(true),
        }
    }

    /// A certificate kept with the key (PKCS#11 tokens).
    pub fn certificate_pem(&self) -> Option<String> {
        match self {
            Self::Local(_) => None,
            Self::Remote(r) => r.certificate_pem(),
        }
    }

    /// The decrypted key, when it is local.
    pub fn as_local(&self) -> Option<&PrivateKey> {
        match self {
            Self::Local(k) => Some(k.as_ref()),
            Self::Remote(_) => None,
        }
    }

    /// Signs a digest. A remote signature is checked against the public key before use, so a
    /// provider that answers garbage is caught here.
    pub async fn sign_digest(
        &self,
        scheme: SignatureScheme,
        digest: &Digest,
    ) -> Result<Vec<u8>, Error> {
        match self {
            Self::Local(k) => k
                .sign_digest(scheme, digest)
                .map_err(|e| Error::crypto("signing", e)),
            Self::Remote(r) => {
                let sig = r.sign_digest(scheme, digest).await.map_err(Error::Kms)?;
                r.public_key()
                    .verify_digest(scheme, digest, &sig)
                    .map_err(|_| {
                        Error::Verification(format!(
                            "{} returned a signature that does not verify with its public key",
                            r.reference()
                        ))
                    })?;
                Ok(sig)
            }
        }
    }

    /// Signs an in-memory message (a payload, a DSSE PAE).
    pub async fn sign_message(
        &self,
        scheme: SignatureScheme,
        message: &[u8],
    ) -> Result<Vec<u8>, Error> {
        match self {
            Self::Local(k) => k
                .sign_message(scheme, message)
                .map_err(|e| Error::crypto("signing", e)),
            Self::Remote(r) => {
                let alg = scheme.prehash().ok_or_else(|| Error::Invalid {
                    what: r.reference().to_string(),
                    reason: format!(
                        "can only sign digests; the {scheme} scheme signs whole messages"
                    ),
                })?;
                self.sign_digest(scheme, &cosign_crypto::hash(alg, message))
                    .await
            }
        }
    }
}
