//! Signing digests with a key on a token.

use std::sync::Mutex;

use cosign_crypto::{KeyType, PublicKey, SignatureScheme};
use cosign_types::{Digest, HashAlgorithm};
use cryptoki::mechanism::{Mechanism, MechanismType};
use cryptoki::object::{KeyType as CkKeyType, ObjectHandle};
use cryptoki::session::Session;

use super::locate::{Located, locate};
use super::session::token_err;
use super::{PinPrompt, Pkcs11Error, Pkcs11Settings};
use crate::encoding::ecdsa_raw_to_der;
use crate::pkcs11_uri::Pkcs11Uri;
use crate::signer::{BoxFuture, KmsError, RemoteSigner};

/// How the token signs for this key.
#[derive(Clone, Copy, Debug)]
enum SignKind {
    Ecdsa,
    Rsa,
}

/// The DER DigestInfo prefix of PKCS#1 v1.5 signatures.
fn digest_info_prefix(alg: HashAlgorithm) -> &'static [u8] {
    match alg {
        HashAlgorithm::Sha256 => &[
            0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02,
            0x01, 0x05, 0x00, 0x04, 0x20,
        ],
        HashAlgorithm::Sha384 => &[
            0x30, 0x41, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02,
            0x02, 0x05, 0x00, 0x04, 0x30,
        ],
        HashAlgorithm::Sha512 => &[
            0x30, 0x51, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02,
            0x03, 0x05, 0x00, 0x04, 0x40,
        ],
    }
}

/// A signing key on a PKCS#11 token. Implements [`RemoteSigner`]; the session stays open (and
/// logged in) until it is dropped.
pub struct Pkcs11Signer {
    reference: String,
    token: String,
    key: String,
    public_key: PublicKey,
    certificate_pem: Option<String>,
    handle: ObjectHandle,
    kind: SignKind,
    session: Mutex<Session>,
}

impl std::fmt::Debug for Pkcs11Signer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pkcs11Signer")
            .field("reference", &self.reference)
            .field("public_key", &self.public_key)
            .field("certificate", &self.certificate_pem.is_some())
            .finish()
    }
}

impl Pkcs11Signer {
    /// Opens the key the URI names. The PIN comes from the URI, else `settings`, else `prompt`
    /// (called only when the token requires a login). A certificate object beside the key
    /// (same `CKA_ID`, else same label) becomes [`RemoteSigner::certificate_pem`] unless
    /// `settings.ignore_certificate`; it must hold the key's public key.
    pub fn open(
        uri: &Pkcs11Uri,
        settings: &Pkcs11Settings,
        prompt: Option<PinPrompt<'_>>,
    ) -> Result<Self, Pkcs11Error> {
        let located = locate(uri, settings, prompt, true)?;
        let Located {
            ctx,
            session,
            slot,
            token,
            key,
            private,
            public_key,
            certificate,
        } = located;
        let Some((handle, ck_type)) = private else {
            return Err(Pkcs11Error::KeyNotFound {
                token,
                key,
                hint: "",
            });
        };
        let (kind, mechanism, mechanism_name) = match ck_type {
            t if t == CkKeyType::EC => (SignKind::Ecdsa, MechanismType::ECDSA, "CKM_ECDSA"),
            t if t == CkKeyType::RSA => (SignKind::Rsa, MechanismType::RSA_PKCS, "CKM_RSA_PKCS"),
            other => {
                return Err(Pkcs11Error::UnsupportedKey {
                    token,
                    key,
                    reason: format!("{other} keys are not supported (only EC and RSA)"),
                });
            }
        };
        let key_matches_kind = matches!(
            (kind, public_key.key_type()),
            (
                SignKind::Ecdsa,
                KeyType::EcdsaP256 | KeyType::EcdsaP384 | KeyType::EcdsaP521
            ) | (SignKind::Rsa, KeyType::Rsa { .. })
        );
        if !key_matches_kind {
            return Err(Pkcs11Error::PublicKey {
                token,
                key,
                reason: format!(
                    "the public key ({}) does not fit the private key",
                    public_key.key_type()
                ),
            });
        }
        let mechanisms = ctx
            .get_mechanism_list(slot)
            .map_err(|e| token_err("listing mechanisms", &token, &e))?;
        if !mechanisms.contains(&mechanism) {
            return Err(Pkcs11Error::MechanismUnsupported {
                token,
                key,
                mechanism: mechanism_name,
            });
        }
        let certificate_pem = match certificate {
            Some((pem, cert_key)) => {
                if cert_key != public_key {
                    return Err(Pkcs11Error::CertificateMismatch { token, key });
                }
                Some(pem)
            }
            None => None,
        };
        Ok(Self {
            reference: uri.to_string(),
            token,
            key,
            public_key,
            certificate_pem,
            handle,
            kind,
            session: Mutex::new(session),
        })
    }

    /// The label of the token the key is on.
    pub fn token_label(&self) -> &str {
        &self.token
    }

    fn sign_now(&self, scheme: SignatureScheme, digest: &Digest) -> Result<Vec<u8>, Pkcs11Error> {
        let bad = |reason: String| Pkcs11Error::Signing {
            token: self.token.clone(),
            key: self.key.clone(),
            reason,
        };
        if !scheme.fits(self.public_key.key_type()) {
            return Err(bad(format!(
                "the {scheme} scheme does not fit this {} key",
                self.public_key.key_type()
            )));
        }
        if scheme.prehash() != Some(digest.algorithm()) {
            return Err(bad(format!(
                "the {scheme} scheme signs a different digest than {}",
                digest.algorithm().name()
            )));
        }
        let (mechanism, input) = match self.kind {
            SignKind::Ecdsa => (Mechanism::Ecdsa, digest.as_bytes().to_vec()),
            SignKind::Rsa => {
                let mut info = digest_info_prefix(digest.algorithm()).to_vec();
                info.extend_from_slice(digest.as_bytes());
                (Mechanism::RsaPkcs, info)
            }
        };
        let session = self.session.lock().unwrap_or_else(|p| p.into_inner());
        let raw = session
            .sign(&mechanism, self.handle, &input)
            .map_err(|e| token_err(&format!("signing with key {}", self.key), &self.token, &e))?;
        drop(session);
        match self.kind {
            SignKind::Ecdsa => ecdsa_raw_to_der(&raw).ok_or_else(|| {
                bad(format!(
                    "the token returned a {}-byte ECDSA signature",
                    raw.len()
                ))
            }),
            SignKind::Rsa => Ok(raw),
        }
    }
}

impl RemoteSigner for Pkcs11Signer {
    fn public_key(&self) -> &PublicKey {
        &self.public_key
    }

    fn reference(&self) -> String {
        self.reference.clone()
    }

    fn sign_digest<'a>(
        &'a self,
        scheme: SignatureScheme,
        digest: &'a Digest,
    ) -> BoxFuture<'a, Result<Vec<u8>, KmsError>> {
        // PKCS#11 calls are blocking and short (one C_Sign); run them in place.
        let result = self.sign_now(scheme, digest).map_err(KmsError::from);
        Box::pin(async move { result })
    }

    fn certificate_pem(&self) -> Option<String> {
        self.certificate_pem.clone()
    }
}
